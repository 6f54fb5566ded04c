"""The personas on the site, for a study asked through several of them: the overview's
section (response by persona and by each attribute, the persona effects with their 95%
intervals, in plain sentences), each company's rows by persona, and the design on the method
page. A study without personas has none of it: its pages are what they were.

Everything here reads metrics.json (`groups["persona"]`, `groups["persona_A"]`,
`groups["brand_persona"]`, `persona_effects`) and design.json (`personas`, `assignment`,
`approval`), written by analysis.personas; persona names and attributes come from the study
folder and reach the page escaped, as all outside text does.
"""

from __future__ import annotations

from typing import Any

from reports.context import Cell, Personas, Table
from reports.fmt import DASH, count
from reports.view import View, rate_cells
from study.effect_words import MINUS, effect_of

BY_COUNTRY, BALANCED = "by_country", "balanced"  # study.personas' designs


def index_personas(v: View) -> Personas | None:
    """The overview's persona section; None for a study without several personas."""
    effects: dict[str, Any] | None = v.data.metrics.get("persona_effects")
    if not effects:
        return None
    groups = v.data.metrics["groups"]
    sentences, levels, rows = [], [], []
    for name, grouping in effects.items():
        said = grouping["attribute"] or "persona"
        if name != "persona" and len(grouping["levels"]) < 2:
            continue  # an attribute all personas share tells nothing apart
        brands = {r["level"]: r["brands"] for r in grouping["levels"]}
        levels.append(_levels(said, grouping, groups.get(name) or [], brands))
        for e in grouping["effects"]:
            sentences.append(effect_of(said, e))
            rows.append(_effect_row(said, e))
    table = Table(
        "Persona effects: each level against the reference level, within brands",
        (
            Cell("Grouping"),
            Cell("Level"),
            Cell("Compared with"),
            Cell("Difference in response rate (95% CI)", num=True),
            Cell("Brands asked by both", num=True),
            Cell("CMH p", num=True),
            Cell("Log-rank p", num=True),
        ),
        tuple(rows),
        note=(
            "Differences are in percentage points, the level's response rate minus the "
            "reference's, estimated within brands (Mantel-Haenszel, Sato's 95% interval) and "
            "tested with the Cochran-Mantel-Haenszel test; the log-rank test compares the "
            "times to response within brands. No adjustment is made for several comparisons."
        ),
    )
    note = (
        "Brands were compared with themselves: each difference pools the brands asked by "
        "both levels, so a persona that happened to ask more responsive brands does not look "
        "favoured. See the method page for the design."
    )
    return Personas(tuple(sentences), tuple(levels), table, note)


def _levels(
    said: str, grouping: dict[str, Any], rows: list[dict[str, Any]], brands: dict[str, int]
) -> Table:
    body = []
    for r in rows:
        level = str(r[said])  # the key column: "persona", or the attribute's name
        rate, median = rate_cells(r)
        mark = "best" if level == grouping["reference"] else ""
        body.append(
            (
                Cell(level, "reference" if mark else "", header=True),
                rate,
                median,
                Cell(f"{r['probes']:,}", num=True),
                Cell(f"{brands.get(level, 0):,}", num=True),
            )
        )
    caption = "Response by persona" if said == "persona" else f"Response by the personas' {said}"
    unknown = grouping.get("unknown") or 0
    note = (
        f"{count(unknown, 'probe')} sent by personas without a {said} are left out."
        if unknown
        else ""
    )
    head = (
        Cell("Persona" if said == "persona" else said.capitalize()),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
        Cell("Probes", num=True),
        Cell("Brands", num=True),
    )
    return Table(caption, head, tuple(body), note)


def _effect_row(said: str, e: dict[str, Any]) -> tuple[Cell, ...]:
    return (
        Cell(said, header=True),
        Cell(str(e["level"])),
        Cell(str(e["reference"])),
        Cell(
            points(e["difference"]), _interval(e["difference_low"], e["difference_high"]), num=True
        ),
        Cell(f"{e['brands']:,}", num=True),
        Cell(_p(e["cmh_p"]), num=True),
        Cell(_p(e["logrank_p"]), num=True),
    )


def points(x: float | None) -> str:
    """A difference of shares in signed whole points, e.g. '+6 points'; a dash when none."""
    if x is None:
        return DASH
    n = round(x * 100)
    sign = "+" if n > 0 else MINUS if n < 0 else ""
    return f"{sign}{abs(n)} point{'' if abs(n) == 1 else 's'}"


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    lo, hi = round(low * 100), round(high * 100)
    return f"{_signed(lo)} to {_signed(hi)}"


def _signed(n: int) -> str:
    return f"{MINUS}{-n}" if n < 0 else str(n)


def _p(p: float | None) -> str:
    if p is None:
        return DASH
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def company_personas(v: View, brand: str) -> Table | None:
    """The brand by persona, where two or more personas asked it; else None."""
    rows = [r for r in v.data.metrics["groups"].get("brand_persona") or () if r["brand"] == brand]
    if len(rows) < 2:
        return None
    body = []
    for r in rows:
        rate, median = rate_cells(r)
        body.append(
            (Cell(str(r["persona"]), header=True), rate, median, Cell(f"{r['probes']:,}", num=True))
        )
    return Table(
        "By persona",
        (
            Cell("Persona"),
            Cell("Response rate (95% CI)", num=True),
            Cell("Median time (95% CI)", num=True),
            Cell("Probes", num=True),
        ),
        tuple(body),
        note=(
            "One brand's probes per persona are few, so these intervals are wide; the persona "
            "effects on the overview pool every brand."
        ),
    )


def method_personas(v: View) -> tuple[Table | None, str, str]:
    """The method page's personas table, the assignment design in words, and the ethics
    approval in words ("" where study.toml records none)."""
    d = v.data.design
    approval = d.get("approval")
    approved = ""
    if approval:
        approved = (
            f"The study was approved by {approval['board']} (reference "
            f"{approval['reference']}) on {approval['date']}."
        )
    personas = d.get("personas") or []
    if not personas:
        return None, "", approved
    sent = {r["persona"]: r["probes"] for r in v.data.metrics["groups"].get("persona") or ()}
    rows = tuple(
        (
            Cell(p["persona"], header=True),
            Cell(p["channel"]),
            Cell("; ".join(f"{k} {val}" for k, val in sorted(p["attributes"].items())) or DASH),
            Cell(f"{sent.get(p['persona'], 0):,}", num=True),
        )
        for p in personas
    )
    table = Table(
        "Personas: the accounts that asked, and their attributes",
        (Cell("Persona"), Cell("Channel"), Cell("Attributes"), Cell("Probes sent", num=True)),
        rows,
        note=(
            "The personas' own accounts are not shown, so that later studies' probes are not "
            "recognised."
        ),
    )
    return table, _assignment(d.get("assignment")), approved


def _assignment(a: dict[str, Any] | None) -> str:
    if a is None:
        return "Each channel had one persona, so no assignment design was needed."
    if a["design"] == BALANCED:
        said = (
            "Balanced (an audit design): every brand was asked equally often by each persona "
            "that could ask it (those of its country, and those without one), in an order "
            "drawn at random from the study's seed for each brand and block of rounds, so no "
            "persona is tied to a round, time slot or inquiry."
        )
    else:
        said = (
            "By country (the UXalliance design): each country's brands were asked by that "
            "country's personas, taking turns from round to round, so persona and country "
            "go together and a persona's effect cannot be told from its country's."
        )
    if a.get("max_per_brand"):
        said += f" No persona asked one brand more than {a['max_per_brand']} times."
    return said
