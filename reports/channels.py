"""The channels side by side, for a study on more than one (X, Mastodon, by hand...): the
overview's section, a brand's table, the methodology's list, and what a brand's findings
about channels are written from. A single-channel study gets none of these."""

from __future__ import annotations

from collections import Counter
from typing import Any

from reports.charts import ChartSpec
from reports.context import Cell, Chart, Figure, Table
from reports.fmt import DASH, count, pct
from reports.view import SCOPE_NAMES, View, channel_name, interval, margin_for, rate_cells

HANDLE_AS_WRITTEN = ("email", "manual")  # addresses and form URLs, not @handles


def multichannel(v: View) -> bool:
    """Whether the study asked on more than one channel."""
    return len(v.channels) > 1


def index_channels(v: View, root: str = "") -> tuple[Figure, Table, ChartSpec] | None:
    """The overview's channels (chart and table) and its brand x channel table."""
    if not multichannel(v):
        return None
    head = (
        Cell("Channel"),
        Cell("Brands probed", num=True),
        Cell("Probes", num=True),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
        Cell("\u2264 1 h", num=True),
        Cell("\u2264 24 h", num=True),
    )
    rows = []
    for c in v.channels:
        m = v.channel_row.get(c)
        rate, median = rate_cells(m)
        brands = sum(1 for b in v.brands if (b, c) in v.brand_channel)
        rows.append(
            (
                Cell(channel_name(c), header=True),
                Cell(str(brands), num=True),
                Cell(f"{m['probes']:,}" if m else "0", num=True),
                rate,
                median,
                Cell(pct(m["answered_within_1h"]) if m else DASH, num=True),
                Cell(pct(m["answered_within_24h"]) if m else DASH, num=True),
            )
        )
    note = "Within 1 h and 24 h: shares answered by then (Kaplan-Meier)."
    table = Table("Channels", head, tuple(rows), note)
    bars = [interval(channel_name(c), v.channel_row.get(c)) for c in v.channels]
    height = 0.8 + 0.22 * len(bars)
    spec = ChartSpec(
        "charts/index-channels.svg", "", 6.4, height,
        left=margin_for([b.label for b in bars]), bottom=0.5, top=0.1, intervals=tuple(bars),
        reference=v.overall["response_rate"] if v.overall else None,
        reference_label="all channels",
    )  # fmt: skip
    alt = (
        f"Response rate on each of the study's {count(len(v.channels), 'channel')} with its "
        "95% Wilson interval; the dashed line is all channels together. The numbers are in "
        "the table below."
    )
    chart = Chart(f"{root}{spec.path}", "Response rate by channel", alt, 614, round(height * 96))
    return Figure(chart, table), _brand_channels(v, root), spec


def _brand_channels(v: View, root: str) -> Table:
    head = (Cell("Brand"), *(Cell(channel_name(c), num=True) for c in v.channels))
    rows = []
    for brand in v.brands:
        cells = [Cell(v.name(brand), href=v.company_href(brand, root), header=True)]
        for c in v.channels:
            m = v.brand_channel.get((brand, c))
            scopes = set(v.channel_scopes.get((brand, c), {}).values())
            if m is not None:
                sub = f"{m['answered']}/{m['probes']}"
                cells.append(Cell(pct(m["response_rate"]), sub, num=True))
            elif scopes == {"none"}:
                cells.append(Cell("no account", mark="none"))
            else:
                cells.append(Cell(DASH, num=True))
        rows.append(tuple(cells))
    note = (
        "Answered / probes below each rate. \u2013: the brand was not asked on that channel; "
        "no account: none could be found there, nothing was sent."
    )
    return Table("Response rate by brand and channel", head, tuple(rows), note)


def company_channels(v: View, brand: str) -> Table | None:
    """A brand's figures on each channel of a multichannel study."""
    if not multichannel(v):
        return None
    rows = []
    for c in v.channels:
        m = v.brand_channel.get((brand, c))
        rate, median = rate_cells(m)
        rows.append(
            (
                Cell(channel_name(c), header=True),
                Cell(*_accounts(v, brand, c)),
                Cell(str(m["probes"]) if m else "0", num=True),
                Cell(str(m["answered"]) if m else DASH, num=True),
                rate,
                median,
            )
        )
    head = (
        Cell("Channel"),
        Cell("Account(s) asked"),
        Cell("Probes", num=True),
        Cell("Answered", num=True),
        Cell("Response rate (95% CI)", num=True),
        Cell("Median time (95% CI)", num=True),
    )
    return Table(f"{v.name(brand)} by channel", head, tuple(rows))


def _accounts(v: View, brand: str, channel: str) -> tuple[str, str]:
    """The handles asked on a channel, and in how many countries with which scope."""
    scopes = v.channel_scopes.get((brand, channel), {})
    if not scopes:
        return "not in the study", ""
    shown = ", ".join(_handle(channel, h) for h in sorted(v.channel_handles[(brand, channel)]))
    counted = Counter(scopes.values())
    where = "; ".join(
        f"{SCOPE_NAMES[s]} in {count(counted[s], 'country', 'countries')}"
        for s in ("local", "global", "none")
        if counted[s]
    )
    return shown or "no account", where


def _handle(channel: str, handle: str) -> str:
    if channel in HANDLE_AS_WRITTEN or "://" in handle:
        return handle
    return f"@{handle.lstrip('@')}"


def channel_facts(v: View, brand: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """(channel's name, the brand's metrics row there) for a brand's findings."""
    if not multichannel(v):
        return ()
    return tuple((channel_name(c), m) for c in v.channels if (m := v.brand_channel.get((brand, c))))


def method_channels(v: View) -> Table | None:
    """The study's channels: who was asked on each, and how many probes were sent."""
    if not multichannel(v):
        return None
    rows = []
    for c in v.channels:
        asked = {
            b for (b, ch), s in v.channel_scopes.items() if ch == c and set(s.values()) - {"none"}
        }
        handles = {h for (_, ch), hs in v.channel_handles.items() if ch == c for h in hs}
        m = v.channel_row.get(c)
        rows.append(
            (
                Cell(channel_name(c), c, header=True),
                Cell(str(len(asked)), num=True),
                Cell(str(len(handles)), num=True),
                Cell(f"{m['probes']:,}" if m else "0", num=True),
            )
        )
    head = (
        Cell("Channel"),
        Cell("Brands asked", num=True),
        Cell("Accounts asked", num=True),
        Cell("Probes sent", num=True),
    )
    return Table("Channels", head, tuple(rows))
