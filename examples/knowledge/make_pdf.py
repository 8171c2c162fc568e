"""Writes documents/security-policy.pdf: a small text PDF built by hand, so no PDF library is needed."""

from __future__ import annotations

import textwrap
from pathlib import Path

SECURITY_POLICY = """Larkspur Labs Information Security Policy

Passwords and accounts

Passwords must be at least 14 characters long and unique to each service. Use the company password
manager to generate and store them. Multi-factor authentication is mandatory for email, the code
repository and the cloud console; hardware security keys are issued to every engineer.

Lost or stolen devices

Report a lost or stolen laptop or phone to security@larkspur.example within one hour. The security
team wipes the device remotely. Laptop disks are encrypted, so a prompt report keeps customer data
safe.

Removable media

USB storage sticks are not allowed on company laptops. Share files through the company drive
instead, with links that expire after 30 days for external recipients.

Phishing

Forward suspicious emails to phishing@larkspur.example and delete them. Never enter your single
sign-on password on a page reached from an email link. The security team runs a phishing
simulation every quarter.

Access reviews

Team leads review who has access to production systems every three months. Access of people who
leave the company is revoked on their last working day.
"""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(text: str, title: str = "", width: int = 90, lines_per_page: int = 48) -> bytes:
    """A valid PDF with `text` set in Helvetica, wrapped to `width` characters, paged as needed."""
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        lines.extend([*textwrap.wrap(" ".join(paragraph.split()), width), ""])
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)] or [[]]
    font_id, info_id, pages_id = 3, 4, 2
    first_page = 5
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        font_id: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        info_id: f"<< /Title ({_escape(title)}) /Producer (tuneway example) >>".encode("latin-1"),
    }
    kids = []
    for number, page in enumerate(pages):
        page_id, content_id = first_page + 2 * number, first_page + 2 * number + 1
        kids.append(f"{page_id} 0 R")
        body = "BT /F1 11 Tf 14 TL 56 790 Td " + " ".join(f"({_escape(line)}) Tj T*" for line in page) + " ET"
        stream = body.encode("latin-1")
        objects[page_id] = (
            f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode()
        objects[content_id] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    objects[pages_id] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for object_id in sorted(objects):
        offsets[object_id] = len(out)
        out += b"%d 0 obj\n" % object_id + objects[object_id] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for object_id in range(1, size):
        out += b"%010d 00000 n \n" % offsets[object_id]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        info_id,
        xref,
    )
    return bytes(out)


if __name__ == "__main__":
    target = Path(__file__).parent / "documents" / "security-policy.pdf"
    target.write_bytes(text_pdf(SECURITY_POLICY, "Information Security Policy"))
    print(f"wrote {target}")
