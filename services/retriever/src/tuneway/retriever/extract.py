"""Turns an uploaded file into documents of titled sections: plain text, markdown, HTML, PDF, JSONL."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tuneway.core.errors import InvalidArgumentError
from tuneway.retriever.markdown import Section, markdown_sections

FORMATS = ("txt", "markdown", "html", "pdf", "jsonl")
_EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_FORMAT_ALIASES = {"text": "txt", "md": "markdown", "htm": "html", "ndjson": "jsonl"}
MAX_JSONL_DOCUMENTS = 10_000
# The most a PDF stream may inflate to. A page's text rarely takes 1 MB; pypdf's own bound (75 MB per
# stream) let a 260 KB upload make the extractor hold about 160 MB before it refused the file.
PDF_MAX_STREAM_BYTES = 8_000_000
# The most tags an HTML upload may hold. bs4 keeps about 600 bytes per element, so a 64 MiB upload of
# bare tags would take some 12 GB; this bound keeps a page's tree under about 150 MB. Long handbooks
# hold tens of thousands of elements.
MAX_HTML_TAGS = 250_000


@dataclass
class Parsed:
    """One document read from a file: its title, format and sections."""

    title: str
    format: str
    sections: list[Section]
    source: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def _bad(message: str, param: str = "file") -> InvalidArgumentError:
    return InvalidArgumentError(message, param=param, code="invalid_file")


def detect_format(filename: str, format_: str, data: bytes) -> str:
    """The format named by `format_`, else by the file's extension, else sniffed from its bytes."""
    if format_:
        name = _FORMAT_ALIASES.get(format_.lower(), format_.lower())
        if name not in FORMATS:
            raise _bad(f"Unsupported format '{format_}'; supported: {', '.join(FORMATS)}.", "format")
        return name
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if suffix:
        supported = ", ".join(sorted(_EXTENSIONS))
        raise _bad(f"Unsupported file type '{suffix}' ({filename}); supported: {supported}.")
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "html"
    return "txt"


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 text of `data` (a BOM is fine); binary or other encodings are refused."""
    if b"\x00" in data[:8192]:
        raise _bad(f"{what} looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _bad(f"{what} is not valid UTF-8 text (invalid byte at offset {error.start}).") from None


def parse_file(data: bytes, filename: str, format_: str) -> list[Parsed]:
    """The documents in the file; InvalidArgumentError naming the problem if it cannot be read."""
    what = f"The file '{filename}'" if filename else "The file"
    if not data.strip():
        raise _bad(f"{what} is empty.")
    kind = detect_format(filename, format_, data)
    if kind == "jsonl":
        return _jsonl(decode_text(data, what), what)
    if kind == "pdf":
        title, text = _pdf(data, what)
        parsed = Parsed(title, kind, [Section("", text)])
    elif kind == "html":
        title, text = _html(data, what)
        sections, heading = markdown_sections(text)
        parsed = Parsed(title or heading, kind, sections)
    elif kind == "markdown":
        sections, heading = markdown_sections(decode_text(data, what))
        parsed = Parsed(heading, kind, sections)
    else:
        parsed = Parsed("", kind, [Section("", decode_text(data, what))])
    if not any(s.text.strip() for s in parsed.sections):
        raise _bad(f"{what} contains no text to index.")
    parsed.title = parsed.title or PurePosixPath(filename).stem
    return [parsed]


def _html(data: bytes, what: str) -> tuple[str, str]:
    """Title and markdown-ish text of an HTML page."""
    from bs4.exceptions import ParserRejectedMarkup

    from tuneway.retriever.html import html_to_markdown

    if (tags := data.count(b"<")) > MAX_HTML_TAGS:
        raise _bad(f"{what} has {tags} HTML tags, more than {MAX_HTML_TAGS} can be read; split it.")
    try:
        return html_to_markdown(data)
    except ParserRejectedMarkup as error:
        # Python's html.parser refuses some markup outright (a marked section like "<![DOCTYPE"); the
        # last line of bs4's message names what it refused.
        reason = str(error).strip().splitlines()[-1].strip()
        raise _bad(f"{what} could not be read as HTML: {reason}.") from None


def _pdf(data: bytes, what: str) -> tuple[str, str]:
    """Title and text of a PDF, page by page."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF-"):
        raise _bad(f"{what} is not a PDF (it does not start with %PDF-).")
    try:
        with apply_configuration(
            zlib_maximum_output_length=PDF_MAX_STREAM_BYTES,
            lzw_maximum_output_length=PDF_MAX_STREAM_BYTES,
            run_length_maximum_output_length=PDF_MAX_STREAM_BYTES,
            brotli_maximum_output_length=PDF_MAX_STREAM_BYTES,
            array_based_stream_maximum_output_length=PDF_MAX_STREAM_BYTES,
            maximum_declared_stream_length=PDF_MAX_STREAM_BYTES,
        ):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise _bad(f"{what} is an encrypted PDF; upload it without a password.")
            pages = [page.extract_text() or "" for page in reader.pages]
            title = str(reader.metadata.title or "") if reader.metadata else ""
    except InvalidArgumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise _bad(f"{what} could not be read as a PDF: {error}.") from None
    except Exception as error:
        # pypdf meets some malformed files with its internal assertions (an object reference inside a
        # content stream), IndexError, AttributeError or RecursionError: each says the file is not a
        # readable PDF, which is the uploader's to fix, not an internal error.
        raise _bad(f"{what} could not be read as a PDF: it is malformed ({type(error).__name__}).") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise _bad(f"{what} has no extractable text (a scanned PDF needs OCR first).")
    return title.strip(), text


def _jsonl(text: str, what: str) -> list[Parsed]:
    """One document per line: {"text": ..., "title"?, "source"?, "format"?, "metadata"?}."""
    documents: list[Parsed] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{what}, line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise _bad(f"{where} is not valid JSON: {error.msg}.") from None
        if not isinstance(record, dict):
            raise _bad(f"{where} must be a JSON object with a 'text' field.")
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            raise _bad(f"{where} needs a non-empty string 'text'.")
        metadata = record.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(
            isinstance(v, str | int | float | bool) for v in metadata.values()
        ):
            raise _bad(f"{where}: 'metadata' must be an object of strings, numbers or booleans.")
        kind = str(record.get("format") or "markdown")
        if kind not in ("txt", "markdown", "text", "md"):
            raise _bad(f"{where}: 'format' must be txt or markdown.")
        sections, heading = (
            markdown_sections(body) if kind in ("markdown", "md") else ([Section("", body)], "")
        )
        title = str(record.get("title") or heading or f"line {number}")
        source = str(record.get("source") or "")
        documents.append(Parsed(title, kind, sections, source, {k: str(v) for k, v in metadata.items()}))
        if len(documents) > MAX_JSONL_DOCUMENTS:
            raise _bad(f"{what} has more than {MAX_JSONL_DOCUMENTS} documents; split it.")
    if not documents:
        raise _bad(f"{what} contains no documents.")
    return documents
