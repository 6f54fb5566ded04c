"""The site's charts: matplotlib figures (no pyplot state) saved as deterministic SVG.

Chart functions take an `Axes`, draw on it and return it. `chart_svg` builds a figure,
runs a chart function on it and returns the SVG bytes: text stays text (`svg.fonttype`
none, so the reader's own sans-serif font shows it and nothing is fetched), element ids
come from a fixed salt, and the metadata carries no date, so the same numbers give the
same bytes. Colours are Okabe & Ito's palette and cividis, both readable with the common
colour-vision deficiencies; marks (hatching, hollow markers, crosses) never rely on colour
alone. Labels from outside (brand and country names) are shortened and their `$` escaped,
so matplotlib never reads them as mathtext.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import PercentFormatter

from reports.fmt import shown

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
LINESTYLES = ("-", "--", ":", "-.")
FIELD_COLOUR = "#555555"
BACKGROUND = "#BBBBBB"
RC: dict[Any, Any] = {  # keys: matplotlib rcParams names
    "svg.hashsalt": "replybench",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "path.simplify": True,
    "hatch.linewidth": 0.6,
}
LABEL_CHARS = 28


@dataclass(frozen=True)
class Interval:
    """One row of an interval chart: a share with its 95% interval."""

    label: str
    value: float | None  # None: nothing to show (e.g. no probes)
    low: float | None
    high: float | None
    hollow: bool = False  # drawn as an open marker (e.g. asked through a global account)
    cross: bool = False  # no estimate, marked with a cross at 0 (e.g. no account)


@dataclass(frozen=True)
class Curve:
    """A Kaplan-Meier step curve: survival just after each time (the first at 0 hours)."""

    label: str
    times: tuple[float, ...]
    survival: tuple[float, ...]
    colour: str = FIELD_COLOUR
    style: str = "-"
    width: float = 1.6


@dataclass(frozen=True)
class Grid:
    """A heatmap: values (share, or None) by row and column, each cell with a mark."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    marks: tuple[tuple[str, ...], ...]  # "local", "global", "none" (no account), "" (no data)


@dataclass(frozen=True)
class Slope:
    """One line of a slope chart: a share in two waves; `marked` when the change is clear."""

    label: str
    old: float
    new: float
    marked: bool


@dataclass(frozen=True)
class ChartSpec:
    """A chart to draw into `path` (relative to the site): km curves, intervals or a grid."""

    path: str
    title: str
    width: float  # inches
    height: float
    left: float  # margins, inches
    bottom: float
    top: float
    right: float = 0.2
    km: tuple[Curve, ...] = ()
    window_hours: float = 0.0
    intervals: tuple[Interval, ...] = ()
    reference: float | None = None
    reference_label: str = ""
    xlabel: str = "Response rate (95% Wilson interval)"
    grid: Grid | None = None
    slopes: tuple[Slope, ...] = ()
    slope_ends: tuple[str, str] = ("", "")  # the two waves' names


class Painter:
    """Draws ChartSpecs, reusing one figure per kind and size.

    A small chart spends most of its time making tick objects, so the Axes (with its
    ticks, spines and margins) is made once per kind and size; each chart draws on it, is
    saved, and what it added is removed again. Limits are always set explicitly, so the
    bytes are those of a fresh figure (a test checks it).
    """

    def __init__(self) -> None:
        self._canvases: dict[tuple[object, ...], tuple[Figure, Axes]] = {}

    def svg(self, spec: ChartSpec) -> bytes:
        """The SVG of `spec`."""
        kind = "grid" if spec.grid is not None else "km" if spec.km else "intervals"
        kind = "slopes" if spec.slopes else kind
        key = (kind, spec.width, spec.height, spec.left, spec.bottom, spec.top, spec.right)
        with style():
            if key not in self._canvases:
                self._canvases[key] = _canvas(spec)
            fig, ax = self._canvases[key]
            before = set(ax.get_children())
            try:
                if spec.slopes:
                    slope_chart(ax, spec.slopes, spec.slope_ends)
                elif spec.grid is not None:
                    heatmap(ax, spec.grid)
                elif spec.km:
                    km_chart(ax, spec.km, spec.window_hours)
                else:
                    interval_chart(
                        ax,
                        spec.intervals,
                        reference=spec.reference,
                        reference_label=spec.reference_label,
                        xlabel=spec.xlabel,
                    )
                return svg_bytes(fig)
            finally:
                for artist in ax.get_children():
                    if artist not in before:
                        artist.remove()
                ax.containers.clear()


def draw(spec: ChartSpec) -> bytes:
    """The SVG of `spec` on a fresh figure."""
    return Painter().svg(spec)


def _canvas(spec: ChartSpec) -> tuple[Figure, Axes]:
    """A figure with fixed margins (no layout engine: faster, and the same everywhere)."""
    fig = Figure(figsize=(spec.width, spec.height))
    fig.subplots_adjust(
        left=spec.left / spec.width,
        right=1 - spec.right / spec.width,
        bottom=spec.bottom / spec.height,
        top=1 - spec.top / spec.height,
    )
    return fig, fig.add_subplot()


def label(text: str, limit: int = LABEL_CHARS) -> str:
    """`text` fit for a chart label: at most `limit` characters, no mathtext, no direction
    controls (`reports.fmt.shown`)."""
    text = shown(" ".join(text.split()))
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text.replace("$", r"\$")


@contextmanager
def style() -> Iterator[None]:
    """The charts' settings, for one figure's making and saving (no global change)."""
    with matplotlib.rc_context(RC), warnings.catch_warnings():
        # A name in a script the default font lacks (e.g. Japanese) only warns that the
        # layout is approximate: the browser draws the text with its own fonts.
        warnings.filterwarnings("ignore", "Glyph .* missing", UserWarning)
        warnings.filterwarnings("ignore", "Matplotlib currently does not support", UserWarning)
        yield


def svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG without a date (call inside `style()`)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue().encode("utf-8")


def interval_chart(
    ax: Axes,
    rows: Sequence[Interval],
    *,
    reference: float | None = None,
    reference_label: str = "",
    xlabel: str = "Response rate (95% Wilson interval)",
) -> Axes:
    """Shares with whiskers, one row each from the top; a dashed line at `reference`."""
    y = np.arange(len(rows), dtype=float)
    solid = [(r.value, r.low, r.high, k) for k, r in zip(y, rows, strict=True)]
    for hollow in (False, True):
        pts = [
            (v, lo, hi, k)
            for (v, lo, hi, k), r in zip(solid, rows, strict=True)
            if v is not None and r.hollow == hollow and not r.cross
        ]
        if not pts:
            continue
        v = np.array([p[0] for p in pts])
        lo = np.array([p[1] if p[1] is not None else p[0] for p in pts])
        hi = np.array([p[2] if p[2] is not None else p[0] for p in pts])
        ax.errorbar(
            v,
            [p[3] for p in pts],
            xerr=[v - lo, hi - v],
            fmt="o",
            color=OKABE_ITO[0],
            markerfacecolor="white" if hollow else OKABE_ITO[0],
            markersize=5,
            elinewidth=1.2,
            capsize=2,
        )
    crosses = [k for k, r in zip(y, rows, strict=True) if r.cross]
    if crosses:
        ax.plot([0] * len(crosses), crosses, "x", color=OKABE_ITO[3], markersize=6)
    if reference is not None:
        ax.axvline(reference, color=FIELD_COLOUR, linestyle="--", linewidth=1)
        if reference_label:
            ax.annotate(
                label(reference_label, 40),
                (reference, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, 0),
                textcoords="offset points",
                va="top",
                fontsize=8,
                color=FIELD_COLOUR,
            )
    ax.set_yticks(y, labels=[label(r.label) for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.7)
    ax.set_xlim(-0.02, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    return ax


def km_chart(ax: Axes, curves: Sequence[Curve], window_hours: float) -> Axes:
    """Share answered (1 - Kaplan-Meier survival) against hours since sending."""
    for c in curves:
        times = np.append(np.asarray(c.times, dtype=float), window_hours)
        answered = 1.0 - np.asarray(c.survival, dtype=float)
        answered = np.append(answered, answered[-1])
        ax.step(
            times,
            answered,
            where="post",
            color=c.colour,
            linestyle=c.style,
            linewidth=c.width,
            label=label(c.label) if c.label else None,
        )
    ax.set_xlim(0, window_hours)
    ax.set_ylim(0, 1)
    ax.set_xticks(_hour_ticks(window_hours))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Hours since the inquiry was sent")
    ax.set_ylabel("Share answered (Kaplan-Meier)")
    if any(c.label for c in curves):
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, borderaxespad=0)
    return ax


def heatmap(ax: Axes, grid: Grid) -> Axes:
    """Response rate by row (brand) and column (country), cividis, with the cells' marks:
    hatched = asked through a global account, grey with a cross = no account, white = no
    data. Each coloured cell shows its percentage."""
    cmap = ListedColormap(matplotlib.colormaps["cividis"](np.linspace(0, 1, 256)))
    values = np.array(
        [[np.nan if v is None else v for v in row] for row in grid.values], dtype=float
    ).reshape(len(grid.rows), len(grid.columns))
    ax.pcolormesh(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, edgecolors="white")
    for i, row in enumerate(grid.marks):
        for j, mark in enumerate(row):
            value = values[i, j]
            if mark == "none":
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor="#E8E8E8", edgecolor="white"))
                ax.text(j + 0.5, i + 0.5, "\u00d7", ha="center", va="center", color="#666666")
                continue
            if np.isnan(value):
                continue
            ink = "black" if value > 0.55 else "white"
            if mark == "global":
                ax.add_patch(Rectangle((j, i), 1, 1, fill=False, hatch="///", edgecolor=ink, lw=0))
            ax.text(
                j + 0.5,
                i + 0.5,
                f"{100 * value:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color=ink,
                bbox={"boxstyle": "square,pad=0.1", "fc": cmap(value), "lw": 0}
                if mark == "global"
                else None,
            )
    ax.set_xticks(np.arange(len(grid.columns)) + 0.5, labels=[label(c) for c in grid.columns])
    ax.set_yticks(np.arange(len(grid.rows)) + 0.5, labels=[label(r) for r in grid.rows])
    ax.set_xlim(0, max(len(grid.columns), 1))
    ax.set_ylim(max(len(grid.rows), 1), 0)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    handles = [
        Patch(facecolor=cmap(0.8), hatch="///", edgecolor="white", label="global account"),
        Patch(facecolor="#E8E8E8", label="\u00d7 no account"),
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=2,
        fontsize=8,
    )
    return ax


def _hour_ticks(window_hours: float) -> list[float]:
    step = next((s for s in (1, 2, 6, 12, 24, 48) if window_hours / s <= 8), 168)
    return [float(t) for t in np.arange(0, window_hours + 1e-9, step)]


def slope_chart(ax: Axes, slopes: Sequence[Slope], ends: tuple[str, str]) -> Axes:
    """Each row's share in the old wave (left) and the new (right), joined by a line: solid
    and coloured, with filled markers, where the change is clear; thin, grey and hollow
    otherwise (so the mark does not rest on colour alone). Labels at the right end."""
    for s in slopes:
        colour, width, face = (OKABE_ITO[0], 1.8, OKABE_ITO[0]) if s.marked else (
            BACKGROUND, 0.9, "white")  # fmt: skip
        ax.plot([0, 1], [s.old, s.new], "-", color=colour, linewidth=width)
        ax.plot([0, 1], [s.old, s.new], "o", color=colour, markerfacecolor=face, markersize=5)
        ax.annotate(
            label(s.label, 22), (1, s.new), xytext=(6, 0), textcoords="offset points",
            va="center", fontsize=8, color="#000000" if s.marked else FIELD_COLOUR,
        )  # fmt: skip
    ax.set_xticks([0, 1], labels=[label(ends[0], 24), label(ends[1], 24)])
    ax.set_xlim(-0.08, 1.08)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("Response rate")
    ax.grid(axis="x", visible=False)
    return ax
