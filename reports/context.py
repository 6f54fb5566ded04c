"""What each template is given: one frozen dataclass per page, built of small parts.

Every text here is plain text; the templates escape it (autoescape), so a brand named
`<script>` shows as written. Figures arrive formatted (reports.fmt), each with its 95%
interval beside it where it has one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    href: str  # relative to the page
    text: str


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, an optional second line (the interval) and link."""

    text: str
    sub: str = ""
    href: str = ""
    num: bool = False  # a figure: right-aligned
    mark: str = ""  # a CSS class: "global", "none", "best"
    header: bool = False  # the row's header (th scope="row")


@dataclass(frozen=True)
class Table:
    caption: str
    head: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Chart:
    """An SVG beside the pages, shown with its title and alt text."""

    src: str  # relative to the page
    title: str
    alt: str
    width: int  # CSS pixels, so the page does not jump while it loads
    height: int


@dataclass(frozen=True)
class Figure:
    """A chart and the table holding its numbers."""

    chart: Chart
    table: Table


@dataclass(frozen=True)
class Fact:
    """A headline figure: label, value, and what qualifies it (interval, sample size)."""

    label: str
    value: str
    sub: str


@dataclass(frozen=True)
class Layout:
    """What every page shares: title, the way back to the root, navigation, downloads."""

    title: str
    root: str  # "" for pages at the top, "../" for pages in a folder
    study: str
    as_of: str
    nav: tuple[Link, ...]
    downloads: tuple[Link, ...]


@dataclass(frozen=True)
class Exchange:
    """An inquiry and the reply it got."""

    title: str
    inquiry: str
    inquiry_meta: str
    reply: str
    reply_meta: str


@dataclass(frozen=True)
class SinceLastWave:
    """The overview's changes since the previous wave: a slope chart with the brands'
    table, the countries' table, and how to read them."""

    brands: Figure
    countries: Table
    note: str


@dataclass(frozen=True)
class StatedHours:
    """A brand's answers inside and outside the service hours it states: the plain sentence
    ("inside its stated hours: 92%; outside: 31%"), the hours as stated, and the table with
    the intervals (reports.service_hours)."""

    sentence: str
    stated: tuple[str, ...]
    table: Table


@dataclass(frozen=True)
class AnswerLanguage:
    """A brand's answers in the inquiry's language: a plain sentence and the table by
    country (reports.answer_language)."""

    sentence: str
    table: Table


@dataclass(frozen=True)
class IndexPage:
    layout: Layout
    headline: tuple[Fact, ...]
    summary: str
    ranking: Table
    rates: Chart  # its numbers are the ranking table's
    curves: Figure
    heatmap: Figure
    countries: Table
    channels: Figure | None = None  # only for a study on more than one channel
    brand_channels: Table | None = None
    since: SinceLastWave | None = None  # only for a study with a previous wave
    personas: Personas | None = None  # only for a study asked through several personas


@dataclass(frozen=True)
class CompanyPage:
    layout: Layout
    name: str
    brand: str  # the identifier in the data files
    sector: str
    standing: str
    headline: tuple[Fact, ...]
    strengths: tuple[str, ...]
    weaknesses: tuple[str, ...]
    curve: Figure
    countries: Figure
    slots: Table
    kinds: Table
    quality: Table | None
    quality_note: str
    exchanges: tuple[Exchange, ...]
    channels: Table | None = None  # only for a study on more than one channel
    service_hours: StatedHours | None = None  # where targets.csv states service hours
    answer_language: AnswerLanguage | None = None  # where the inquiry's language is known
    personas: Table | None = None  # the brand by persona, where several personas asked it


@dataclass(frozen=True)
class CountryPage:
    layout: Layout
    name: str
    code: str
    headline: tuple[Fact, ...]
    ranking: Figure
    no_account: tuple[Link, ...]


@dataclass(frozen=True)
class MethodPage:
    layout: Layout
    known: bool  # the design came from study.toml
    source: str  # how the journal was made, in words
    settings: Table
    slots: Table
    scripts: Table
    countries: Table
    targets: Table
    numbers: Table
    window: str
    replicates: str
    seed: str
    quality: str
    downloads: Table
    channels: Table | None = None  # only for a study on more than one channel
    manifest: Table | None = None  # what produced the figures (data/manifest.json)
    personas: Table | None = None  # the personas and their attributes, where there are several
    assignment: str = ""  # how probes were shared among the personas, in words
    approval: str = ""  # the ethics board's approval, where study.toml records it


@dataclass(frozen=True)
class Personas:
    """The overview's persona section (a study asked through several personas): the effects
    in plain sentences, the response by persona and by each attribute, and the effects'
    table with their intervals and tests (reports.personas)."""

    sentences: tuple[str, ...]
    levels: tuple[Table, ...]
    effects: Table
    note: str
