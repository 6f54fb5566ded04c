"""A company page's answers in the inquiry's language (breakdowns.json: answer_language)."""

from __future__ import annotations

from typing import Any

from reports.context import AnswerLanguage, Cell, Table
from reports.fmt import count, pct, pct_range
from reports.view import View


def answer_language(v: View, brand: str) -> AnswerLanguage | None:
    """The brand's share of answers in the inquiry's language, overall and by country, or
    None when the data has none (no study file, or no answer)."""
    data = v.data.breakdowns.get("answer_language")
    if not data:
        return None
    mine = next((r for r in data["brand"] if r["brand"] == brand), None)
    if mine is None or not (mine["probes"] or mine["undetermined"]):
        return None
    names: dict[str, str] = data["names"]
    rows = []
    for r in data["brand_country"]:
        if r["brand"] != brand:
            continue
        wanted = data["expected"].get(r["country"], "")
        rows.append(
            (
                Cell(v.country(r["country"]), href=v.country_href(r["country"], "../"),
                     header=True),
                Cell(names.get(wanted, wanted)),
                Cell(str(r["probes"]), num=True),
                _share(r),
                Cell(_others(r, names) or "\u2013"),
                Cell(str(r["undetermined"]), num=True),
            )
        )  # fmt: skip
    head = (
        Cell("Country"),
        Cell("Inquiry in"),
        Cell("Answers", num=True),
        Cell("In that language (95% CI)", num=True),
        Cell("Otherwise in"),
        Cell("Undetermined", num=True),
    )
    note = (
        "The language of each first response, detected offline (lingua); too short or "
        "unclear texts are undetermined and left out of the share."
    )
    table = Table(f"{v.name(brand)}: answers in the inquiry's language", head, tuple(rows), note)
    return AnswerLanguage(_sentence(mine, names), table)


def _share(r: dict[str, Any]) -> Cell:
    if not r["probes"]:
        return Cell("\u2013", num=True)
    return Cell(
        pct(r["response_rate"]), pct_range(r["response_rate_low"], r["response_rate_high"]),
        num=True,
    )  # fmt: skip


def _others(r: dict[str, Any], names: dict[str, str]) -> str:
    return ", ".join(f"{names.get(k, k)} ({n})" for k, n in r["others"].items())


def _sentence(r: dict[str, Any], names: dict[str, str]) -> str:
    if not r["probes"]:
        return f"The language of none of its {count(r['undetermined'], 'answer')} could be told."
    ci = pct_range(r["response_rate_low"], r["response_rate_high"])
    text = (
        f"Answered in the inquiry's language: {pct(r['response_rate'])} (95% CI {ci}) of "
        f"{count(r['probes'], 'answer')} whose language could be told"
    )
    others = _others(r, names)
    return text + (f"; otherwise in {others}." if others else ".")
