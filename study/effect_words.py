"""The persona effect in plain words, for the terminal and the site alike.

analysis.persona_effect computes the numbers (a difference in response rate between a level
and the reference level, as a proportion, with its 95% interval) and puts them in analyze's
JSON; this turns one of them into a sentence such as "Brands answered personas with
language de 6 points (1–11) more often than those with language en." Plain text: whoever
shows it on a page escapes it (persona names come from the study folder).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MINUS = "\u2212"


def effect_sentence(
    grouping: str,
    level: str,
    reference: str,
    difference: float | None,
    low: float | None = None,
    high: float | None = None,
) -> str:
    """One sentence for a level's effect against the reference, in whole points."""
    if grouping == "persona":
        subject, other = f"persona {level}", f"persona {reference}"
    else:
        subject, other = f"personas with {grouping} {level}", f"those with {grouping} {reference}"
    if difference is None:
        return (
            f"No brand was asked by both {subject} and {other}, so their response rates "
            "cannot be compared within brands."
        )
    points = round(difference * 100)
    bounds = None if low is None or high is None else (round(low * 100), round(high * 100))
    if points < 0 and bounds is not None:
        bounds = (-bounds[1], -bounds[0])
    if points == 0:
        shown = "" if bounds is None else f" (0 points, {_range(*bounds)})"
        return f"Brands answered {subject} as often as {other}{shown}."
    interval = "" if bounds is None else f" ({_range(*bounds)})"
    more = "more" if points > 0 else "less"
    plural = "" if abs(points) == 1 else "s"
    sentence = f"Brands answered {subject} {abs(points)} point{plural}{interval} {more} often"
    sentence += f" than {other}"
    if low is not None and high is not None and low <= 0 <= high:
        sentence += "; the 95% interval includes no difference"
    return sentence + "."


def effect_of(grouping: str, effect: Mapping[str, Any]) -> str:
    """`effect_sentence` of one effect as analyze's JSON gives it (persona_effects)."""
    return effect_sentence(
        grouping,
        effect["level"],
        effect["reference"],
        effect["difference"],
        effect["difference_low"],
        effect["difference_high"],
    )


def _range(low: int, high: int) -> str:
    """'1–11' where both ends are at least 0, else '−3 to 7'."""
    if low >= 0:
        return f"{low}\u2013{high}"
    return f"{_signed(low)} to {_signed(high)}"


def _signed(value: int) -> str:
    return f"{MINUS}{-value}" if value < 0 else str(value)
