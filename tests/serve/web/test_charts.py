"""Server-drawn charts: geometry, and text contrast (WCAG AA, 4.5:1) on every heatmap shade."""

from __future__ import annotations

from clientbook.serve.web.charts import PALETTE, _shade, bar_chart, heatmap, line_chart


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_heatmap_text_contrast() -> None:
    for step in range(101):
        fill, text = _shade(step / 100)
        assert _contrast(fill, text) >= 4.5, step


def test_palette_is_visible_on_white() -> None:
    for colour in PALETTE:
        assert _contrast(colour, "#ffffff") >= 3.0, colour  # graphics: 3:1


def test_geometry() -> None:
    bars = bar_chart("t", [("a", 10.0), ("b", 5.0), ("c", 0.0)])
    assert bars.bars[0].width == 2 * bars.bars[1].width and bars.bars[2].width == 1.0
    grid = heatmap("h", ["r1", "r2"], ["c1", "c2"], [[1.0, None], [0.5, 0.25]])
    assert len(grid.cells) == 4 and grid.cells[1].shown == ""
    line = line_chart("l", [("2025-01", 0.0), ("2025-02", 1.0)], ceiling=1.0)
    assert line.path.startswith("M10.0,") and line.points[1][1] < line.points[0][1]
