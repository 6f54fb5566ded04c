"""The published data looked up the way the pages need it: brands in rank order, their
names and slugs, each brand-country cell's account, and the shared page parts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from reports.charts import OKABE_ITO, Interval
from reports.context import Cell, Fact, Layout, Link
from reports.data import DATA_FILES, WAVES_FILE, SiteData, country_name, slugs
from reports.fmt import count, hours, hours_range, pct, pct_range, when

MAX_CHART_ROWS = 40  # brands in one chart; the tables hold them all
SLOT_NAMES = {
    "business": "business hours",
    "evening": "evenings",
    "weekend": "weekends",
    "night": "nights",
}
KIND_NAMES = {
    "public_reply": "Public reply",
    "direct_message": "Direct message",
    "redirect": '"Please DM us" redirect',
    "auto_ack": "Automatic acknowledgement",
}
SCOPE_NAMES = {"local": "local account", "global": "global account", "none": "no account"}
CHANNEL_NAMES = {  # in the order the channels are shown; others follow by name
    "x": "X",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "email": "E-mail",
    "manual": "By hand",
}


@dataclass(frozen=True)
class Account:
    """Who was asked for one brand in one country: its scope and handles."""

    scope: str  # "local", "global", "none", or "" (not in the study)
    handles: tuple[str, ...]

    def text(self) -> str:
        if not self.scope:
            return "not in the study"
        if self.scope == "none":
            return "no account"
        shown = ", ".join(f"@{h.lstrip('@')}" if "@" not in h[1:] else h for h in self.handles)
        return f"{self.scope} {shown}".strip()


class View:
    """Lookups over one SiteData, built once and read by every page."""

    def __init__(self, data: SiteData, extra_files: tuple[str, ...] = ()) -> None:
        self.data = data
        self.extra_files = extra_files
        m, design = data.metrics, data.design
        groups = m["groups"]
        self.study: dict[str, Any] = m["study"]
        self.overall: dict[str, Any] | None = groups["overall"][0] if groups["overall"] else None
        self.brand_row = {r["brand"]: r for r in groups["brand"]}
        self.country_row = {r["country"]: r for r in groups["country"]}
        self.cell = {(r["brand"], r["country"]): r for r in groups["brand_country"]}
        self.rank = {r["brand"]: r for r in m["comparisons"]["ranks"]}
        self.tier = {r["brand"]: int(r["tier"]) for r in m["comparisons"]["tiers"]}
        self.tiers = max(self.tier.values(), default=0)
        self.names = {b["brand"]: b["name"] or b["brand"] for b in design.get("brands") or ()}
        self.sectors = {b["brand"]: b["sector"] for b in design.get("brands") or ()}
        targets = design.get("targets") or ()
        ranked = [r["brand"] for r in m["comparisons"]["ranks"]]
        others = set(self.names) | set(self.brand_row) | {t["brand"] for t in targets}
        self.brands = ranked + sorted(others - set(ranked), key=lambda b: (self.name(b), b))
        codes = {c["code"] for c in design.get("countries") or ()} | set(self.country_row)
        codes |= {t["country"] for t in targets}
        self.countries = sorted(codes, key=lambda c: (country_name(design, c), c))
        self.brand_slug = slugs(self.brands)
        self.country_slug = slugs(self.countries)
        scopes: dict[tuple[str, str], set[str]] = defaultdict(set)
        handles: dict[tuple[str, str], set[str]] = defaultdict(set)
        for t in targets:
            key = (t["brand"], t["country"])
            scopes[key].add(t["scope"])
            if t["handle"]:
                handles[key].add(t["handle"])
        self.accounts = {
            key: Account(_scope(s), tuple(sorted(handles[key]))) for key, s in scopes.items()
        }
        self.kinds = {k["brand"]: k for k in data.breakdowns["kinds"]}
        self.quality: dict[str, Any] = data.quality.get("brands") or {}
        self.best_median: dict[str, float] = {}  # the fastest median time in each country
        self.by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (_, code), r in self.cell.items():
            self.by_country[code].append(r)
            if r["median_hours"] is not None:
                best = self.best_median.get(code, r["median_hours"])
                self.best_median[code] = min(best, r["median_hours"])
        self.slots: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in data.breakdowns["brand_slot"]:
            self.slots[r["brand"]].append(r)
        self.exchanges: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in data.exchanges:
            self.exchanges[e["brand"]].append(e)
        self.channel_row = {r["channel"]: r for r in groups.get("channel") or ()}
        self.brand_channel = {
            (r["brand"], r["channel"]): r for r in data.breakdowns.get("brand_channel") or ()
        }
        # (brand, channel) -> {country: scope} and the handles asked on that channel
        self.channel_scopes: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        self.channel_handles: dict[tuple[str, str], set[str]] = defaultdict(set)
        for t in targets:
            key = (t["brand"], t.get("channel") or "")
            self.channel_scopes[key][t["country"]] = t["scope"]
            if t["handle"] and t["scope"] != "none":
                self.channel_handles[key].add(t["handle"])
        named = set(design.get("channels") or ()) | set(self.channel_row)
        named |= {c for _, c in self.channel_scopes} - {""}
        self.channels = sorted(named, key=lambda c: (c not in CHANNEL_NAMES, _order(c), c))

    def name(self, brand: str) -> str:
        return str(self.names.get(brand, brand))

    def country(self, code: str) -> str:
        return country_name(self.data.design, code)

    def account(self, brand: str, country: str) -> Account:
        found = self.accounts.get((brand, country))
        if found is not None:
            return found
        # A journal without its targets (cannot happen with publish_data): probed cells
        # are local as far as anyone knows, the rest not in the study.
        return Account("local" if (brand, country) in self.cell else "", ())

    def company_href(self, brand: str, root: str) -> str:
        return f"{root}companies/{self.brand_slug[brand]}.html"

    def country_href(self, code: str, root: str) -> str:
        return f"{root}countries/{self.country_slug[code]}.html"

    def layout(self, title: str, root: str) -> Layout:
        nav = (
            Link(f"{root}index.html", "Overview"),
            Link(f"{root}index.html#ranking", "Ranking"),
            Link(f"{root}index.html#countries", "Countries"),
            Link(f"{root}methodology.html", "Method"),
            Link(f"{root}methodology.html#data", "Data"),
        )
        names = [n for n, _ in DATA_FILES] + list(self.extra_files)
        if self.data.waves is not None:
            names.append(WAVES_FILE[0])
        downloads = tuple(Link(f"{root}data/{n}", n) for n in names)
        return Layout(
            title=title,
            root=root,
            study=str(self.study["name"]),
            as_of=when(self.study["as_of"]),
            nav=nav,
            downloads=downloads,
        )

    def ranked(self) -> list[str]:
        return [b for b in self.brands if b in self.rank]


def _order(channel: str) -> int:
    return list(CHANNEL_NAMES).index(channel) if channel in CHANNEL_NAMES else 0


def channel_name(channel: str) -> str:
    """A channel's readable name ('x' -> 'X'); an unknown channel as it was recorded."""
    return CHANNEL_NAMES.get(channel, channel)


def _scope(scopes: set[str]) -> str:
    probed = scopes - {"none"}
    if not probed:
        return "none"
    return "global" if probed == {"global"} else "local"


def rate_cells(row: dict[str, Any] | None) -> tuple[Cell, Cell]:
    """Response rate and median time, each with its 95% interval below it."""
    if row is None:
        return Cell("\u2013", num=True), Cell("\u2013", num=True)
    return (
        Cell(
            pct(row["response_rate"]),
            pct_range(row["response_rate_low"], row["response_rate_high"]),
            num=True,
        ),
        Cell(
            hours(row["median_hours"]),
            hours_range(row["median_hours_low"], row["median_hours_high"]),
            num=True,
        ),
    )


def rate_facts(row: dict[str, Any] | None, what: str = "probes") -> tuple[Fact, ...]:
    """The headline response rate, median time and within-24-hours share of a group."""
    if row is None:
        return (Fact("Response rate", "\u2013", f"no {what} sent"),)
    rate_ci = pct_range(row["response_rate_low"], row["response_rate_high"])
    median_ci = hours_range(row["median_hours_low"], row["median_hours_high"])
    return (
        Fact(
            "Response rate",
            pct(row["response_rate"]),
            f"{row['answered']:,} of {count(row['probes'], what[:-1], what)}; "
            f"95% CI {rate_ci} (Wilson)",
        ),
        Fact(
            "Median time to response",
            hours(row["median_hours"]),
            f"95% CI {median_ci} (Kaplan-Meier)"
            if median_ci
            else "fewer than half were answered within the window"
            if row["median_hours"] is None
            else "Kaplan-Meier",
        ),
        Fact(
            "Answered within 1 h / 24 h",
            f"{pct(row['answered_within_1h'])} / {pct(row['answered_within_24h'])}",
            f"Kaplan-Meier; 12 h: {pct(row['answered_within_12h'])}",
        ),
    )


OPEN_NOTE = (
    "no response yet and the window not ended at the as-of time: the response rate counts "
    "them as unanswered so far, the Kaplan-Meier shares (answered within 1 h, 24 h, ...) "
    "only for as long as they were watched, so those can be higher"
)


def answer_facts(row: dict[str, Any], window_hours: float) -> tuple[Fact, ...]:
    """A group's time to the first substantive answer (where the analysis gives it) and its
    probes still open (when there are any)."""
    facts = []
    if "answer_median_hours" in row:
        ci = hours_range(row["answer_median_hours_low"], row["answer_median_hours_high"])
        facts.append(
            Fact(
                "Median time to a substantive answer",
                hours(row["answer_median_hours"]),
                "a public reply or DM, not a redirect or an automatic acknowledgement; "
                + (f"95% CI {ci} (Kaplan-Meier)" if ci else "Kaplan-Meier")
                + f"; mean {hours(row['answer_restricted_mean_hours'])} up to the "
                f"{window_hours:g}-hour window",
            )
        )
    if row.get("open"):
        facts.append(Fact("Still open", f"{row['open']:,} of {row['probes']:,}", OPEN_NOTE))
    return tuple(facts)


def interval(label: str, row: dict[str, Any] | None, account: Account | None = None) -> Interval:
    """A chart row for a group's response rate; a cross where there is no account."""
    if account is not None and account.scope == "none":
        return Interval(label, None, None, None, cross=True)
    if row is None:
        return Interval(label, None, None, None)
    return Interval(
        label,
        row["response_rate"],
        row["response_rate_low"],
        row["response_rate_high"],
        hollow=account is not None and account.scope == "global",
    )


def colour_style(k: int) -> tuple[str, str]:
    """The k-th brand's colour and line style (7 colours x 4 styles)."""
    return OKABE_ITO[k % len(OKABE_ITO)], ("-", "--", ":", "-.")[(k // len(OKABE_ITO)) % 4]


def margin_for(labels: list[str]) -> float:
    """Inches of left margin for tick labels of these lengths (at most 28 characters)."""
    longest = max((min(len(s), 28) for s in labels), default=4)
    return 0.3 + 0.068 * longest
