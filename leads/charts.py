"""Server-rendered SVG charts for the dashboard: no chart library, no script, no inline style.

Every chart is drawn from a list of `ChartRow`s the view aggregated in the database; the same
rows feed the "Show numbers" table beside it, so what is drawn is what is counted. Colours and
sizes are SVG presentation attributes (allowed by `style-src 'self'`, unlike `style=""`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Calm, distinguishable fills with AA contrast against the white labels drawn inside bars.
PALETTE = ("#4338ca", "#0e7490", "#15803d", "#a16207", "#b91c1c", "#7e22ce", "#be185d", "#475569")

WIDTH = 640
ROW_HEIGHT = 34
BAR_HEIGHT = 24
LABEL_WIDTH = 150
VALUE_WIDTH = 70


@dataclass(frozen=True)
class ChartRow:
    label: str
    value: int
    color: str = ""
    href: str = ""


def percent(part: int, whole: int) -> str:
    """`"12.5%"`, one decimal; "0.0%" when there is nothing to divide by."""
    if not whole:
        return "0.0%"
    return f"{100 * part / whole:.1f}%"


def with_shares(rows: list[ChartRow]) -> list[tuple[ChartRow, str]]:
    """Each row with its share of the total, for the table beside a chart."""
    total = sum(row.value for row in rows)
    return [(row, percent(row.value, total)) for row in rows]


def _color(row: ChartRow, index: int) -> str:
    return row.color or PALETTE[index % len(PALETTE)]


def _svg(title: str, height: int, body: SafeString, chart_id: str) -> SafeString:
    return format_html(
        '<svg class="chart-svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-labelledby="{id}-title" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{title}</title>{body}</svg>',
        w=WIDTH,
        h=height,
        id=chart_id,
        title=title,
        body=body,
    )


def _label(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(rows: list[ChartRow], *, title: str, chart_id: str) -> SafeString:
    """Horizontal bars, longest for the largest value, labels left and counts right."""
    top = max((row.value for row in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = []
    for index, row in enumerate(rows):
        y = index * ROW_HEIGHT
        width = round(span * row.value / top) if row.value else 0
        parts.append(
            format_html(
                '<g class="chart-row"><title>{full}: {value}</title>'
                '<text x="{lx}" y="{ty}" text-anchor="end" class="chart-label">{label}</text>'
                '<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" rx="4" fill="{fill}"></rect>'
                '<text x="{vx}" y="{ty}" class="chart-value">{value}</text></g>',
                full=row.label,
                label=_label(row.label),
                value=f"{row.value:,}",
                lx=LABEL_WIDTH - 10,
                ty=y + ROW_HEIGHT / 2 + 5,
                bx=LABEL_WIDTH,
                by=y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                bw=max(width, 2),
                bh=BAR_HEIGHT,
                fill=_color(row, index),
                vx=LABEL_WIDTH + max(width, 2) + 8,
            )
        )
    body = format_html_join("", "{}", ((part,) for part in parts))
    return _svg(title, max(len(rows), 1) * ROW_HEIGHT, body, chart_id)


def funnel_chart(rows: list[ChartRow], *, title: str, chart_id: str) -> SafeString:
    """Centred bars, one per pipeline stage in order, so the narrowing reads as a funnel.

    Each stage's label carries its count and its share of all leads drawn.
    """
    total = sum(row.value for row in rows)
    top = max((row.value for row in rows), default=0) or 1
    # Room on the right for "12,345 · 67.8%".
    value_width = 2 * VALUE_WIDTH
    span = WIDTH - LABEL_WIDTH - value_width
    centre = LABEL_WIDTH + span / 2
    parts = []
    for index, row in enumerate(rows):
        y = index * ROW_HEIGHT
        width = max(round(span * row.value / top), 4)
        parts.append(
            format_html(
                '<g class="chart-row"><title>{label}: {value} ({share})</title>'
                '<text x="{lx}" y="{ty}" text-anchor="end" class="chart-label">{label}</text>'
                '<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" rx="4" fill="{fill}"></rect>'
                '<text x="{vx}" y="{ty}" class="chart-value">{value} · {share}</text></g>',
                label=_label(row.label),
                value=f"{row.value:,}",
                share=percent(row.value, total),
                lx=LABEL_WIDTH - 10,
                ty=y + ROW_HEIGHT / 2 + 5,
                bx=round(centre - width / 2, 1),
                by=y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                bw=width,
                bh=BAR_HEIGHT,
                fill=_color(row, index),
                vx=WIDTH - value_width + 10,
            )
        )
    body = format_html_join("", "{}", ((part,) for part in parts))
    return _svg(title, max(len(rows), 1) * ROW_HEIGHT, body, chart_id)
