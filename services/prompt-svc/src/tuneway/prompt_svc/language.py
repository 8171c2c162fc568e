"""Language of a user's message, by lingua's detector (its models ship inside the wheel)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lingua import IsoCode639_1, LanguageDetectorBuilder

log = logging.getLogger(__name__)


class LanguageDetector:
    """Chooses among a fixed set of languages; answers None when the text does not say."""

    def __init__(self, codes: Sequence[str]) -> None:
        known = []
        for code in codes:
            iso = getattr(IsoCode639_1, code.upper(), None)
            if iso is None:
                log.warning("unknown language code ignored", extra={"code": code})
            else:
                known.append(iso)
        self.codes = tuple(iso.name.lower() for iso in known)
        # Models load at start-up, not on the first request; a handful of languages takes about 1 s.
        self._detector = (
            LanguageDetectorBuilder.from_iso_codes_639_1(*known).with_preloaded_language_models().build()
            if len(known) >= 2
            else None
        )

    def detect(self, text: str) -> str | None:
        """The ISO 639-1 code of `text`'s language, or None if unsure or not configured."""
        if self._detector is None or not text.strip():
            return None
        language = self._detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language is not None else None
