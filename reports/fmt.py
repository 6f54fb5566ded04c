"""How numbers and outside text read on the site: shares, hours, intervals, counts with their
nouns, names and replies without direction controls."""

from __future__ import annotations

import re

from markupsafe import Markup

from study.csvrows import BIDI
from study.timeutil import parse_iso

DASH = "\u2013"
NOT_REACHED = "not reached"


def pct(x: float | None) -> str:
    """A share as a whole percentage; a dash when there is none."""
    return DASH if x is None else f"{100 * x:.0f}%"


def pct_range(low: float | None, high: float | None) -> str:
    """A 95% interval of a share, e.g. '56-64%'."""
    if low is None or high is None:
        return ""
    return f"{100 * low:.0f}{DASH}{100 * high:.0f}%"


def hours(x: float | None, *, missing: str = NOT_REACHED) -> str:
    """Hours with one decimal, e.g. '19.1 h'; `missing` when there is none."""
    return missing if x is None else f"{x:.1f} h"


def hours_range(low: float | None, high: float | None) -> str:
    """A 95% interval in hours; an end the curve never reached reads 'not reached'."""
    if low is None and high is None:
        return ""
    if low is None or high is None:
        known = low if low is not None else high
        return f"{known:.1f} h {DASH} {NOT_REACHED}"
    return f"{low:.1f}{DASH}{high:.1f} h"


def duration(x: float) -> str:
    """A time to reply: minutes under an hour, else hours with one decimal."""
    if x < 1 / 60:
        return "under a minute"
    if x < 1:
        return f"{round(x * 60)} min"
    return f"{x:.1f} h"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 country', '3 countries'."""
    word = noun if n == 1 else plural or f"{noun}s"
    return f"{n:,} {word}"


def when(text: str | None) -> str:
    """An ISO 8601 UTC time as 'YYYY-MM-DD HH:MM UTC'."""
    if not text:
        return DASH
    return parse_iso(text).strftime("%Y-%m-%d %H:%M UTC")


def day(text: str | None) -> str:
    """An ISO 8601 time (or date) as its UTC date."""
    if not text:
        return DASH
    if len(text) == 10:
        return text
    return parse_iso(text).strftime("%Y-%m-%d")


def listing(names: list[str], limit: int = 5) -> str:
    """'A, B and C'; after `limit` names, 'A, B, C, D, E and 4 more'."""
    if not names:
        return ""
    shown = names[:limit]
    rest = len(names) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def weekday_span(days: list[str] | None) -> str:
    """['mon', ..., 'fri'] as 'Mon-Fri'; other sets as a list."""
    if not days:
        return DASH
    order = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    idx = sorted(order.index(d) for d in days)
    names = [order[i].capitalize() for i in idx]
    if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{names[0]}{DASH}{names[-1]}"
    return ", ".join(names)


# Text from outside (brand names, handles, replies) may come from journals written before
# names were checked, or from a platform. What U+FFFD replaces in it: the direction controls,
# which reorder the text around them, and the control characters but tab and line ends. Why
# replace rather than remove or isolate with <bdi>: an override inside <bdi> still reverses
# the rest of the isolated name ("Kaito\u202eevil" reads "Kaitolive"), and removing it would
# hide that the text was tampered with; U+FFFD shows where something was.
REPLACEMENT = "\ufffd"
_UNSHOWN = re.compile(f"[{BIDI}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    """`text` as the site may show it: its direction controls and control characters (but
    tab and line ends) replaced by U+FFFD."""
    return _UNSHOWN.sub(REPLACEMENT, text)


def finalize(value: object) -> object:
    """Every value a template prints, before autoescaping: a string `shown` (markup stays
    markup, as the replacement holds nothing HTML reads)."""
    if not isinstance(value, str):
        return value
    text = shown(value)
    return Markup(text) if isinstance(value, Markup) else text
