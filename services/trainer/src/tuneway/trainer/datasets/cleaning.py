"""Text cleaning: unicode and whitespace normalisation, and optional e-mail/phone scrubbing."""

from __future__ import annotations

import re
import unicodedata

from tuneway.core.pii import EMAIL_PLACEHOLDER, PHONE_PLACEHOLDER, scrub_pii

__all__ = ["EMAIL_PLACEHOLDER", "PHONE_PLACEHOLDER", "normalise_text", "scrub_pii"]

_NEWLINES = re.compile(r"\r\n|[\r\u2028\u2029\x85]")
# Control characters (NUL, DEL, escape codes) are noise in training text; newline and tab are not.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")
# Inner runs of any whitespace but the newline; indentation before the first character is kept
# because it carries meaning in code and nested lists.
_INNER_SPACE = re.compile(r"(?<=\S)[^\S\n]+(?=\S)")
_TRAILING_SPACE = re.compile(r"[^\S\n]+$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """NFC, one newline style, no control characters, single inner spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text)
    text = _NEWLINES.sub("\n", text)
    text = _CONTROL.sub("", text)
    text = _INNER_SPACE.sub(" ", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
