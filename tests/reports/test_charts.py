"""Charts: functions on an Axes, deterministic SVG, labels taken literally."""

from __future__ import annotations

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


def test_chart_functions_draw_on_the_axes_they_are_given() -> None:
    for chart, arg in ((interval_chart, ROWS), (heatmap, GRID)):
        ax = Figure().add_subplot()
        assert chart(ax, arg) is ax  # type: ignore[operator]
    ax = Figure().add_subplot()
    assert km_chart(ax, CURVES, 72) is ax
    assert isinstance(ax, Axes)
    assert ax.get_xlim() == (0, 72)


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
