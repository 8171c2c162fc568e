"""atheris target: a knowledge upload through the retriever's parse_file and chunk_sections, the code
AddDocument runs on it (format detection, UTF-8 decoding, markdown, HTML, PDF and JSONL extraction, then
token-aware chunking with the embedder's tokenizer).

The domain's validation error for a file it cannot read is InvalidArgumentError (a 400 naming the
problem); it is the only exception caught. Anything else would answer INTERNAL, and crashes the fuzzer.

Input layout: byte 0 picks the file name (or an explicit format), byte 1 the chunk size and overlap,
the rest is the file. Run by tests/faults/test_fuzz.py; on its own: `python
tests/faults/fuzz/document_extractors.py -max_total_time=60` (a crash file as the only argument replays it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris
from arguments import libfuzzer_arguments
from tokenizers import Tokenizer

from tuneway.core.errors import InvalidArgumentError
from tuneway.retriever.embedder import model_dir

# The parsers are instrumented so that coverage guides the fuzzer into them.
with atheris.instrument_imports(include=["tuneway.retriever", "pypdf", "bs4", "markdown_it"]):
    import bs4  # noqa: F401  (imported lazily by the extractor: instrumented here)
    import pypdf  # noqa: F401

    import tuneway.retriever.html  # noqa: F401
    from tuneway.retriever.chunking import chunk_sections
    from tuneway.retriever.extract import parse_file

REPO = Path(__file__).resolve().parents[3]
DOCUMENTS = REPO / "examples" / "knowledge" / "documents"
# (filename, format) pairs an upload may carry: by extension, by explicit format, sniffed, refused.
NAMES = [
    ("doc.txt", ""),
    ("doc.md", ""),
    ("doc.html", ""),
    ("doc.pdf", ""),
    ("doc.jsonl", ""),
    ("doc", ""),
    ("", "markdown"),
    ("", "html"),
    ("", "pdf"),
    ("x.bin", "jsonl"),
    ("doc.docx", ""),
    ("", "docx"),
]
SIZES = (16, 17, 64, 256, 512)

# The embedder's own tokenizer, loaded as the Embedder loads it, without its model.
TOKENIZER = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
TOKENIZER.no_padding()
TOKENIZER.no_truncation()


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    filename, format_ = NAMES[data[0] % len(NAMES)]
    size = SIZES[data[1] % len(SIZES)]
    overlap = (size // 2) * (data[1] >> 4) // 15
    try:
        documents = parse_file(data[2:], filename, format_)
    except InvalidArgumentError:
        return
    for document in documents:
        for chunk in chunk_sections(document.sections, TOKENIZER, size, overlap):
            if not chunk.text.strip():
                raise AssertionError(f"an empty chunk: {chunk}")


def seeds() -> list[bytes]:
    """The example knowledge documents (their PDF included) and a few small files of every format."""
    out = []
    by_suffix = {name.rsplit(".", 1)[-1]: index for index, (name, _) in enumerate(NAMES) if "." in name}
    for path in sorted(DOCUMENTS.iterdir()):
        index = by_suffix.get(path.suffix.lstrip("."))
        if index is not None:
            out.append(bytes([index, 0x52]) + path.read_bytes())
    small = [
        (0, b"One sentence. Another one!\n\nA paragraph.\n"),
        (1, b"# A\n\nalpha\n\n## B\n\n```\n# code\n```\n\n### C\nbeta\n"),
        (
            2,
            b"<html><head><title>T</title><script>x</script></head><body><h1>H</h1><ul><li>i</li></ul>"
            b"<table><tr><td>c</td></tr></table></body></html>",
        ),
        (
            4,
            b'{"text": "# A\\n\\nalpha", "metadata": {"lang": "en", "n": 3}}\n\n'
            b'{"title": "B", "text": "b"}\n',
        ),
        (5, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
    ]
    out.extend(bytes([index, 0x31]) + content for index, content in small)
    return out


def main() -> None:
    atheris.Setup(libfuzzer_arguments(sys.argv, seeds()), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
