"""The methodology page: the design, the study's own numbers, and the data to download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports.channels import method_channels
from reports.context import Cell, MethodPage, Table
from reports.data import DATA_FILES, DESIGN_FILES
from reports.fmt import DASH, count, day, pct, weekday_span, when
from reports.personas import method_personas
from reports.provenance import manifest_table
from reports.view import SLOT_NAMES, View

SOURCES = {
    "campaign": "sent by replybench's runner, as the plan says",
    "import": "collected by hand and imported from a CSV file (replybench import)",
    "twcs": (
        "taken from a passive corpus of customer-service tweets (TWCS, replybench "
        "import-twcs): nobody sent these inquiries on a schedule"
    ),
}


def method_page(v: View, data_dir: Path) -> MethodPage:
    """The methodology page; `data_dir` holds the files it lists (for their sizes)."""
    d = v.data.design
    known = bool(d.get("known"))
    comparisons = v.data.metrics["comparisons"]
    personas, assignment, approval = method_personas(v)
    return MethodPage(
        layout=v.layout(f"Method: {v.study['name']}", ""),
        known=known,
        source=SOURCES.get(str(d.get("source")), f"recorded as '{d.get('source')}'"),
        settings=_settings(v, d),
        slots=_slots(d),
        scripts=_scripts(d),
        countries=_countries(v, d),
        targets=_targets(v),
        numbers=_numbers(v),
        window=f"{v.study['window_hours']:g}",
        replicates=f"{comparisons['bootstrap_replicates']:,}",
        seed=str(comparisons["seed"]),
        quality=_quality(v),
        downloads=_downloads(v, data_dir),
        channels=method_channels(v),
        manifest=manifest_table(v.data.manifest),
        personas=personas,
        assignment=assignment,
        approval=approval,
    )


def _settings(v: View, d: dict[str, Any]) -> Table:
    caps = d.get("caps") or {}

    def known(value: Any, unit: str = "") -> str:
        return "not recorded" if value is None else f"{value:g}{unit}"

    period = f"{d['start']} to {d['end']} (local dates)" if d.get("start") else "not recorded"
    rows = [
        ("Sending period", period),
        ("Probes per target (rounds)", known(d.get("probes_per_target"))),
        ("Observation window", f"{v.study['window_hours']:g} hours"),
        ("Least time between two probes to one account", known(d.get("min_spacing_hours"), " h")),
        (
            "Most probes per account in the study",
            known(caps.get("max_probes_per_account")),
        ),
        (
            "Most probes per account per UTC day",
            known(caps.get("max_probes_per_account_per_day")),
        ),
        ("Channels", ", ".join(d.get("channels") or ()) or DASH),
    ]
    return Table(
        "Design",
        (Cell("Setting"), Cell("Value")),
        tuple((Cell(k, header=True), Cell(val)) for k, val in rows),
    )


def _slots(d: dict[str, Any]) -> Table:
    rows = []
    for s in d.get("slots") or ():
        hours = f"{s['start']}\u2013{s['end']}" if s.get("start") else "not recorded"
        rows.append(
            (
                Cell(SLOT_NAMES.get(s["name"], s["name"]).capitalize(), s["name"], header=True),
                Cell(weekday_span(s.get("days")) if s.get("days") else "not recorded"),
                Cell(hours),
                Cell(DASH if s.get("probes") is None else f"{s['probes']:,}", num=True),
            )
        )
    head = (Cell("Slot"), Cell("Days"), Cell("Local time"), Cell("Probes planned", num=True))
    return Table("Slots: when inquiries are sent, in each country's local time", head, tuple(rows))


def _scripts(d: dict[str, Any]) -> Table:
    rows = []
    for s in d.get("scripts") or ():
        texts: dict[str, str] = s.get("texts") or {}
        shown = texts.get("en") or next(iter(texts.values()), "")
        rows.append(
            (
                Cell(s["id"], s.get("category") or "", header=True),
                Cell(", ".join(sorted(texts)) or "not recorded"),
                Cell(shown or "not recorded"),
                Cell(DASH if s.get("probes") is None else f"{s['probes']:,}", num=True),
            )
        )
    head = (
        Cell("Script"),
        Cell("Languages"),
        Cell("Text (English where written)"),
        Cell("Probes planned", num=True),
    )
    return Table("Scripts: the inquiries", head, tuple(rows))


def _countries(v: View, d: dict[str, Any]) -> Table:
    design = {c["code"]: c for c in d.get("countries") or ()}
    rows = []
    for code in v.countries:
        c = design.get(code, {})
        rows.append(
            (
                Cell(v.country(code), code, href=v.country_href(code, ""), header=True),
                Cell(c.get("timezone") or "not recorded"),
                Cell(c.get("language") or "not recorded"),
            )
        )
    head = (Cell("Country"), Cell("Time zone"), Cell("Language"))
    return Table("Countries", head, tuple(rows))


def _targets(v: View) -> Table:
    scopes = [v.account(b, c).scope for b in v.brands for c in v.countries]
    handles = {h for a in v.accounts.values() for h in a.handles}
    rows = (
        ("Brand-country pairs with a local account", scopes.count("local")),
        ("... asked through the brand's global account", scopes.count("global")),
        ("... with no account found (nothing sent)", scopes.count("none")),
        ("Distinct accounts asked", len(handles)),
    )
    head = (Cell("Targets"), Cell("Number", num=True))
    return Table(
        "Who was asked",
        head,
        tuple((Cell(k, header=True), Cell(f"{n:,}", num=True)) for k, n in rows),
    )


def _numbers(v: View) -> Table:
    s, o = v.study, v.overall
    rows = [
        ("Probes in the journal", f"{s['probes']:,}"),
        ("Sent by the as-of time (these enter every figure)", f"{s['sent']:,}"),
        ("Not sent by the as-of time (still planned)", f"{s['planned']:,}"),
        ("Missed: could not be sent inside their slot (excluded)", f"{s['missed']:,}"),
        ("Failed: refused by the platform (excluded)", f"{s['failed']:,}"),
        (
            "Caught up: moved to a later occurrence of their slot, the runner having been "
            "down in the planned one",
            f"{s.get('caught_up', 0):,}",
        ),
    ]
    if o is not None:
        rows += [
            ("Answered within the window", f"{o['answered']:,} ({pct(o['response_rate'])})"),
            (
                "Still open: no response yet, window not ended (counted as unanswered so far)",
                f"{o.get('open', 0):,}",
            ),
            ("Got an automatic acknowledgement (not a response)", f"{o['auto_acks']:,}"),
        ]
    rows.append(
        (
            "Direct messages that fit several probes (left unmatched, not counted)",
            f"{s.get('ambiguous_dms', 0):,}",
        )
    )
    rows += [
        ("First probe sent", when(s["first_sent_at"])),
        ("Last probe sent", when(s["last_sent_at"])),
        ("As of (the moment of analysis)", when(s["as_of"])),
    ]
    head = (Cell("Count"), Cell("Number", num=True))
    return Table(
        "The study's own numbers",
        head,
        tuple((Cell(k, header=True), Cell(n, num=True)) for k, n in rows),
    )


def _quality(v: View) -> str:
    q = v.data.quality
    if not q.get("probes_rated"):
        return "No quality ratings were imported for this study."

    def alpha(x: float | None) -> str:
        return "undefined" if x is None else f"{x:.2f}"

    return (
        f"{count(q['probes_rated'], 'response')} were rated ({count(q['ratings'], 'rating')} "
        f"by {count(len(q['raters']), 'rater')}). Agreement (Krippendorff's alpha, ordinal): "
        f"satisfaction {alpha(q['alpha_satisfaction'])}, answered {alpha(q['alpha_answered'])}. "
        "A brand's mean satisfaction comes with a 95% percentile bootstrap interval (10,000 "
        "resamples of its rated responses), which stays on the 1-5 scale, and only when at "
        f"least {q.get('min_rated_for_interval', 10)} of its responses were rated: fewer say "
        "too little for an interval."
    )


def _downloads(v: View, data_dir: Path) -> Table:
    rows = []
    what_of = dict((*DATA_FILES, *DESIGN_FILES))
    for name in (*(n for n, _ in DATA_FILES), *v.extra_files):
        what = what_of[name]
        size = (data_dir / name).stat().st_size
        shown = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{max(1, round(size / 1e3))} kB"
        rows.append(
            (Cell(name, href=f"data/{name}", header=True), Cell(what), Cell(shown, num=True))
        )
    head = (Cell("File"), Cell("Contents"), Cell("Size", num=True))
    note = f"As of {when(v.study['as_of'])}; sent {day(v.study['first_sent_at'])} onwards."
    return Table("Data", head, tuple(rows), note)
