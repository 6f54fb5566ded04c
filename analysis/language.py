"""The language of a reply, detected offline with lingua (its models ship in the wheel).

`Detector(languages)` is built once per run, restricted to the languages that can occur
(the study's and English): fewer candidates are both faster and more accurate on the short
texts customer service writes. `detect` gives an ISO 639-1 code, or `UNDETERMINED` ("und",
as BCP 47 and the platforms write it) when the text holds too few letters or lingua's
confidence in its first choice is below `THRESHOLD`: a guess would count as an answer in
the wrong language. Texts are detected once each however often they occur.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

UNDETERMINED = "und"
THRESHOLD = 0.5  # lingua's relative confidence in its first choice (0..1)
MIN_LETTERS = 8
# When a study's languages are unknown (no study.toml): the most common on the platforms.
COMMON = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "sv", "tr",
          "zh")  # fmt: skip
# Handles, links, hashtags and e-mail addresses say nothing of a text's language.
_NOISE = re.compile(r"(?:https?://|www\.)\S+|[@#]\w+|\S+@\S+|\^\w+$")


def supported(code: str) -> bool:
    """Whether lingua knows the ISO 639-1 language `code`."""
    return hasattr(IsoCode639_1, code.upper())


class Detector:
    """A lingua detector over `languages` (ISO 639-1 codes; English is always added)."""

    def __init__(self, languages: Iterable[str]) -> None:
        codes = sorted({c.lower() for c in languages if supported(c)} | {"en"})
        self.languages = tuple(codes)
        found = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
        if len(found) == 1:  # lingua needs two candidates
            found.append(Language.from_iso_code_639_1(IsoCode639_1.DE))
        self._lingua: LanguageDetector = LanguageDetectorBuilder.from_languages(*found).build()

    def detect(self, text: str) -> str:
        """The language of one text, or UNDETERMINED."""
        clean = _NOISE.sub(" ", text)
        if sum(ch.isalpha() for ch in clean) < MIN_LETTERS:
            return UNDETERMINED
        values = self._lingua.compute_language_confidence_values(clean)
        if not values or values[0].value < THRESHOLD:
            return UNDETERMINED
        return str(values[0].language.iso_code_639_1.name).lower()

    def detect_all(self, texts: Iterable[str]) -> dict[str, str]:
        """Each distinct text's language."""
        return {t: self.detect(t) for t in dict.fromkeys(texts)}


def language_name(code: str) -> str:
    """The English name of ISO 639-1 `code` ('de' -> 'German'), or the code if unknown."""
    if code == UNDETERMINED or not supported(code):
        return code
    return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())).name.title()
