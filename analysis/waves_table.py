"""The terminal table of `replybench compare`: each change with its 95% interval."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

MARK = "*"  # beside a change whose interval excludes zero


def changes_table(result: dict[str, Any]) -> Table:
    """Overall, each shared brand (in the new wave's rank order) and each shared country:
    response rate old -> new, the changes in rate, median and mean time with their 95%
    intervals, and (brands) the ranks with their intervals."""
    old, new = result["old"], result["new"]
    window = f"{result['window_hours']:g}"
    table = Table(
        title=f"{escape(_wave(old))} -> {escape(_wave(new))}: what changed",
        caption=(
            f"Changes are new minus old, with 95% intervals (rate: Newcombe; times: bootstrap, "
            f"{result['bootstrap_replicates']} replicates, seed {result['seed']}). "
            f"{MARK}: the interval excludes zero (ranks: the intervals do not overlap). "
            "Only brands in both studies are compared."
        ),
    )
    table.add_column("Group")
    for header in ("Response rate", "Change (pp)", "Median h change", f"Mean h (<={window})"):
        table.add_column(header, justify="right")
    table.add_column("Rank old -> new", justify="right")
    ranks = {r["brand"]: r for r in result["ranks"]}
    for grouping, key in (("overall", ""), ("brand", "brand"), ("country", "country")):
        for row in result["changes"][grouping]:
            name = "Overall" if not key else f"{grouping} {row[key]}"
            rank = ranks.get(row[key]) if key == "brand" else None
            table.add_row(
                escape(name),
                f"{_pct(row['old']['response_rate'])} -> {_pct(row['new']['response_rate'])}",
                _change(row["response_rate"], 100, "{:+.1f}"),
                _change(row["median_hours"], 1, "{:+.1f}"),
                _change(row["restricted_mean_hours"], 1, "{:+.1f}"),
                _rank(rank) if rank else "",
            )
    return table


def only_lines(result: dict[str, Any]) -> list[str]:
    """What was not compared: brands and countries in one study only."""
    lines = []
    for what in ("brands", "countries"):
        for side, label in (("only_old", "old"), ("only_new", "new")):
            if result[what][side]:
                lines.append(f"{what} only in the {label} study: {', '.join(result[what][side])}")
    return lines


def _wave(about: dict[str, Any]) -> str:
    return str(about["name"]) + (f" (wave {about['wave']})" if about["wave"] is not None else "")


def _change(c: dict[str, Any], scale: float, fmt: str) -> str:
    def show(x: float | None) -> str:
        return "open" if x is None else str(fmt.format(scale * x))

    if c["change"] is None:
        return "-"  # a median beyond the window in one wave: no size to give
    value = str(fmt.format(scale * c["change"]))
    mark = f" {MARK}" if c["excludes_zero"] else ""
    return f"{value} \\[{show(c['low'])}, {show(c['high'])}]{mark}"


def _rank(r: dict[str, Any]) -> str:
    o, n = r["old"], r["new"]
    mark = f" {MARK}" if r["changed"] else ""
    return (
        f"{o['rank']} \\[{o['rank_low']}-{o['rank_high']}] -> "
        f"{n['rank']} \\[{n['rank_low']}-{n['rank_high']}]{mark}"
    )


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"
