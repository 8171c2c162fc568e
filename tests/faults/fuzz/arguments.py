"""libFuzzer's arguments for a target script: its seed corpus and dictionary written where they are
wanted, so nothing binary is committed."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path


def libfuzzer_arguments(
    argv: Sequence[str], seeds: Sequence[bytes], dictionary: Sequence[str] = ()
) -> list[str]:
    """`argv` with a corpus directory seeded (the first one named, when empty, else a new temporary
    one) and a dictionary file, unless `argv` names its own. A file named instead of a directory is a
    single input to replay, and left alone."""
    out = list(argv)
    inputs = [Path(arg) for arg in out[1:] if not arg.startswith("-")]
    if not inputs:
        corpus = Path(tempfile.mkdtemp(prefix="fuzz-corpus-"))
        out.append(str(corpus))
    elif inputs[0].is_dir():
        corpus = inputs[0]
    else:
        return out
    if not any(corpus.iterdir()):
        for number, seed in enumerate(seeds):
            (corpus / f"seed-{number}").write_bytes(seed)
    if dictionary and not any(arg.startswith("-dict=") for arg in out):
        words = corpus.parent / f"{corpus.name}.dict"
        words.write_text("".join(f'"{_dictionary_entry(word)}"\n' for word in dictionary))
        out.append(f"-dict={words}")
    return out


def _dictionary_entry(word: str) -> str:
    """`word` as libFuzzer's dictionary format spells it: printable ASCII, other bytes as \\xNN."""
    return "".join(
        chr(byte) if 32 <= byte < 127 and byte not in b'"\\' else f"\\x{byte:02x}" for byte in word.encode()
    )
