"""The overview (index), country and methodology pages' contexts and charts."""

from __future__ import annotations

from typing import Any

from reports.channels import index_channels
from reports.charts import FIELD_COLOUR, ChartSpec, Curve, Grid
from reports.context import Cell, Chart, CountryPage, Fact, Figure, IndexPage, Link, Table
from reports.fmt import count, day, hours, pct
from reports.personas import index_personas
from reports.view import (
    MAX_CHART_ROWS,
    View,
    colour_style,
    interval,
    margin_for,
    rate_cells,
    rate_facts,
)
from reports.waves import since_last_wave

LABELLED_CURVES = 28  # brands drawn in colour with a legend; the rest in grey
CURVE_HOURS = (1.0, 12.0, 24.0, 48.0)


def index_page(v: View) -> tuple[IndexPage, list[ChartSpec]]:
    """The overview page and its charts (three, and one more for several channels)."""
    ranking = _ranking(v)
    rates, rates_spec = _rates(v)
    curves, curves_spec = _curves(v)
    heat, heat_spec = _heatmap(v)
    specs = [rates_spec, curves_spec, heat_spec]
    by_channel = index_channels(v)
    channels, brand_channels = None, None
    if by_channel is not None:
        channels, brand_channels, channels_spec = by_channel
        specs.append(channels_spec)
    since = since_last_wave(v)
    if since is not None:
        specs.append(since[1])
    page = IndexPage(
        layout=v.layout(str(v.study["name"]), ""),
        headline=_headline(v),
        summary=_summary(v),
        ranking=ranking,
        rates=rates,
        curves=curves,
        heatmap=heat,
        countries=_countries(v),
        channels=channels,
        brand_channels=brand_channels,
        since=None if since is None else since[0],
        personas=index_personas(v),
    )
    return page, specs


def _headline(v: View) -> tuple[Fact, ...]:
    s, o = v.study, v.overall
    facts = [
        Fact(
            "Brands",
            f"{len(v.brands):,}",
            f"in {count(len(v.countries), 'country', 'countries')}",
        ),
        Fact(
            "Probes sent",
            f"{s['sent']:,}",
            f"of {s['probes']:,} in the journal; {s['missed']:,} missed, {s['failed']:,} failed",
        ),
    ]
    if o is not None:
        facts.extend(rate_facts(o))
    facts.append(
        Fact(
            "Window",
            f"{s['window_hours']:g} h",
            f"sent {day(s['first_sent_at'])} to {day(s['last_sent_at'])}; as of {day(s['as_of'])}",
        )
    )
    return tuple(facts)


def _summary(v: View) -> str:
    s, o = v.study, v.overall
    said = (
        f"{count(s['sent'], 'inquiry', 'inquiries')} were sent to "
        f"{count(len(v.rank), 'brand')} in {count(len(v.countries), 'country', 'countries')} "
        f"and watched for {s['window_hours']:g} hours each."
    )
    if s.get("open"):  # their windows had not ended: say so, and what the figures then mean
        said = said[:-1] + (
            f", except {count(s['open'], 'inquiry', 'inquiries')} still open at the as-of time "
            "(no response yet, window not ended): the response rate counts them as unanswered "
            "so far, the shares answered within a time only for as long as they were watched."
        )
    if o is not None and o["response_rate"] is not None:
        said += (
            f" {pct(o['response_rate'])} were answered; half of all inquiries had an answer "
            f"after {hours(o['median_hours'], missing='more than the window')}."
        )
    return said + " Brands are ranked by their mean time to response within the window."


def _ranking(v: View) -> Table:
    head = (
        Cell("Tier", num=True),
        Cell("Rank (95% CI)", num=True),
        Cell("Brand"),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
        Cell("\u2264 1 h", num=True),
        Cell("\u2264 12 h", num=True),
        Cell("\u2264 24 h", num=True),
        Cell(f"Mean time (\u2264 {v.study['window_hours']:g} h)", num=True),
        Cell("Probes", num=True),
    )
    rows = []
    for brand in v.brands:
        r, m = v.rank.get(brand), v.brand_row.get(brand)
        link = Cell(v.name(brand), href=v.company_href(brand, ""), header=True)
        if r is None or m is None:
            empty = Cell("\u2013", num=True)
            rows.append((empty, empty, link, *(empty,) * 6, Cell("0", num=True)))
            continue
        rate, median = rate_cells(m)
        rows.append(
            (
                Cell(str(v.tier[brand]), num=True),
                Cell(str(r["rank"]), f"{r['rank_low']}\u2013{r['rank_high']}", num=True),
                link,
                rate,
                median,
                Cell(pct(m["answered_within_1h"]), num=True),
                Cell(pct(m["answered_within_12h"]), num=True),
                Cell(pct(m["answered_within_24h"]), num=True),
                Cell(hours(m["restricted_mean_hours"]), num=True),
                Cell(f"{m['probes']:,}", num=True),
            )
        )
    note = (
        "Ranked by the mean time to response within the window (lower is better), ties by "
        "response rate. Rank intervals come from a bootstrap; brands in one tier cannot be "
        "told apart from the tier's best (Holm-adjusted log-rank p \u2265 0.05)."
    )
    return Table("Brands ranked", head, tuple(rows), note)


def _rates(v: View) -> tuple[Chart, ChartSpec]:
    ranked = v.ranked()[:MAX_CHART_ROWS]
    bars = [interval(v.name(b), v.brand_row.get(b)) for b in ranked]
    reference = v.overall["response_rate"] if v.overall else None
    height = 0.8 + 0.22 * max(len(bars), 1)
    labels = [b.label for b in bars]
    spec = ChartSpec(
        "charts/index-rates.svg", "", 6.4, height, left=margin_for(labels), bottom=0.5,
        top=0.1, intervals=tuple(bars), reference=reference, reference_label="all brands",
    )  # fmt: skip
    shown = _shown(len(ranked), len(v.rank))
    alt = (
        f"Response rate of {shown} in rank order, each with its 95% Wilson interval; the "
        "dashed line is all brands together. The numbers are in the ranking table."
    )
    title = "Response rate by brand, in rank order"
    return Chart(spec.path, title, alt, 614, round(height * 96)), spec


def _curves(v: View) -> tuple[Figure, ChartSpec]:
    window = float(v.study["window_hours"])
    ranked = v.ranked()
    curves: list[Curve] = []
    labelled = ranked if len(ranked) <= LABELLED_CURVES else ranked[:7]
    for k, brand in enumerate(labelled):
        steps = v.data.curves.get(brand)
        if steps is not None:
            colour, style = colour_style(k)
            curves.append(Curve(v.name(brand), steps.times, steps.survival, colour, style))
    grey = [
        Curve("", s.times, s.survival, "#CCCCCC", "-", 0.6)
        for b in ranked[len(labelled) :]
        if (s := v.data.curves.get(b)) is not None
    ]
    field = v.data.field_curve
    if field is not None and len(ranked) > 1:
        grey.append(Curve("All brands", field.times, field.survival, FIELD_COLOUR, "--", 2.4))
    spec = ChartSpec(
        "charts/index-km.svg", "", 8.4, 4.6, left=0.65, bottom=0.5, top=0.15, right=2.5,
        km=tuple(grey + curves), window_hours=window,
    )  # fmt: skip
    marks = [h for h in CURVE_HOURS if h < window] + [window]
    head = (Cell("Brand"), *(Cell(f"\u2264 {h:g} h", num=True) for h in marks))
    rows = []
    for brand in ranked:
        steps = v.data.curves.get(brand)
        if steps is not None:
            cells = (Cell(pct(steps.answered_by(h)), num=True) for h in marks)
            rows.append((Cell(v.name(brand), href=v.company_href(brand, ""), header=True), *cells))
    if field is not None:
        cells = (Cell(pct(field.answered_by(h)), num=True) for h in marks)
        rows.append((Cell("All brands", header=True), *cells))
    table = Table("Share answered by hours since sending (Kaplan-Meier)", head, tuple(rows))
    extra = "" if len(ranked) <= LABELLED_CURVES else " The 7 best-ranked in colour, the rest grey."
    alt = (
        f"Kaplan-Meier step curves of the share of probes answered over {window:g} hours for "
        f"{count(len(ranked), 'brand')} and all brands together (dashed).{extra} The numbers "
        "are in the table below."
    )
    chart = Chart(spec.path, "Share of probes answered, by hours since sending", alt, 806, 442)
    return Figure(chart, table), spec


def _heatmap(v: View) -> tuple[Figure, ChartSpec]:
    ranked = v.ranked()[:MAX_CHART_ROWS]
    codes = sorted(v.countries)  # shown by code, so in the codes' order
    values, marks, rows = [], [], []
    for brand in ranked:
        line: list[float | None] = []
        kinds: list[str] = []
        cells = [Cell(v.name(brand), href=v.company_href(brand, ""), header=True)]
        for code in codes:
            account = v.account(brand, code)
            m = v.cell.get((brand, code))
            line.append(None if m is None else m["response_rate"])
            kinds.append(account.scope)
            if account.scope == "none":
                cells.append(Cell("no account", mark="none"))
            elif m is None:
                cells.append(Cell("\u2013"))
            else:
                sub = f"{m['answered']}/{m['probes']}" + (" global" if account.scope == "global"
                                                          else "")  # fmt: skip
                cells.append(Cell(pct(m["response_rate"]), sub, num=True, mark=account.scope))
        values.append(tuple(line))
        marks.append(tuple(kinds))
        rows.append(tuple(cells))
    grid = Grid(tuple(v.name(b) for b in ranked), tuple(codes), tuple(values), tuple(marks))
    width = max(5.0, margin_for(list(grid.rows)) + 0.42 * len(codes) + 0.3)
    height = 1.3 + 0.3 * max(len(ranked), 1)
    spec = ChartSpec(
        "charts/index-heatmap.svg", "", width, height, left=margin_for(list(grid.rows)),
        bottom=0.7, top=0.45, grid=grid,
    )  # fmt: skip
    head = (
        Cell("Brand"),
        *(Cell(code, href=v.country_href(code, ""), num=True) for code in codes),
    )
    shown = _shown(len(ranked), len(v.rank))
    note = (
        "Answered / probes below each rate. Global: no local account, the brand's global "
        "account was asked. No account: none could be found, nothing was sent."
    )
    table = Table(f"Response rate by brand and country ({shown})", head, tuple(rows), note)
    alt = (
        f"Heatmap of the response rate of {shown} (rows, in rank order) in each country "
        "(columns); hatched cells were asked through a global account, grey cells with a "
        "cross have no account. The numbers are in the table below."
    )
    chart = Chart(spec.path, "Response rate by brand and country", alt, round(width * 96),
                  round(height * 96))  # fmt: skip
    return Figure(chart, table), spec


def _shown(n: int, of: int) -> str:
    return f"the {n} best-ranked of {of:,} brands" if n < of else count(n, "brand")


def _countries(v: View) -> Table:
    head = (
        Cell("Country"),
        Cell("Brands probed", num=True),
        Cell("No account", num=True),
        Cell("Probes", num=True),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
    )
    rows = []
    for code in v.countries:
        m = v.country_row.get(code)
        rate, median = rate_cells(m)
        none = sum(1 for b in v.brands if v.account(b, code).scope == "none")
        rows.append(
            (
                Cell(v.country(code), href=v.country_href(code, ""), header=True),
                Cell(str(len(v.by_country.get(code, ()))), num=True),
                Cell(str(none), num=True),
                Cell(f"{m['probes']:,}" if m else "0", num=True),
                rate,
                median,
            )
        )
    return Table("Countries", head, tuple(rows))


def country_page(v: View, code: str) -> tuple[CountryPage, list[ChartSpec]]:
    """A country's page: its brands ranked within it, and its chart."""
    root = "../"
    name = v.country(code)
    rows: list[dict[str, Any]] = sorted(
        v.by_country.get(code, ()),
        key=lambda r: (
            r["restricted_mean_hours"],
            -(r["response_rate"] or 0.0),
            v.name(r["brand"]),
            r["brand"],
        ),
    )
    head = (
        Cell("Rank", num=True),
        Cell("Brand"),
        Cell("Account asked"),
        Cell("Answered", num=True),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
        Cell("\u2264 24 h", num=True),
        Cell("Mean time", num=True),
    )
    cells = []
    for k, r in enumerate(rows, 1):
        account = v.account(r["brand"], code)
        rate, median = rate_cells(r)
        cells.append(
            (
                Cell(str(k), num=True),
                Cell(v.name(r["brand"]), href=v.company_href(r["brand"], root), header=True),
                Cell(account.text(), mark="global" if account.scope == "global" else ""),
                Cell(f"{r['answered']} of {r['probes']}", num=True),
                rate,
                median,
                Cell(pct(r["answered_within_24h"]), num=True),
                Cell(hours(r["restricted_mean_hours"]), num=True),
            )
        )
    note = (
        "Ranked by the mean time to response within the window, ties by response rate; with "
        "a few probes per brand and country most differences here are within chance."
    )
    table = Table(f"Brands in {name}", head, tuple(cells), note)
    shown = rows[:MAX_CHART_ROWS]
    bars = [interval(v.name(r["brand"]), r, v.account(r["brand"], code)) for r in shown]
    height = 0.8 + 0.22 * max(len(bars), 1)
    slug = v.country_slug[code]
    m = v.country_row.get(code)
    spec = ChartSpec(
        f"charts/country-{slug}-brands.svg", "", 6.4, height,
        left=margin_for([b.label for b in bars]), bottom=0.5, top=0.1, intervals=tuple(bars),
        reference=m["response_rate"] if m else None, reference_label="all brands here",
    )  # fmt: skip
    alt = (
        f"Response rate in {name} of {_shown(len(shown), len(rows))} in this page's order, "
        "each with its 95% Wilson interval; hollow markers: asked through a global account. "
        "The numbers are in the table below."
    )
    chart = Chart(f"../{spec.path}", f"Brands in {name}: response rate", alt, 614,
                  round(height * 96))  # fmt: skip
    headline = (
        *rate_facts(m),
        Fact("Brands probed", str(len(rows)), f"{len(v.brands):,} in the study"),
    )
    missing = tuple(
        Link(v.company_href(b, root), v.name(b))
        for b in v.brands
        if v.account(b, code).scope == "none"
    )
    page = CountryPage(
        layout=v.layout(f"{name}: {v.study['name']}", root),
        name=name,
        code=code,
        headline=headline,
        ranking=Figure(chart, table),
        no_account=missing,
    )
    return page, [spec]
