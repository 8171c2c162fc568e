"""atheris target: an uploaded training file through the trainer's prepare_dataset, the code that
ValidateDataset and every job run on it (decode, JSONL/CSV/TSV/text/markdown readers, cleaning,
validation, tokenizing, splitting).

Whatever the bytes, prepare_dataset answers with a report: its errors are the domain's validation
errors. Any exception is a defect (the RPC would answer INTERNAL), so nothing is caught here.

Input layout: byte 0 picks the file's extension, byte 1 the options, the rest is the file.
Run by tests/faults/test_fuzz.py; on its own: `python tests/faults/fuzz/dataset_parsers.py
-max_total_time=60` (a crash file as the only argument replays it).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris
from arguments import libfuzzer_arguments

# Loaded before instrumentation: the tokenizer is not what is fuzzed, and instrumenting it is slow.
from transformers import AutoTokenizer

from tuneway.devstack.demo_model import build_demo_model

with atheris.instrument_imports(include=["tuneway.trainer.datasets"]):
    from tuneway.trainer.datasets import PrepareOptions, prepare_dataset
    from tuneway.trainer.datasets.prepare import _READERS

REPO = Path(__file__).resolve().parents[3]
SUFFIXES = [*sorted(_READERS), ".xlsx"]
SEQ_LENGTHS = (8, 64, 1024)
SPLITS = (None, 0.0, 0.5)
EXAMPLES = REPO / "examples" / "datasets"
# The readers' keys and values, which random mutation would take long to spell.
DICTIONARY = [
    '"messages"',
    '"role"',
    '"content"',
    '"user"',
    '"assistant"',
    '"system"',
    '"tool"',
    '"weight"',
    '"prompt"',
    '"completion"',
    '"tool_calls"',
    '"function_call"',
    '"name"',
    '"text"',
    '"type"',
    "question",
    "answer",
    "input",
    "output",
    "\ufeff",
    "\r\n",
    '""',
    "```",
    "# ",
    "null",
    "true",
]

TOKENIZER = AutoTokenizer.from_pretrained(build_demo_model(REPO / "var" / "models" / "tuneway-tiny"))
WORKDIR = Path(tempfile.mkdtemp(prefix="fuzz-datasets-"))


def options(flags: int) -> PrepareOptions:
    return PrepareOptions(
        scrub_pii=bool(flags & 1),
        max_seq_length=SEQ_LENGTHS[(flags >> 1) % len(SEQ_LENGTHS)],
        validation_split=SPLITS[(flags >> 3) % len(SPLITS)],
        min_examples=1 if flags & 0x20 else 10,
    )


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    suffix = SUFFIXES[data[0] % len(SUFFIXES)]
    path = WORKDIR / f"upload{suffix}"
    path.write_bytes(data[2:])
    prepared = prepare_dataset(path, filename=path.name, tokenizer=TOKENIZER, options=options(data[1]))
    # A report that is not ok names at least one error; one that is ok holds what it counted.
    report = prepared.report
    if not report.ok and not report.errors:
        raise AssertionError("a failed report without an error")
    if report.ok and len(prepared.train) + len(prepared.validation) != report.examples:
        raise AssertionError(
            f"{report.examples} examples reported, {len(prepared.train)} + "
            f"{len(prepared.validation)} prepared"
        )


def seeds() -> list[bytes]:
    """The shipped example dataset and a few small files of every format, each with every extension
    that reads it."""
    jsonl = (EXAMPLES / "shop-support.jsonl").read_bytes()
    files = {
        ".jsonl": [
            jsonl,
            b'{"prompt": "Hi", "completion": "Hello"}\n' * 3,
            b'{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A",'
            b' "weight": 0}]}\r\n{"messages": [{"role": "system", "content": "S"}, {"role": "user",'
            b' "content": [{"type": "text", "text": "Q"}]}, {"role": "assistant", "tool_calls": []}]}\n',
        ],
        ".csv": [b'question,answer\nq1,a1\n"q,2","a""2"""\n', b"prompt,completion\r\nx,y\r\n"],
        ".tsv": [b"prompt\tcompletion\nx\ty\n"],
        ".txt": [b"First paragraph.\n\nSecond paragraph, my email is a@b.example.\n"],
        ".md": [b"# Title\n\nBody.\n\n## Part\n\n```\n# code\n```\n"],
    }
    out = []
    for suffix, contents in files.items():
        for content in contents:
            for flags in (0, 0x21):
                out.append(bytes([SUFFIXES.index(suffix), flags]) + content)
    return out


def main() -> None:
    atheris.Setup(libfuzzer_arguments(sys.argv, seeds(), DICTIONARY), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
