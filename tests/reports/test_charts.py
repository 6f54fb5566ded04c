"""Charts: functions on an Axes, deterministic SVG, labels taken literally."""

from __future__ import annotations

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from reports.charts import (
    ChartSpec,
    Curve,
    Grid,
    Interval,
    Painter,
    draw,
    heatmap,
    interval_chart,
    km_chart,
    label,
)

ROWS = (
    Interval("Kaito Motors", 0.88, 0.77, 0.94),
    Interval("Brenner $ Co", 0.08, 0.03, 0.2, hollow=True),
    Interval("Fizzco", None, None, None, cross=True),
)
CURVES = (Curve("All brands", (0.0, 1.0, 5.0), (1.0, 0.7, 0.4)),)
GRID = Grid(("a", "b"), ("DE", "FR"), ((0.5, None), (1.0, 0.0)), (("local", "none"),
            ("global", "local")))  # fmt: skip


def points(ax: Axes) -> list[tuple[list[float], list[float], str]]:
    """Each line the axes holds: its x and y data and its marker."""
    return [
        ([float(x) for x in line.get_xdata()], [float(y) for y in line.get_ydata()],
         str(line.get_marker()))
        for line in ax.lines
    ]  # fmt: skip


def test_the_interval_chart_draws_each_row_on_the_axes_it_is_given() -> None:
    ax = Figure().add_subplot()
    assert interval_chart(ax, ROWS) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Kaito Motors", r"Brenner \$ Co",
                                                            "Fizzco"]  # fmt: skip
    # A dot and its whiskers' caps per interval, in its row; a cross at 0 for no data.
    assert points(ax) == [
        ([0.88], [0.0], "o"), ([0.77], [0.0], "|"), ([0.94], [0.0], "|"),
        ([0.08], [1.0], "o"), ([0.03], [1.0], "|"), ([0.2], [1.0], "|"),
        ([0.0], [2.0], "x"),
    ]  # fmt: skip


def test_the_heatmap_writes_each_cell_on_the_axes_it_is_given() -> None:
    ax = Figure().add_subplot()
    assert heatmap(ax, GRID) is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["DE", "FR"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    # a-DE 50%, a-FR no account (a cross), b-DE 100% through a global account (hatched), b-FR 0%.
    assert [(t.get_position(), t.get_text()) for t in ax.texts] == [
        ((0.5, 0.5), "50"), ((1.5, 0.5), "\u00d7"), ((0.5, 1.5), "100"), ((1.5, 1.5), "0"),
    ]  # fmt: skip
    assert [p.get_hatch() for p in ax.patches] == [None, "///"]


def test_the_km_chart_steps_up_to_the_window_on_the_axes_it_is_given() -> None:
    ax = Figure().add_subplot()
    assert km_chart(ax, CURVES, 72) is ax
    [(times, answered, _)] = points(ax)
    assert times == [0.0, 1.0, 5.0, 72.0]  # held flat from the last event to the window
    assert answered == pytest.approx([0.0, 0.3, 0.6, 0.6])  # 1 - survival
    assert ax.lines[0].get_drawstyle() == "steps-post"
    assert ax.get_xlim() == (0, 72)
    legend = ax.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["All brands"]


def test_the_same_chart_gives_the_same_bytes_and_no_date() -> None:
    spec = ChartSpec("x.svg", "", 6, 3, 1.5, 0.5, 0.1, intervals=ROWS, reference=0.6)
    first, second = draw(spec), draw(spec)
    assert first == second
    assert b"<dc:date>" not in first and b"<text" in first  # text stays text
    km = ChartSpec("k.svg", "", 6, 3, 0.6, 0.5, 0.1, km=CURVES, window_hours=72)
    assert draw(km) == draw(km)
    grid = ChartSpec("g.svg", "", 4, 3, 0.6, 0.5, 0.5, grid=GRID)
    assert draw(grid) == draw(grid)


def test_labels_are_shortened_and_never_mathtext() -> None:
    assert label("$x^2$") == r"\$x^2\$"
    assert (
        label("A  very\nlong name that goes on and on and on")
        == "A very long name that goes \u2026"
    )
    svg = draw(ChartSpec("x.svg", "", 6, 3, 1.5, 0.5, 0.1, intervals=ROWS))
    assert b"Brenner $ Co" in svg


def test_a_reused_figure_draws_the_bytes_of_a_fresh_one() -> None:
    specs = [
        ChartSpec("a.svg", "", 6, 3, 1.5, 0.5, 0.1, intervals=ROWS, reference=0.6,
                  reference_label="all"),
        ChartSpec("b.svg", "", 6, 3, 1.5, 0.5, 0.1, intervals=ROWS[::-1]),
        ChartSpec("c.svg", "", 6, 3, 0.6, 0.5, 0.1, km=CURVES, window_hours=72),
        ChartSpec("d.svg", "", 6, 3, 0.6, 0.5, 0.1, km=CURVES * 2, window_hours=48),
    ]  # fmt: skip
    painter = Painter()
    reused = [painter.svg(s) for s in specs + specs[::-1]]
    fresh = [draw(s) for s in specs + specs[::-1]]
    assert reused == fresh
