"""Decompression bombs among knowledge uploads: refused with a clear error, never inflated whole.

The extractors read no zip-based format (a DOCX is refused by its name, and zip bytes without one as
binary); the one format that inflates is PDF, whose Flate streams pypdf decompresses up to a limit.
Both bombs are built here from highly compressible bytes, so no binary is committed."""

from __future__ import annotations

import io
import resource
import zipfile
import zlib

import pytest

from tuneway.core.errors import InvalidArgumentError
from tuneway.retriever.extract import parse_file

MIB = 1 << 20
# The extractor's peak memory may grow by this much on a bomb that inflates to 256 MiB or more.
HEADROOM_KB = 150 * 1024


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def docx_bomb(inflated_mib: int) -> bytes:
    """A DOCX-shaped zip whose word/document.xml inflates to `inflated_mib` MiB of one repeated run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"<w:r><w:t>aaaaaaaa</w:t></w:r>" * (MIB // 30)
            for _ in range(inflated_mib):
                member.write(block)
    return buffer.getvalue()


def pdf_bomb(inflated_mib: int) -> bytes:
    """A one-page PDF whose FlateDecode content stream inflates to `inflated_mib` MiB of spaces."""
    compressor = zlib.compressobj(9)
    block = b" " * MIB
    stream = b"".join(compressor.compress(block) for _ in range(inflated_mib)) + compressor.flush()
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        4: b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(
        b"%010d 00000 n \n" % offsets[n] for n in range(1, 6)
    )
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


@pytest.fixture(scope="module")
def docx_512_mib() -> bytes:
    return docx_bomb(512)


@pytest.mark.parametrize(
    ("filename", "format_", "message"),
    [
        ("policy.docx", "", "Unsupported file type '.docx'"),
        ("policy", "", "looks like a binary file"),  # no name to go by: sniffed as binary
        ("policy.txt", "", "looks like a binary file"),
        ("policy.docx", "markdown", "looks like a binary file"),
    ],
)
def test_a_docx_zip_bomb_is_refused_without_inflating_it(
    docx_512_mib: bytes, filename: str, format_: str, message: str
) -> None:
    data = docx_512_mib
    assert len(data) < 4 * MIB  # half a gigabyte of XML in a few megabytes
    before = _peak_kb()
    with pytest.raises(InvalidArgumentError) as caught:
        parse_file(data, filename, format_)
    assert message in caught.value.message and caught.value.param == "file"
    assert _peak_kb() - before < HEADROOM_KB


def test_a_pdf_flate_bomb_stops_at_the_decompression_limit() -> None:
    data = pdf_bomb(256)
    assert len(data) < MIB
    before = _peak_kb()
    with pytest.raises(InvalidArgumentError) as caught:
        parse_file(data, "report.pdf", "")
    assert "could not be read as a PDF: Limit reached while decompressing" in caught.value.message
    assert caught.value.param == "file" and caught.value.code == "invalid_file"
    assert _peak_kb() - before < HEADROOM_KB
