"""Keeping credentials out of sight: values that look like one, and scrubbing them from text.

A credential pasted where the name of its environment variable belongs must be refused
without being shown, and one a server echoes back (in any case, base64 in a Basic header,
percent-encoded in a URL) must not reach a message, a log or the journal.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
MIN_SECRET = 8  # shorter values are left alone: replacing them would blank ordinary words

_RUN = re.compile(r"[A-Za-z0-9]+")
_HEX = re.compile(r"[0-9a-f]{32,}|[0-9A-F]{32,}")
# Share of neighbouring characters that change class (upper, lower, digit) at or above which
# a run reads as random rather than as words: 0.5-0.65 for base64 tokens, 0-0.26 for names
# like REPLYBENCH_MASTODON_TOKEN or ReplybenchMastodonToken1 (measured; see the tests).
_MIXING = 0.28


def looks_like_token(value: str) -> bool:
    """Whether `value` is shaped like a credential rather than a name: at least 20 characters
    with a long hexadecimal run, or a run of 12 or more whose letters and digits alternate as
    in random text (base64 tokens do; words and UPPER_SNAKE names do not)."""
    if len(value) < 20:
        return False
    runs = _RUN.findall(value)
    longest = max(runs, key=len, default="")
    if _HEX.fullmatch(longest) and not longest.isdigit() and not longest.isalpha():
        return True
    pairs = [(a, b) for run in runs for a, b in zip(run, run[1:], strict=False)]
    changes = sum(_kind(a) != _kind(b) for a, b in pairs)
    return len(longest) >= 12 and changes >= _MIXING * len(pairs)


def _kind(c: str) -> int:
    return 0 if c.isdigit() else 1 if c.isupper() else 2


def secret_forms(secret: str) -> set[str]:
    """The ways `secret` can appear in text: as is, percent-encoded, and base64 (standard and
    URL-safe, with or without padding, also where it is only part of what was encoded, as
    the password in a Basic `user:password` header). Matched regardless of case."""
    if len(secret) < MIN_SECRET:
        return set()
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
    for variant in {secret, secret.lower(), secret.upper()}:
        forms |= _base64_forms(variant.encode("utf-8"))
    return {f for f in forms if len(f) >= MIN_SECRET}


def _base64_forms(raw: bytes) -> set[str]:
    encoded = base64.b64encode(raw).decode("ascii")
    forms = {encoded, encoded.rstrip("=")}
    for offset in range(3):  # where the secret starts within base64's 3-byte groups
        whole = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        # Only the characters made of the secret's bits alone, whatever comes before and after.
        inner = whole[(8 * offset + 5) // 6 : 8 * (offset + len(raw)) // 6]
        forms.add(inner)
    return forms | {f.replace("+", "-").replace("/", "_") for f in forms}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every form of every secret (`secret_forms`) replaced by [redacted]."""
    forms = set().union(*(secret_forms(s) for s in secrets if s))
    if not forms:
        return text
    # Longest first, so a padded form goes whole rather than leaving its '='.
    pattern = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
