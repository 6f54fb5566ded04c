"""Which of a few languages a short text is written in, or None when that is not clear.

The matcher asks this of a direct message that names no probe, among the languages of the
probes it could answer (scripts.csv gives each probe's language). It is deliberately
conservative: an answer only when the text's writing system leaves one of the candidates, or,
for languages written in Latin letters, when the text holds several common words of one
candidate and at most half as many of any other. A candidate this module knows nothing about
could be the text's language, so its presence settles nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection

# Writing systems by the first word of a letter's Unicode name.
_SCRIPT_OF_NAME = {
    "LATIN": "latin",
    "CYRILLIC": "cyrillic",
    "GREEK": "greek",
    "ARABIC": "arabic",
    "HEBREW": "hebrew",
    "HIRAGANA": "kana",
    "KATAKANA": "kana",
    "HANGUL": "hangul",
    "CJK": "han",
    "THAI": "thai",
    "DEVANAGARI": "devanagari",
}

_LATIN = ("en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "no", "nb", "fi", "pl", "cs",
          "sk", "tr", "ro", "hu", "id", "ms")  # fmt: skip
_CYRILLIC = ("ru", "uk", "bg", "sr", "mk", "be", "kk")
# ISO 639-1 code -> the writing systems a text in it is mostly made of. Japanese mixes kana
# with kanji (han); Chinese is han alone.
SCRIPTS: dict[str, frozenset[str]] = {
    **{code: frozenset({"latin"}) for code in _LATIN},
    **{code: frozenset({"cyrillic"}) for code in _CYRILLIC},
    "el": frozenset({"greek"}),
    "ar": frozenset({"arabic"}),
    "fa": frozenset({"arabic"}),
    "ur": frozenset({"arabic"}),
    "he": frozenset({"hebrew"}),
    "ja": frozenset({"kana", "han"}),
    "zh": frozenset({"han"}),
    "ko": frozenset({"hangul"}),
    "th": frozenset({"thai"}),
    "hi": frozenset({"devanagari"}),
}

# Common words (articles, pronouns, prepositions, polite formulas) of languages written in
# Latin letters: what a customer-service message is full of whatever its subject.
STOP_WORDS: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "en": "the a an and or to of for in on with we you your our us is are was be have "
        "has will can please thanks thank sorry hi hello help this that it its get by from "
        "let know any anything shortly again",
        "de": "der die das den dem des ein eine einen und oder zu für mit wir ihr sie du dein "
        "deine ihre unser uns ist sind war haben hat wird werden bitte danke hallo entschuldige "
        "gern gerne nicht auch noch schon per bei vom zum zur alles",
        "fr": "le la les un une des et ou à au aux de du pour avec nous vous votre vos notre est "
        "sont était avons avez sera merci bonjour désolé désolés pas aussi dans par sur que "
        "qui ce cette tout",
        "es": "el la los las un una unos y o a al de del para con nosotros tu tus su sus "
        "nuestro es son está hemos gracias hola lo sentimos por favor que en todo",
        "it": "il lo la i gli le un una e o a al di del della per con noi tu tuo tua vostro "
        "nostro è sono abbiamo grazie ciao scusa ci siamo che in tutto così possiamo",
        "nl": "de het een en of te van voor met wij we je jij jouw uw ons onze is zijn was "
        "hebben heeft wordt bedankt hallo hoi sorry niet ook nog al alles",
        "pt": "o a os as um uma e ou ao de do da dos das para com nós você seu sua nosso nossa "
        "é são está estamos obrigado obrigada olá desculpe por que em tudo",
        "sv": "en ett och eller att av för med vi du din ditt er vår oss är var har kommer "
        "tack hej ursäkta inte också på till om allt",
        "da": "en et og eller at af for med vi du din dit jeres vores os er var har vil tak "
        "hej undskyld ikke også på til om alt",
        "pl": "i lub w na z do dla od my ty twój twoja nasz nasza jest są był mamy dziękujemy "
        "dzień dobry przepraszamy nie też że się wszystko nam to twoją",
        "tr": "ve veya ile bir bu için biz siz sizin bizim bize var teşekkürler merhaba özür "
        "dileriz değil da de ki her şey size lütfen",
    }.items()
}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_MIN_WORDS = 3  # common words of the winner needed before it counts as clear
_MARGIN = 2.0  # ... and the runner-up may have at most half as many


def scripts_of(text: str) -> Counter[str]:
    """How many letters of each writing system the text has (mentions and links aside)."""
    counts: Counter[str] = Counter()
    for ch in _plain(text):
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            script = _SCRIPT_OF_NAME.get(name.split(" ", 1)[0])
            if script is not None:
                counts[script] += 1
    return counts


def language_of(text: str, among: Collection[str]) -> str | None:
    """The one language of `among` (ISO 639-1 codes) the text is clearly written in, or None.

    None when `among` has fewer than two languages (nothing to tell apart), when a candidate
    is unknown here, and whenever the evidence is thin or split."""
    candidates = sorted({c.lower() for c in among})
    if len(candidates) < 2 or any(c not in SCRIPTS for c in candidates):
        return None
    letters = scripts_of(text)
    if not letters:
        return None
    dominant = {s for s, n in letters.items() if n * 4 >= sum(letters.values())}
    fit = [c for c in candidates if SCRIPTS[c] & dominant]
    if len(fit) == 1 and (fit[0] != "zh" or "kana" not in letters):
        return fit[0]
    if len(fit) < 2 or dominant != {"latin"} or any(c not in STOP_WORDS for c in fit):
        return None
    words = [w.lower() for w in _WORD.findall(_plain(text))]
    hits = sorted(((sum(w in STOP_WORDS[c] for w in words), c) for c in fit), reverse=True)
    (best, language), (second, _) = hits[0], hits[1]
    if best >= _MIN_WORDS and best >= _MARGIN * second:
        return language
    return None


def _plain(text: str) -> str:
    """The text without @mentions and links, which are in no language."""
    return re.sub(r"(?:@|https?://)\S+", " ", text)
