"""The server-drawn SVG charts: proportions, escaping, no inline styles, shares."""

from __future__ import annotations

import re

from leads.charts import ChartRow, bar_chart, funnel_chart, percent, with_shares


def _bars(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]


def test_bar_widths_are_proportional_to_values():
    svg = bar_chart(
        [ChartRow("A", 100), ChartRow("B", 50), ChartRow("C", 0)], title="T", chart_id="c"
    )
    a, b, c = _bars(svg)
    assert a == 2 * b
    assert c == 2  # a zero still shows as a sliver next to its "0"
    assert ">100</text>" in svg and ">0</text>" in svg


def test_funnel_bars_are_centred_and_labelled_with_shares():
    svg = funnel_chart([ChartRow("New", 3), ChartRow("Won", 1)], title="Funnel", chart_id="f")
    xs = [float(x) for x in re.findall(r'<rect x="([\d.]+)"', svg)]
    widths = _bars(svg)
    centres = {round(x + w / 2, 1) for x, w in zip(xs, widths, strict=True)}
    assert len(centres) == 1
    assert "3 · 75.0%" in svg and "1 · 25.0%" in svg


def test_charts_are_accessible_images_without_style_attributes():
    svg = bar_chart([ChartRow("A", 1)], title="Leads by source", chart_id="src")
    assert 'role="img"' in svg
    assert 'aria-labelledby="src-title"' in svg
    assert '<title id="src-title">Leads by source</title>' in svg
    assert "style=" not in svg


def test_labels_are_escaped_and_long_ones_shortened():
    svg = bar_chart([ChartRow("<b>&" + "x" * 40, 5)], title="<T>", chart_id="c")
    assert "<b>" not in svg
    assert "&lt;b&gt;&amp;" in svg
    assert "…" in svg
    assert "&lt;T&gt;" in svg


def test_thousands_separators_in_values():
    assert ">12,345</text>" in bar_chart([ChartRow("A", 12345)], title="T", chart_id="c")


def test_empty_chart_still_renders():
    svg = funnel_chart([], title="Nothing", chart_id="e")
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_percent_has_one_decimal_and_survives_zero():
    assert percent(1, 3) == "33.3%"
    assert percent(0, 0) == "0.0%"
    assert [share for _row, share in with_shares([ChartRow("a", 1), ChartRow("b", 3)])] == [
        "25.0%",
        "75.0%",
    ]
