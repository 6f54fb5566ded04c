"""`study.kinds`' wording rules as RE2 patterns, so DuckDB can classify replies on all threads.

`classify_public_text` searches with Python's `re` (IGNORECASE, Unicode `\\b`): about 30 us a
text, 25 s for a TWCS corpus's 850,000 responses. RE2 (DuckDB's regular expressions) has
neither Python's case folding nor its Unicode word boundaries, so each pattern is rewritten
into one that matches exactly the same texts:

- every letter becomes the class of all characters Python's IGNORECASE takes for it (e.g.
  `i` is `[Iiİı]`: Python folds the Turkish dotted and dotless i, RE2's `(?i)` does not);
- a `\\b` before the first (or after the last) character of a pattern, which is a word
  character, becomes "start of text or a non-word character" (end of text, ...), with
  Python's own set of word characters (`str.isalnum()` or `_`). Consuming that neighbour
  changes where a match starts, not whether there is one, and only whether is asked.

The classes are read off Python's `re` itself (by searching a string of every code point),
so they follow the running Python's Unicode tables. Any other syntax in a pattern (a range,
a `\\b` in the middle, `.`, `*`) is refused with ValueError rather than guessed at.
"""

from __future__ import annotations

import functools
import re
import sys

import numpy as np

from study.kinds import AUTO_ACK_PATTERNS, REDIRECT_PATTERNS

_SPECIAL = set("()|?[]\\")


@functools.cache
def _every_char() -> str:
    """Every code point but the surrogates, in order."""
    points = np.arange(sys.maxunicode + 1, dtype="<u4")
    return points[(points < 0xD800) | (points > 0xDFFF)].tobytes().decode("utf-32-le")


def _class(chars: set[str], negate: bool = False) -> str:
    """An RE2 character class of exactly `chars` (code point ranges, \\x{} escapes)."""
    points = sorted(map(ord, chars))
    ranges: list[tuple[int, int]] = []
    for p in points:
        if ranges and ranges[-1][1] == p - 1:
            ranges[-1] = (ranges[-1][0], p)
        else:
            ranges.append((p, p))
    body = "".join(
        f"\\x{{{lo:x}}}" if lo == hi else f"\\x{{{lo:x}}}-\\x{{{hi:x}}}" for lo, hi in ranges
    )
    return f"[{'^' if negate else ''}{body}]"


@functools.cache
def word_chars() -> frozenset[str]:
    """The characters Python's `\\w` (and so `\\b`) counts as word characters in a str."""
    return frozenset(re.findall(r"\w", _every_char()))


@functools.cache
def same_letter(char: str) -> frozenset[str]:
    """Every character that Python's IGNORECASE matches against `char`."""
    return frozenset(c for c in _cased() if re.fullmatch(re.escape(char), c, re.IGNORECASE))


@functools.cache
def _cased() -> frozenset[str]:
    """The characters IGNORECASE matches against any character of the patterns (one search
    of every code point; tests check it against a search per character)."""
    letters = {c for p in AUTO_ACK_PATTERNS + REDIRECT_PATTERNS for c in p if c != "\\"}
    union = "[" + "".join(map(re.escape, sorted(letters))) + "]"
    return frozenset(re.findall(union, _every_char(), re.IGNORECASE))


@functools.cache
def _non_word() -> str:
    """RE2 class of the characters that are not word characters to Python."""
    return _class(set(word_chars()), negate=True)


def _tokens(pattern: str) -> list[str]:
    """The pattern cut into literal characters, `\\b`, `(?:`, `)`, `|`, `?` and `[...]`."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt.isalnum() and nxt != "b":
                raise ValueError(f"{pattern!r}: escape \\{nxt} is not supported")
            out.append(pattern[i : i + 2])
            i += 2
        elif pattern.startswith("(?:", i):
            out.append("(?:")
            i += 3
        elif c == "[":
            end = pattern.index("]", i)
            members = pattern[i + 1 : end]
            if members.startswith("^") or "-" in members[1:-1] or "\\" in members:
                raise ValueError(f"{pattern!r}: class [{members}] is not supported")
            out.append(pattern[i : end + 1])
            i = end + 1
        elif c in "()" and pattern.startswith("(", i):
            raise ValueError(f"{pattern!r}: only (?:...) groups are supported")
        elif c in ".*+{}^$":
            raise ValueError(f"{pattern!r}: {c!r} is not supported")
        else:
            out.append(c)
            i += 1
    return out


def _chars_of(token: str) -> set[str]:
    """The characters one literal or class token matches under IGNORECASE."""
    members = token[1:-1] if token.startswith("[") else token[-1]
    return set().union(*(same_letter(m) for m in members))


def _translate(pattern: str) -> tuple[bool, str]:
    """(whether the pattern starts with \\b, the RE2 text of the rest)."""
    tokens = _tokens(pattern)
    words = word_chars()
    lead = bool(tokens) and tokens[0] == r"\b"
    trail = len(tokens) > 1 and tokens[-1] == r"\b"
    body = tokens[int(lead) : len(tokens) - int(trail)]
    if r"\b" in body:
        raise ValueError(f"{pattern!r}: \\b is only supported at the start or the end")
    for edge, flag in ((body[:1], lead), (body[-1:], trail)):
        if flag and (not edge or edge[0] in _SPECIAL or not _chars_of(edge[0]) <= words):
            raise ValueError(f"{pattern!r}: \\b must stand next to a word character")
    out = []
    for t in body:
        if t in ("(?:", ")", "|", "?"):
            out.append(t)
        else:
            out.append(_class(_chars_of(t)))
    if trail:
        out.append(f"(?:$|{_non_word()})")
    return lead, "".join(out)


def re2_pattern(patterns: list[str]) -> str:
    """An RE2 pattern that a text matches exactly when
    `re.search("|".join(patterns), text, re.IGNORECASE)` finds something."""
    bounded: list[str] = []
    free: list[str] = []
    for p in patterns:
        lead, body = _translate(p)
        (bounded if lead else free).append(body)
    parts = list(free)
    if bounded:
        parts.insert(0, f"(?:^|{_non_word()})(?:{'|'.join(bounded)})")
    return "|".join(parts)


@functools.cache
def auto_ack_re2() -> str:
    """RE2 form of `study.kinds.AUTO_ACK_PATTERNS`."""
    return re2_pattern(AUTO_ACK_PATTERNS)


@functools.cache
def redirect_re2() -> str:
    """RE2 form of `study.kinds.REDIRECT_PATTERNS`."""
    return re2_pattern(REDIRECT_PATTERNS)
