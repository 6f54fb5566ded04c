"""A company's page: its figures against the field, by country, slot and kind of response,
its strengths and weaknesses, and example exchanges."""

from __future__ import annotations

from typing import Any

from reports.answer_language import answer_language
from reports.channels import channel_facts, company_channels
from reports.charts import OKABE_ITO, ChartSpec, Curve
from reports.context import Cell, Chart, CompanyPage, Exchange, Fact, Figure, Table
from reports.findings import Facts, findings
from reports.fmt import count, duration, hours, pct, weekday_span, when
from reports.personas import company_personas
from reports.service_hours import stated_hours
from reports.view import (
    KIND_NAMES,
    SLOT_NAMES,
    View,
    answer_facts,
    interval,
    margin_for,
    rate_cells,
    rate_facts,
)

ROOT = "../"
SLOT_ADJECTIVES = {"business": "business-hours"}
CURVE_HOURS = (1.0, 12.0, 24.0, 48.0)


def company_page(v: View, brand: str) -> tuple[CompanyPage, list[ChartSpec]]:
    """The page of `brand` and the two charts it shows."""
    name = v.name(brand)
    slug = v.brand_slug[brand]
    row = v.brand_row.get(brand)
    curve, curve_spec = _curve(v, brand, slug)
    countries, countries_spec = _countries(v, brand, slug)
    good, bad = findings(_facts(v, brand))
    page = CompanyPage(
        layout=v.layout(f"{name}: {v.study['name']}", ROOT),
        name=name,
        brand=brand,
        sector=str(v.sectors.get(brand, "")),
        standing=_standing(v, brand),
        headline=_headline(v, brand, row),
        strengths=tuple(good),
        weaknesses=tuple(bad),
        curve=curve,
        countries=countries,
        slots=_slots(v, brand),
        kinds=_kinds(v, brand),
        quality=_quality(v, brand),
        quality_note=_quality_note(v, brand),
        exchanges=_exchanges(v, brand),
        channels=company_channels(v, brand),
        service_hours=stated_hours(v, brand),
        answer_language=answer_language(v, brand),
        personas=company_personas(v, brand),
    )
    return page, [curve_spec, countries_spec]


def _standing(v: View, brand: str) -> str:
    r = v.rank.get(brand)
    if r is None:
        return "Not ranked: no probe was sent to this brand."
    n = len(v.rank)
    return (
        f"Rank {r['rank']} of {n} (95% interval {r['rank_low']}\u2013{r['rank_high']}), "
        f"tier {v.tier[brand]} of {v.tiers}."
    )


def _headline(v: View, brand: str, row: dict[str, Any] | None) -> tuple[Fact, ...]:
    facts = list(rate_facts(row))
    if row is not None:
        facts.append(
            Fact(
                "Mean time to response",
                hours(row["restricted_mean_hours"]),
                f"up to the {v.study['window_hours']:g}-hour window; the ranking's measure",
            )
        )
        facts.extend(answer_facts(row, v.study["window_hours"]))
    scopes = [v.account(brand, c).scope for c in v.countries]
    scopes = [s for s in scopes if s]
    facts.append(
        Fact(
            "Local accounts",
            f"{scopes.count('local')} of {len(scopes)}",
            f"global account asked in {scopes.count('global')}; "
            f"no account in {scopes.count('none')}",
        )
    )
    return tuple(facts)


def _curve(v: View, brand: str, slug: str) -> tuple[Figure, ChartSpec]:
    window = float(v.study["window_hours"])
    name = v.name(brand)
    mine, field = v.data.curves.get(brand), v.data.field_curve
    curves = []
    if field is not None:
        curves.append(Curve("All brands", field.times, field.survival, "#555555", "--", 1.3))
    if mine is not None:
        curves.append(Curve("This brand", mine.times, mine.survival, OKABE_ITO[0], "-", 2.0))
    path = f"charts/company-{slug}-km.svg"
    spec = ChartSpec(path, "", 7.2, 3.4, left=0.65, bottom=0.5, top=0.15, right=1.3,
                     km=tuple(curves), window_hours=window)  # fmt: skip
    marks = [*CURVE_HOURS, window] if window not in CURVE_HOURS else list(CURVE_HOURS)
    marks = [h for h in marks if h <= window]
    head = (Cell("Group"), *(Cell(f"\u2264 {h:g} h", num=True) for h in marks))
    rows = []
    for label, steps in (("This brand", mine), ("All brands", field)):
        if steps is not None:
            rows.append(
                (Cell(label, header=True), *(Cell(pct(steps.answered_by(h)), num=True)
                                             for h in marks))
            )  # fmt: skip
    table = Table("Share answered by hours since sending (Kaplan-Meier)", head, tuple(rows))
    alt = (
        f"Step curves of the share of {name}'s probes answered over {window:g} hours, "
        "against all brands together; the numbers are in the table below."
    )
    chart = Chart(f"../{path}", f"How fast {name} answered, against the field", alt, 691, 326)
    return Figure(chart, table), spec


def _countries(v: View, brand: str, slug: str) -> tuple[Figure, ChartSpec]:
    name = v.name(brand)
    bars, rows = [], []
    for code in v.countries:
        account = v.account(brand, code)
        cell = v.cell.get((brand, code))
        label = v.country(code)
        bars.append(interval(label, cell, account))
        rate, median = rate_cells(cell)
        mark = account.scope if account.scope in ("global", "none") else ""
        rows.append(
            (
                Cell(label, href=v.country_href(code, ROOT), header=True),
                Cell(account.text(), mark=mark),
                Cell(str(cell["probes"]) if cell else "0", num=True),
                Cell(str(cell["answered"]) if cell else "\u2013", num=True),
                rate,
                median,
            )
        )
    head = (
        Cell("Country"),
        Cell("Account asked"),
        Cell("Probes", num=True),
        Cell("Answered", num=True),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
    )
    table = Table(f"{name} by country", head, tuple(rows))
    height = 0.75 + 0.2 * max(len(bars), 1)
    labels = [b.label for b in bars]
    path = f"charts/company-{slug}-countries.svg"
    spec = ChartSpec(
        path, "", 6.4, height, left=margin_for(labels), bottom=0.5, top=0.1,
        intervals=tuple(bars),
        reference=v.brand_row[brand]["response_rate"] if brand in v.brand_row else None,
        reference_label="all countries",
    )  # fmt: skip
    alt = (
        f"Response rate of {name} in each country with its 95% interval; hollow markers: "
        "asked through the global account; crosses: no account. Numbers in the table below."
    )
    chart = Chart(f"../{path}", f"{name}: response rate by country", alt, 614,
                  round(height * 96))  # fmt: skip
    return Figure(chart, table), spec


def _slots(v: View, brand: str) -> Table:
    design = {s["name"]: s for s in v.data.design.get("slots") or ()}
    rows = []
    for r in v.slots.get(brand, ()):
        s = design.get(r["slot"])
        when = ""
        if s is not None and s["days"]:
            when = f"{weekday_span(s['days'])} {s['start']}\u2013{s['end']} local time"
        rate, median = rate_cells(r)
        rows.append(
            (
                Cell(SLOT_NAMES.get(r["slot"], r["slot"]).capitalize(), when, header=True),
                Cell(str(r["probes"]), num=True),
                Cell(str(r["answered"]), num=True),
                rate,
                median,
                Cell(pct(r["answered_within_24h"]), num=True),
            )
        )
    head = (
        Cell("Slot sent in"),
        Cell("Probes", num=True),
        Cell("Answered", num=True),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
        Cell("Within 24 h", num=True),
    )
    return Table("Answers by the time the inquiry was sent", head, tuple(rows))


def _kinds(v: View, brand: str) -> Table:
    k = v.kinds.get(brand)
    field = v.data.breakdowns.get("field_kinds")
    head = (
        Cell("Kind of first response"),
        Cell("Probes", num=True),
        Cell("Share of responses", num=True),
        Cell("All brands", num=True),
    )
    rows = []
    if k is not None:
        for kind in ("public_reply", "direct_message", "redirect"):
            rows.append(
                (
                    Cell(KIND_NAMES[kind], header=True),
                    Cell(str(k[kind]), num=True),
                    Cell(_share(k[kind], k["responses"]), num=True),
                    Cell(_share(field[kind], field["responses"]) if field else "", num=True),
                )
            )
        for label, key in (
            ("Automatic acknowledgement (not a response)", "auto_acks"),
            ("\u2026 and nothing else", "auto_ack_only"),
        ):
            rows.append(
                (
                    Cell(label, header=True),
                    Cell(str(k[key]), num=True),
                    Cell(f"{_share(k[key], k['probes'])} of probes", num=True),
                    Cell(
                        f"{_share(field[key], field['probes'])} of probes" if field else "",
                        num=True,
                    ),
                )
            )
    return Table("First responses by kind, against all brands", head, tuple(rows))


def _share(n: int, of: int) -> str:
    return pct(n / of) if of else "\u2013"


def _quality(v: View, brand: str) -> Table | None:
    q = v.quality.get(brand)
    if q is None:
        return None
    least = v.data.quality.get("min_rated_for_interval")
    ci = f"no interval below {least} rated responses" if least else ""
    if q["satisfaction_low"] is not None and q["satisfaction_high"] is not None:
        ci = f"95% CI {q['satisfaction_low']:.1f}\u2013{q['satisfaction_high']:.1f} (bootstrap)"
    head = (Cell("Measure"), Cell("Value", num=True))
    rows = (
        (Cell("Responses rated", header=True), Cell(str(q["probes"]), num=True)),
        (
            Cell("Mean satisfaction (1-5)", header=True),
            Cell(f"{q['satisfaction_mean']:.1f}", ci, num=True),
        ),
        (Cell("Answered the question", header=True), Cell(pct(q["answered_yes"]), num=True)),
        (Cell("Partly answered", header=True), Cell(pct(q["answered_partly"]), num=True)),
        (Cell("Did not answer it", header=True), Cell(pct(q["answered_no"]), num=True)),
    )
    return Table("Quality of the first responses, rated blind", head, rows)


def _quality_note(v: View, brand: str) -> str:
    q = v.data.quality
    if not q.get("probes_rated"):
        return "The responses of this study have not been rated for quality."
    if brand not in v.quality:
        return "None of this brand's responses were rated."
    return (
        f"Rated by {count(len(q['raters']), 'rater')} who saw neither brand nor country; "
        "each response's ratings are averaged first. See the method page for their agreement."
    )


def _exchanges(v: View, brand: str) -> tuple[Exchange, ...]:
    out = []
    for e in v.exchanges.get(brand, ()):
        country = v.country(e["country"])
        kind = KIND_NAMES.get(e["kind"], e["kind"])
        out.append(
            Exchange(
                title=f"{kind} after {duration(e['hours'])}",
                inquiry=e["inquiry_text"],
                inquiry_meta=(
                    f"Sent to @{e['handle'].lstrip('@')} ({e['scope']} account) in {country}, "
                    f"{SLOT_NAMES.get(e['slot'], e['slot'])}, {when(e['sent_at'])}"
                ),
                reply=e["reply_text"],
                reply_meta=f"{_answerer(e['author'], e['handle'])}, {when(e['replied_at'])}",
            )
        )
    return tuple(out)


def _answerer(author: str, handle: str) -> str:
    """Which account answered: the one asked, or another of the brand's (answers_from)."""
    name = f"@{author.lstrip('@')}"
    if author.lstrip("@").lower() == handle.lstrip("@").lower():
        return name
    return f"{name}, another account of the brand (not the one asked)"


def _facts(v: View, brand: str) -> Facts:
    probed, fastest, full, silent, global_in, global_ok, none_in = [], [], [], [], [], [], []
    for code in v.countries:
        name = v.country(code)
        account = v.account(brand, code)
        cell = v.cell.get((brand, code))
        if account.scope == "none":
            none_in.append(name)
        if cell is None:
            continue
        probed.append(name)
        if cell["median_hours"] is not None and cell["median_hours"] <= v.best_median[code]:
            fastest.append(name)
        if cell["probes"] and cell["answered"] == cell["probes"]:
            full.append(name)
        if cell["answered"] == 0:
            silent.append(name)
        if account.scope == "global":
            global_in.append(name)
            if cell["answered"]:
                global_ok.append(name)
    tier = v.tier.get(brand)
    slots = tuple((SLOT_ADJECTIVES.get(r["slot"], r["slot"]), r) for r in v.slots.get(brand, ()))
    return Facts(
        brands=len(v.rank),
        rank=v.rank.get(brand),
        tier=tier,
        tiers=v.tiers,
        tier_size=sum(1 for t in v.tier.values() if t == tier),
        brand=v.brand_row.get(brand),
        field=v.overall,
        countries=len(v.countries),
        probed=tuple(probed),
        fastest_in=tuple(fastest) if len(v.rank) > 1 else (),
        all_answered_in=tuple(full),
        none_answered_in=tuple(silent),
        global_in=tuple(global_in),
        global_answered_in=tuple(global_ok),
        no_account_in=tuple(none_in),
        slots=slots,
        kinds=v.kinds.get(brand),
        quality=v.quality.get(brand),
        channels=channel_facts(v, brand),
    )
