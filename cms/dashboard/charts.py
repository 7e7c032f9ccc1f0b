"""Bar charts as inline SVG, drawn on the server: no script, no CDN, nothing the admin's
Content-Security-Policy could block, and the same picture for every browser and for screen readers
(each chart has a label and each bar a ``<title>`` with its figure).

``bar_chart`` draws labelled horizontal bars (categories: columns, units, editors, queries);
``column_chart`` draws vertical columns (a time series: months). Colours come from classes styled in
``dashboard/dashboard.css``, with ``fill`` attributes as the fallback.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 480
LABEL_WIDTH = 150
ROW = 24
BAR = 16
MAX_LABEL = 11


def _short(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _empty(title: str) -> SafeString:
    return format_html('<p class="shuyuan-chart-empty">{}：暂无数据</p>', title)


def bar_chart(data: Sequence[tuple[str, int]], title: str, tone: str = "primary") -> SafeString:
    """Horizontal bars, one per (label, value), in the given order."""
    if not data or not any(v for _, v in data):
        return _empty(title)
    top = max(v for _, v in data) or 1
    span = WIDTH - LABEL_WIDTH - 50
    height = ROW * len(data) + 4
    rows = []
    for i, (label, value) in enumerate(data):
        y = 2 + i * ROW
        length = max(1, round(span * value / top)) if value else 0
        rows.append(format_html(
            '<g><title>{label}：{value}</title>'
            '<text x="{lx}" y="{ty}" text-anchor="end" class="label">{short}</text>'
            '<rect x="{bx}" y="{by}" width="{w}" height="{h}" rx="2" class="bar {tone}" fill="#007d7e"></rect>'
            '<text x="{vx}" y="{ty}" class="value">{value}</text></g>',
            label=label, value=value, short=_short(str(label)), lx=LABEL_WIDTH - 6, ty=y + BAR - 3,
            bx=LABEL_WIDTH, by=y, w=length, h=BAR, tone=tone, vx=LABEL_WIDTH + length + 4,
        ))
    return format_html(
        '<svg class="shuyuan-chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{title}" '
        'xmlns="http://www.w3.org/2000/svg">{rows}</svg>',
        w=WIDTH, h=height, title=title, rows=mark_safe("".join(rows)),  # noqa: S308 (each row is format_html)
    )


def _slot_label(label: str) -> str:
    """"2026-03" -> "3月" (the full month is in the bar's title); other labels unchanged."""
    if len(label) == 7 and label[4] == "-" and label[:4].isdigit() and label[5:].isdigit():
        return f"{int(label[5:])}月"
    return label


def column_chart(data: Sequence[tuple[str, int]], title: str, tone: str = "primary") -> SafeString:
    """Vertical columns over labelled slots (such as months), in the given order."""
    if not data:
        return _empty(title)
    top = max(v for _, v in data) or 1
    plot_h, base = 140, 160
    slot = (WIDTH - 20) / len(data)
    width = max(4, slot * 0.7)
    def n(x: float) -> str:
        return f"{x:.1f}"

    columns = format_html_join(
        "",
        '<g><title>{}：{}</title><rect x="{}" y="{}" width="{}" height="{}" rx="2" class="bar {}" '
        'fill="#007d7e"></rect><text x="{}" y="{}" text-anchor="middle" class="value">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle" class="label">{}</text></g>',
        (
            (
                label, value,
                n(10 + i * slot + (slot - width) / 2), n(base - plot_h * value / top), n(width), n(plot_h * value / top),
                tone,
                n(10 + i * slot + slot / 2), n(base - plot_h * value / top - 4), value if value else "",
                n(10 + i * slot + slot / 2), base + 16, _slot_label(str(label)),
            )
            for i, (label, value) in enumerate(data)
        ),
    )
    return format_html(
        '<svg class="shuyuan-chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{title}" '
        'xmlns="http://www.w3.org/2000/svg"><line x1="10" y1="{b}" x2="{x2}" y2="{b}" class="axis" stroke="#ccc">'
        '</line>{columns}</svg>',
        w=WIDTH, h=base + 24, title=title, b=base, x2=WIDTH - 10, columns=columns,
    )
