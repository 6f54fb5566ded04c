"""The terminal table of `replybench analyze`: brands ranked, from `analyze`'s result."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from study.effect_words import effect_of


def brand_table(result: dict[str, Any]) -> Table:
    """Brands in rank order: tier, rank [95% interval], response rate [Wilson 95%], median
    hours, shares answered within 1, 12 and 24 hours, restricted mean hours, probes."""
    study = result["study"]
    window = f"{study['window_hours']:g}"
    table = Table(
        title=f"{escape(study['name'])}: brands ranked by restricted mean time to response",
        caption=(
            f"As of {study['as_of']}; {study['sent']} probes sent; window {window} h. "
            "Brackets: 95% intervals (rank: bootstrap; rate: Wilson; median: Greenwood). "
            "Brands in one tier cannot be told apart from the tier's best (Holm-adjusted "
            "log-rank p >= 0.05)."
        ),
    )
    for header in ("Tier", "Rank", "Brand"):
        table.add_column(header, justify="left" if header == "Brand" else "right")
    for header in ("Response rate", "Median h", "<=1h", "<=12h", "<=24h", f"Mean h (<={window})"):
        table.add_column(header, justify="right")
    table.add_column("Probes", justify="right")
    metrics = {row["brand"]: row for row in result["groups"]["brand"]}
    tier = {row["brand"]: row["tier"] for row in result["comparisons"]["tiers"]}
    for r in result["comparisons"]["ranks"]:
        m = metrics[r["brand"]]
        table.add_row(
            str(tier[r["brand"]]),
            f"{r['rank']} \\[{r['rank_low']}-{r['rank_high']}]",
            escape(r["brand"]),
            f"{_pct(m['response_rate'])} \\[{_pct(m['response_rate_low'])}, "
            f"{_pct(m['response_rate_high'])}]",
            f"{_hours(m['median_hours'])} \\[{_hours(m['median_hours_low'])}, "
            f"{_hours(m['median_hours_high'])}]",
            _pct(m["answered_within_1h"]),
            _pct(m["answered_within_12h"]),
            _pct(m["answered_within_24h"]),
            _hours(m["restricted_mean_hours"]),
            str(m["probes"]),
        )
    return table


def open_note(result: dict[str, Any]) -> str:
    """What the table's figures mean while some probes are still open."""
    study = result["study"]
    window = f"{study['window_hours']:g}"
    return (
        f"{study['open']} of {study['sent']} probes are still open (no response yet, the "
        f"{window}-hour window not ended at {study['as_of']}): the response rate counts them "
        "as unanswered so far; <=1h, <=12h, <=24h and the mean are Kaplan-Meier estimates "
        "that count them only for as long as they were watched, so they can be higher."
    )


def persona_lines(result: dict[str, Any]) -> list[str]:
    """For a study asked through several personas: each persona's (and attribute level's)
    response rate, and each effect against the reference level in words."""
    lines = []
    for grouping in (result.get("persona_effects") or {}).values():
        said = grouping["attribute"] or "persona"
        for r in grouping["levels"]:
            lines.append(
                f"{said} {r['level']}: {_pct(r['response_rate'])} answered "
                f"[{_pct(r['response_rate_low'])}, {_pct(r['response_rate_high'])}] of "
                f"{r['probes']} probes to {r['brands']} brands"
            )
        for e in grouping["effects"]:
            lines.append(
                effect_of(said, e)
                + (
                    f" (stratified log-rank p = {e['logrank_p']:.3g})"
                    if e["logrank_p"] is not None
                    else ""
                )
            )
        if grouping["unknown"]:
            lines.append(f"{grouping['unknown']} probes' personas have no {said}: left out.")
    return lines


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _hours(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"
