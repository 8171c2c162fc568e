"""Scrubbing of personal data from free text: e-mail addresses and phone numbers become placeholders.

Shared by the trainer (datasets) and analytics (kept message text), so neither needs the other.
"""

from __future__ import annotations

import re

EMAIL_PLACEHOLDER = "[email]"
PHONE_PLACEHOLDER = "[phone]"

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
# Phone numbers only in shapes that ordinary numbers do not take: a leading "+country", an area code
# in parentheses, North-American 3-3-4 groups, or a national number starting with 0 and a separator.
# Bare digit runs are left alone on purpose: order ids, tracking and article numbers look the same.
_PHONE = re.compile(
    r"(?<![\w+/.,-])(?:"
    r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}"
    r"|\(\d{2,5}\)[ .-]?\d{2,4}(?:[ .-]?\d{2,5}){1,3}"
    r"|\d{3}[ .-]\d{3}[ .-]\d{4}"
    r"|0\d{2,4}[ /-]\d{3,8}(?:[ -]\d{2,5})?"
    r")(?![\w-]|[.,]\d)"
)
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 7, 15  # E.164 allows at most 15 digits


def scrub_pii(text: str) -> tuple[str, int]:
    """Replaces e-mail addresses and phone numbers with placeholders; returns the text and the count."""
    text, emails = _EMAIL.subn(EMAIL_PLACEHOLDER, text)
    phones = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal phones
        digits = sum(c.isdigit() for c in match.group(0))
        if not _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS:
            return match.group(0)
        phones += 1
        return PHONE_PLACEHOLDER

    text = _PHONE.sub(replace, text)
    return text, emails + phones
