"""Streaming multipart/form-data parsing: the `file` part goes straight to a PartialFile, fields to memory."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.files.store import PartialFile

FILE_FIELD = "file"
# Text fields are small (purpose, expiry); these bounds keep a hostile form from filling memory.
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
MAX_FILENAME = 512
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Upload:
    """What the form held besides the file's bytes."""

    fields: dict[str, str] = field(default_factory=dict)
    # None when the form had no file part.
    filename: str | None = None


def _bad_form(message: str, param: str | None = FILE_FIELD) -> InvalidArgumentError:
    return InvalidArgumentError(message, param=param, code="invalid_value")


def clean_filename(raw: str) -> str:
    """The base name without directories or control characters, at most MAX_FILENAME characters."""
    name = _UNSAFE_FILENAME.sub("", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[:MAX_FILENAME] or "upload"


class _Collector:
    """Parser callbacks record events; they are applied between chunks, where awaiting is allowed."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self._header_name = b""
        self._header_value = b""

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": lambda: self.events.append(("begin", None)),
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_part_data": lambda data, start, end: self.events.append(("data", bytes(data[start:end]))),
            "on_part_end": lambda: self.events.append(("end", None)),
        }

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self.events.append(("header", (self._header_name.lower(), self._header_value)))
        self._header_name, self._header_value = b"", b""


class _Part:
    """The part being read: a text field, the file, or something skipped."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.filename: str | None = None
        self.value = bytearray()

    def header(self, name: bytes, value: bytes) -> None:
        if name != b"content-disposition":
            return
        _, options = parse_options_header(value)
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            self.filename = options[b"filename"].decode("utf-8", "replace")


async def receive_upload(chunks: AsyncIterator[bytes], content_type: str, sink: PartialFile) -> Upload:
    """Parses the form as it streams in, writing the `file` part's bytes into `sink`."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise _bad_form(
            "Uploads must be multipart/form-data with a 'file' part and a 'purpose' field.", param=None
        )
    collector = _Collector()
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    upload = Upload()
    part = _Part()
    try:
        async for chunk in chunks:
            parser.write(chunk)
            part = await _apply(collector, part, upload, sink)
        parser.finalize()
        await _apply(collector, part, upload, sink)
    except FormParserError as error:
        raise _bad_form(f"The multipart body could not be parsed: {error}.", param=None) from None
    return upload


async def _apply(collector: _Collector, part: _Part, upload: Upload, sink: PartialFile) -> _Part:
    events, collector.events = collector.events, []
    for event, payload in events:
        if event == "begin":
            part = _Part()
        elif event == "header":
            part.header(*payload)
        elif event == "data":
            if part.name == FILE_FIELD and part.filename is not None:
                await sink.write(payload)
            else:
                part.value += payload
                if len(part.value) > MAX_FIELD_BYTES:
                    raise _bad_form(f"Form field '{part.name}' is too long.", param=part.name)
        elif event == "end":
            _finish(part, upload)
    return part


def _finish(part: _Part, upload: Upload) -> None:
    if part.name == FILE_FIELD and part.filename is not None:
        if upload.filename is not None:
            raise _bad_form("Upload exactly one file per request.")
        upload.filename = clean_filename(part.filename)
        return
    if part.name == FILE_FIELD:
        raise _bad_form("'file' must be a file part (with a filename), not a text field.")
    if part.name:
        if len(upload.fields) >= MAX_FIELDS:
            raise _bad_form("Too many form fields.", param=None)
        upload.fields[part.name] = part.value.decode("utf-8", "replace")
