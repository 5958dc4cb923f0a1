"""Charts drawn on the server as SVG: geometry here, markup in ``templates/charts.html``.

No chart script runs in the browser: the pages work offline, print well, and every chart comes
with its numbers as a table for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Colour-blind-safe palette (after Okabe-Ito), each at least 3:1 on white.
PALETTE = ("#0b5cad", "#d55e00", "#009e73", "#cc79a7", "#7a5c00", "#0072b2", "#555555")


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    colour: str
    shown: str


@dataclass
class BarChart:
    """Horizontal bars: one per label, long labels fit on a phone."""

    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int = 22
    gap: int = 8


def bar_chart(
    title: str,
    items: list[tuple[str, float]],
    *,
    fmt: str = "{:,.0f}",
    colours: tuple[str, ...] = PALETTE[:1],
    width: int = 560,
    label_width: int = 150,
) -> BarChart:
    """Horizontal bars scaled to the largest value."""
    bar_height, gap = 22, 8
    top = max((v for _, v in items), default=0.0) or 1.0
    span = width - label_width - 90
    bars = [
        Bar(
            label=name,
            value=value,
            x=label_width,
            y=i * (bar_height + gap),
            width=max(1.0, span * max(value, 0.0) / top),
            height=bar_height,
            colour=colours[i % len(colours)],
            shown=fmt.format(value),
        )
        for i, (name, value) in enumerate(items)
    ]
    return BarChart(title, bars, width, max(1, len(items) * (bar_height + gap)), label_width)


@dataclass
class Cell:
    x: float
    y: float
    fill: str
    text_fill: str
    shown: str
    value: float | None


@dataclass
class Heatmap:
    """A grid of shaded cells (cohort retention, RFM grid)."""

    title: str
    row_labels: list[str]
    column_labels: list[str]
    cells: list[Cell]
    width: int
    height: int
    cell_width: int
    cell_height: int
    label_width: int
    rows: list[list[float | None]] = field(default_factory=list)


def _shade(share: float) -> tuple[str, str]:
    """Blue of the given strength (0..1), and a text colour that keeps contrast on it."""
    share = min(1.0, max(0.0, share))
    r = round(255 - (255 - 11) * share)
    g = round(255 - (255 - 92) * share)
    b = round(255 - (255 - 173) * share)
    # Black text keeps 4.5:1 up to 0.82 of full strength; white text from there on.
    return f"#{r:02x}{g:02x}{b:02x}", "#ffffff" if share >= 0.82 else "#000000"


def heatmap(
    title: str,
    row_labels: list[str],
    column_labels: list[str],
    rows: list[list[float | None]],
    *,
    fmt: str = "{:.0%}",
    scale: float | None = None,
    cell_width: int = 44,
    cell_height: int = 26,
    label_width: int = 90,
) -> Heatmap:
    """Cells shaded by value / ``scale`` (default: the largest value)."""
    values = [v for row in rows for v in row if v is not None]
    top = scale or max(values, default=1.0) or 1.0
    cells = []
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            fill, text = _shade(value / top) if value is not None else ("#f2f2f2", "#111111")
            cells.append(
                Cell(
                    x=label_width + j * cell_width,
                    y=20 + i * cell_height,
                    fill=fill,
                    text_fill=text,
                    shown="" if value is None else fmt.format(value),
                    value=value,
                )
            )
    return Heatmap(
        title,
        row_labels,
        column_labels,
        cells,
        width=label_width + cell_width * max(1, len(column_labels)),
        height=20 + cell_height * max(1, len(row_labels)),
        cell_width=cell_width,
        cell_height=cell_height,
        label_width=label_width,
        rows=rows,
    )


@dataclass
class LineChart:
    """A line over time with its points (P(alive) history, revenue by month)."""

    title: str
    points: list[tuple[float, float]]
    labels: list[str]
    values: list[float]
    width: int
    height: int
    path: str
    shown: list[str]


def line_chart(
    title: str,
    items: list[tuple[str, float]],
    *,
    fmt: str = "{:,.0f}",
    width: int = 560,
    height: int = 160,
    floor: float | None = 0.0,
    ceiling: float | None = None,
) -> LineChart:
    """A polyline scaled into the box (with 10 px of margin)."""
    values = [v for _, v in items]
    low = floor if floor is not None else min(values, default=0.0)
    high = ceiling if ceiling is not None else max(values, default=1.0)
    if high <= low:
        high = low + 1.0
    step = (width - 20) / max(1, len(items) - 1)
    plot = height - 36  # room for the value label above and the date labels below
    points = [
        (10 + i * step, 16 + plot - plot * (v - low) / (high - low)) for i, v in enumerate(values)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
    return LineChart(
        title,
        points,
        [name for name, _ in items],
        values,
        width,
        height,
        path,
        [fmt.format(v) for v in values],
    )


CHART_GLOBALS = {"PALETTE": PALETTE}
