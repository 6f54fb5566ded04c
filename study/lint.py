"""The script lint: no personal data in an inquiry, `{handle}` present, and short enough.

Scripts are posted in public to brands' accounts, so they must not carry an e-mail address, a
phone number or a link (the study would publish the researcher's data, and a link changes how
brands answer). Lengths are counted the way the channel counts them: X weighs characters by
the twitter-text v3 configuration (https://github.com/twitter/twitter-text, config/v3.json);
Mastodon counts characters (500); Bluesky counts graphemes (300, app.bsky.feed.post's
`maxGraphemes`). Mastodon really counts grapheme clusters and a remote mention only by its
user part: counting code points and the whole `@user@instance` errs on the safe side.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from study.countries import COUNTRIES
from study.plan_text import fill

# Longest message each channel accepts, in its own units; a channel not listed has no limit.
CHANNEL_LIMITS = {"x": 280, "mastodon": 500, "bluesky": 300}
# How each limited channel's counting is named in a message: (unit, who counts).
_COUNTED = {
    "x": ("characters", "X"),
    "mastodon": ("characters", "Mastodon"),
    "bluesky": ("graphemes", "Bluesky"),
}

# The placeholder every script names its target with; X fills it with '@' + the handle.
HANDLE = "{handle}"
# The length check's stand-ins for `{handle}` when the study's handles are not known: the
# longest X username, and 30 characters elsewhere.
UNKNOWN_HANDLES = {"x": "x" * 15}
UNKNOWN_HANDLE = "x" * 30
# The optional placeholder for the country asked from, filled with its `text_name`. It keeps
# the texts a global account gets from countries sharing a language apart: X refuses a post
# that repeats one of the account's earlier posts (403 duplicate content).
COUNTRY = "{country}"
UNKNOWN_COUNTRY_NAME = "x" * 30  # the length check's stand-in when the names are not known
PLACEHOLDERS = ("handle", "country")

# twitter-text v3: code points in these ranges weigh 1, all others 2; a URL weighs 23.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL_WEIGHT = 23
_EMOJI_WEIGHT = 2

# Top-level domains recognised without a scheme ("example.com"). Country-code domains are
# only recognised in lower case, so a missing space ("ordered.My order") is not a link.
_GENERIC_TLDS = (
    "com|net|org|info|biz|edu|gov|mil|int|app|dev|shop|store|online|site|web|tech|xyz|blog"
    "|news|club|global|travel|bank|cloud|link|page|live|email"
)
_CC_TLDS = sorted({c.lower() for c in COUNTRIES} | {"uk", "eu"})

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(
    r"(?i:https?://|www\.)[^\s<>\"']+"
    r"|(?<![@\w.\-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    rf"(?:(?i:{_GENERIC_TLDS})|{'|'.join(_CC_TLDS)})"
    r"(?![\w\-@])(?:/[^\s<>\"']*)?",
)
_URL_TRAILING = ".,;:!?)]}'\""
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# Phone numbers: an optional '+' or '(' then digits with spaces, dots, dashes, slashes or
# parentheses between them. Dates, clock times and prices are blanked out first, so that
# "2026-03-02", "09:00-17:00" and "1.299.000 €" are not read as numbers to call.
_PHONE = re.compile(r"(?<![\w#+])(?:\+|\(\+?)?\d(?:[\d \u00a0().\-/]*\d)?")
_MASKS = (
    re.compile(r"(?<![\d.\-/])\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d|[-./]\d)"),  # 2026-03-02
    re.compile(r"(?<![\d.\-/])\d{1,2}[-./]\d{1,2}[-./]\d{2,4}(?!\d|[-./]\d)"),  # 02.03.2026
    re.compile(r"(?<![\d.:])(?:[01]?\d|2[0-3])[:.h][0-5]\d(?!\d|[.:]\d)"),  # 09:00, 9.30
    re.compile(r"[$€£¥₩₹]\s?\d[\d.,' \u00a0]*\d"),  # $1 299.00
    re.compile(r"\d[\d.,' \u00a0]*\d\s?(?:[$€£¥₩₹]|(?:EUR|USD|GBP|JPY|KRW|zł|kr)\b)"),
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:[.' \u00a0]\d{3})+")


def _light(code_point: int) -> bool:
    return any(lo <= code_point <= hi for lo, hi in _LIGHT_RANGES)


def _pictographic(code_point: int) -> bool:
    """A code point that starts an emoji (Unicode Extended_Pictographic, approximately)."""
    return (
        0x1F000 <= code_point <= 0x1FAFF
        or 0x2600 <= code_point <= 0x27BF
        or 0x2300 <= code_point <= 0x23FF
        or 0x2B00 <= code_point <= 0x2BFF
        or 0x2190 <= code_point <= 0x21FF
        or 0x25A0 <= code_point <= 0x25FF
        or code_point in (0x203C, 0x2049, 0x2122, 0x2139, 0x2934, 0x2935, 0x3030, 0x303D)
        or code_point in (0x3297, 0x3299, 0x24C2, 0xA9, 0xAE)
    )


def _emoji_length(text: str, i: int) -> int:
    """How many code points the emoji sequence starting at `i` spans; 0 if none starts there.

    A sequence is a base with variation selectors, skin-tone modifiers, keycaps and tags
    (subdivision flags), possibly joined to further bases by ZERO WIDTH JOINER; a flag is a
    pair of regional indicators. X counts each sequence as one emoji of weight 2.
    """
    n = len(text)
    cp = ord(text[i])
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return 2 if i + 1 < n and 0x1F1E6 <= ord(text[i + 1]) <= 0x1F1FF else 1
    if text[i] in "0123456789#*":
        j = i + 1 + (i + 1 < n and text[i + 1] == "\ufe0f")
        return j + 1 - i if j < n and text[j] == "\u20e3" else 0
    if not _pictographic(cp):
        return 0
    if _light(cp) and not (i + 1 < n and text[i + 1] == "\ufe0f"):
        return 0  # a plain '©' is text, '©\ufe0f' is an emoji
    j = i + 1
    while j < n:
        c = ord(text[j])
        if c in (0xFE0E, 0xFE0F, 0x20E3) or 0x1F3FB <= c <= 0x1F3FF or 0xE0020 <= c <= 0xE007F:
            j += 1
        elif c == 0x200D and j + 1 < n and _pictographic(ord(text[j + 1])):
            j += 2
        else:
            break
    return j - i


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans of links in `text`: with a scheme, starting with `www.`, or a bare domain."""
    spans = []
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in _URL_TRAILING:
            end -= 1
        spans.append((m.start(), end))
    return spans


def x_weighted_length(text: str) -> int:
    """The length X counts for `text` (twitter-text v3: CJK and emoji weigh 2, URLs 23)."""
    text = unicodedata.normalize("NFC", text)
    urls = {start: end for start, end in find_urls(text)}
    total = 0
    i = 0
    while i < len(text):
        if i in urls:
            total += _URL_WEIGHT
            i = urls[i]
            continue
        span = _emoji_length(text, i)
        if span:
            total += _EMOJI_WEIGHT
            i += span
            continue
        total += 1 if _light(ord(text[i])) else 2
        i += 1
    return total


def grapheme_length(text: str) -> int:
    """Graphemes, approximately: code points that are not combining marks, ZERO WIDTH JOINER
    or variation selectors (a ZWJ emoji sequence counts each of its pictographs)."""
    return sum(
        1
        for c in unicodedata.normalize("NFC", text)
        if unicodedata.category(c) not in ("Mn", "Mc", "Me")
        and c != "\u200d"
        and not "\ufe00" <= c <= "\ufe0f"
        and not "\U000e0100" <= c <= "\U000e01ef"
    )


def channel_length(channel: str, text: str) -> int:
    """The length of `text` in the units `channel` limits (code points where none)."""
    if channel == "x":
        return x_weighted_length(text)
    if channel == "bluesky":
        return grapheme_length(text)
    return len(unicodedata.normalize("NFC", text))


def longest(channel: str, candidates: Iterable[str]) -> str | None:
    """The candidate that is longest as `channel` counts it (first of equals); None if none.

    Each distinct candidate is measured once (a study's handles repeat across its targets).
    """
    best: str | None = None
    best_length = -1
    for text in dict.fromkeys(candidates):
        length = channel_length(channel, text)
        if length > best_length:
            best, best_length = text, length
    return best


def find_phone_numbers(text: str) -> list[str]:
    """Phone numbers in `text`: 7 or more digits, international ('+49 ...') or local."""
    masked = text
    for mask in _MASKS:
        masked = mask.sub(lambda m: "x" * len(m.group()), masked)
    found = []
    for m in _PHONE.finditer(masked):
        number = m.group().strip(" \u00a0.-/").rstrip("( \u00a0")
        digits = re.sub(r"\D", "", number)
        groups = re.findall(r"\d+", number)
        if len(digits) < 7 or len(digits) > 15:
            continue
        if all(_YEAR.fullmatch(g) for g in groups):
            continue  # "2025-2026", "2024 2025"
        if not number.startswith("+") and _THOUSANDS.fullmatch(number):
            continue  # "1.299.000": a quantity, not a number to call
        start = m.start() + m.group().index(number)
        found.append(text[start : start + len(number)])
    return found


def lint_text(
    text: str, channel: str, country_name: str | None = None, handle: str | None = None
) -> list[str]:
    """Problems in one script text, each saying what is wrong and how to fix it.

    `country_name` is the longest name `{country}` can become in this text's language and
    `handle` the longest handle the study uses on `channel` (the length check fills both in,
    as the plan would); None when not known, and stand-ins are assumed (30 characters; the
    longest X username on X).
    """
    problems = []
    for email in _EMAIL.findall(text):
        problems.append(
            f"contains an e-mail address ({email!r}); remove personal data from scripts"
        )
    without_emails = _EMAIL.sub(" ", text)
    for start, end in find_urls(without_emails):
        problems.append(
            f"contains a URL ({without_emails[start:end]!r}); remove links from scripts"
        )
    for number in find_phone_numbers(_URL.sub(" ", without_emails)):
        problems.append(f"contains a phone number ({number!r}); remove personal data from scripts")
    if HANDLE not in text:
        problems.append(
            "does not contain {handle}; start the text with '{handle} ' so it names the account"
        )
    for name in sorted(set(_PLACEHOLDER.findall(text)) - set(PLACEHOLDERS)):
        close = difflib.get_close_matches(name.lower(), PLACEHOLDERS, n=1, cutoff=0.6)
        fix = (
            f"did you mean '{{{close[0]}}}'?"
            if close
            else "the placeholders are {handle} and {country}"
        )
        problems.append(f"has an unknown placeholder '{{{name}}}'; {fix}")
    limit = CHANNEL_LIMITS.get(channel)
    if limit is not None:
        name = UNKNOWN_COUNTRY_NAME if country_name is None else country_name
        if handle is None:
            handle = UNKNOWN_HANDLES.get(channel, UNKNOWN_HANDLE)
        length = channel_length(channel, fill(text, channel, handle, name))
        if length > limit:
            what = "longest handle and country name" if COUNTRY in text else "longest handle"
            unit, counter = _COUNTED[channel]
            problems.append(
                f"is {length} {unit} long as {counter} counts them (with the "
                f"{what}), over the limit of {limit}; shorten it by {length - limit}"
            )
    return problems
