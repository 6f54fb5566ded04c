"""The overview's section "Since the last wave": a slope chart of each brand's response rate
in the two waves and tables of every change with its 95% interval (data/waves.json, written
by analysis.waves for a study whose study.toml names its previous wave)."""

from __future__ import annotations

from typing import Any

from reports.charts import ChartSpec, Slope
from reports.context import Cell, Chart, Figure, SinceLastWave, Table
from reports.fmt import count, day, pct
from reports.view import MAX_CHART_ROWS, View, margin_for

MARK = "*"


def since_last_wave(v: View) -> tuple[SinceLastWave, ChartSpec] | None:
    """The section and its chart; None for a study without a previous wave."""
    w = v.data.waves
    if w is None:
        return None
    ends = (_wave_name(w["old"], "previous wave"), _wave_name(w["new"], "this wave"))
    brands = w["changes"]["brand"]
    slopes = tuple(
        Slope(
            v.name(r["brand"]),
            r["old"]["response_rate"],
            r["new"]["response_rate"],
            r["response_rate"]["excludes_zero"],
        )
        for r in brands[:MAX_CHART_ROWS]
    )
    right = margin_for([s.label for s in slopes]) + 0.2
    spec = ChartSpec(
        "charts/index-waves.svg", "", 3.6 + right, 4.2, left=0.75, bottom=0.4, top=0.15,
        right=right, slopes=slopes, slope_ends=ends,
    )  # fmt: skip
    clear = sum(r["response_rate"]["excludes_zero"] for r in brands)
    alt = (
        f"Response rate of {count(len(slopes), 'brand')} in {ends[0]} (left) and {ends[1]} "
        f"(right); the {clear} whose change has a 95% interval excluding zero are drawn solid "
        "with filled markers. The numbers are in the table below."
    )
    chart = Chart(spec.path, "Response rate by brand, then and now", alt, round(
        (3.6 + right) * 96), round(4.2 * 96))  # fmt: skip
    ranks = {r["brand"]: r for r in w["ranks"]}
    rows = [_row(Cell("All brands", header=True), w["changes"]["overall"][0], None)]
    for r in brands:
        link = Cell(v.name(r["brand"]), href=v.company_href(r["brand"], ""), header=True)
        rows.append(_row(link, r, ranks.get(r["brand"])))
    head = _head(ends) + (Cell(f"Rank: {ends[0]} \u2192 {ends[1]}", num=True),)
    table = Table("Changes by brand (new minus old, 95% intervals)", head, tuple(rows))
    country_rows = tuple(
        _row(Cell(v.country(r["country"]), href=_country_href(v, r["country"]), header=True), r,
             None)[:-1]
        for r in w["changes"]["country"]
    )  # fmt: skip
    countries = Table("Changes by country (the same brands)", _head(ends), country_rows)
    return SinceLastWave(Figure(chart, table), countries, _note(w, ends)), spec


def _wave_name(about: dict[str, Any], fallback: str) -> str:
    return f"Wave {about['wave']}" if about.get("wave") is not None else fallback


def _head(ends: tuple[str, str]) -> tuple[Cell, ...]:
    return (
        Cell("Group"),
        Cell(f"Response rate: {ends[0]} \u2192 {ends[1]}", num=True),
        Cell("Change in response rate", num=True),
        Cell("Change in median time", num=True),
        Cell("Change in mean time", num=True),
    )


def _row(name: Cell, r: dict[str, Any], rank: dict[str, Any] | None) -> tuple[Cell, ...]:
    rates = f"{pct(r['old']['response_rate'])} \u2192 {pct(r['new']['response_rate'])}"
    o, n = r["old"], r["new"]
    sub = f"{o['answered']}/{o['probes']} \u2192 {n['answered']}/{n['probes']}"
    cells = (
        name,
        Cell(rates, sub, num=True),
        _change(r["response_rate"], 100, "{:+.0f} pp"),
        _change(r["median_hours"], 1, "{:+.1f} h"),
        _change(r["restricted_mean_hours"], 1, "{:+.1f} h"),
    )
    if rank is None:
        return (*cells, Cell("", num=True))
    o, n = rank["old"], rank["new"]
    text = f"{o['rank']} \u2192 {n['rank']}" + (f" {MARK}" if rank["changed"] else "")
    sub = f"{o['rank_low']}\u2013{o['rank_high']} \u2192 {n['rank_low']}\u2013{n['rank_high']}"
    return (*cells, Cell(text, sub, num=True, mark="changed" if rank["changed"] else ""))


def _change(c: dict[str, Any], scale: float, fmt: str) -> Cell:
    if c["change"] is None:
        return Cell("\u2013", "a median beyond the window", num=True)

    def bound(x: float | None) -> str:
        return "open" if x is None else fmt.format(scale * x)

    text = fmt.format(scale * c["change"]) + (f" {MARK}" if c["excludes_zero"] else "")
    sub = f"{bound(c['low'])} to {bound(c['high'])}"
    return Cell(text, sub, num=True, mark="changed" if c["excludes_zero"] else "")


def _country_href(v: View, code: str) -> str:
    return v.country_href(code, "") if code in v.country_slug else ""


def _note(w: dict[str, Any], ends: tuple[str, str]) -> str:
    said = (
        f"{ends[0]} as of {day(w['old']['as_of'])}, {ends[1]} as of {day(w['new']['as_of'])}; "
        f"only the {count(len(w['brands']['both']), 'brand')} asked in both are compared. "
        f"{MARK} marks a change whose 95% interval excludes zero: response rates by Newcombe's "
        "hybrid score interval, median and mean time to response (within the window) by a "
        f"bootstrap of {w['bootstrap_replicates']:,} replicates; a rank marked {MARK} moved "
        "beyond both waves' rank intervals (they do not overlap)."
    )
    for what, side, where in (
        ("brands", "only_old", ends[0]),
        ("brands", "only_new", ends[1]),
        ("countries", "only_old", ends[0]),
        ("countries", "only_new", ends[1]),
    ):
        if w[what][side]:
            said += f" {what.capitalize()} only in {where}: {', '.join(w[what][side])}."
    return said
