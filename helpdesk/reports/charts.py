"""Dashboard charts: server-rendered SVG from pygal, made accessible and mirrored for Arabic.

pygal's JavaScript is never loaded (``js=[]``) and the inline configuration script it still writes
is removed, as are the tooltip layers that only that script would use. Each SVG gets a ``<title>`` and
a ``<desc>`` listing the data as its first children and ``role="img"``, so screen readers announce it.
For right-to-left pages the drawing is mirrored (axes, bars and legend run from the right) while the
text is kept readable and set right-to-left.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from functools import cache
from typing import Any

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

WIDTH, HEIGHT = 720, 360


@cache
def _style():
    """pygal's style; pygal is imported with the first chart, not when a web process starts."""
    from pygal.style import Style

    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1d2330",
        foreground_strong="#1d2330",
        foreground_subtle="#5b6475",
        opacity=".9",
        opacity_hover=".9",
        colors=("#0b6b5d", "#f0b429", "#a4262c", "#1b4fa0", "#5b2a86", "#8a5a00"),
        font_family='"Noto Naskh Arabic", "Noto Sans Arabic", "Segoe UI", Tahoma, sans-serif',
        title_font_size=18,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        value_font_size=13,
    )


# Mirrored charts set their text right-to-left: that also swaps what text-anchor start and end mean,
# so labels that hung left of the y axis now hang right of it, and Arabic punctuation sits right.
MIRRORED_CSS = """
{id} text {{ direction: rtl; }}
"""


def _config(title: str, **options: Any) -> dict[str, Any]:
    return {
        "js": [],  # never load pygal's JavaScript
        "title": title,
        "style": _style(),
        "width": WIDTH,
        "height": HEIGHT,
        "disable_xml_declaration": False,
        "legend_at_bottom": True,
        "print_values": False,
        "show_y_guides": True,
        "truncate_label": 24,
        **options,
    }


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    description: str,
    rtl: bool,
    stacked: bool = False,
    max_value: float | None = None,
    show_legend: bool = True,
    major_label_every: int | None = None,
) -> str:
    """A (stacked) bar chart as a standalone, accessible SVG document."""
    import pygal  # with the first chart, not when a web process starts

    options: dict[str, Any] = {"show_legend": show_legend and len(series) > 1}
    if max_value is not None:
        options["range"] = (0, max_value)
    if major_label_every:
        options.update(show_minor_x_labels=False, x_labels_major_every=major_label_every)
    chart = (pygal.StackedBar if stacked else pygal.Bar)(**_config(title, **options))
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return accessible_svg(chart.render(is_unicode=True), title=title, description=description, rtl=rtl)


def accessible_svg(svg: str, *, title: str, description: str, rtl: bool) -> str:
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            tag = _local(child.tag)
            css_class = child.get("class", "")
            if tag == "script" or "tooltip-overlay" in css_class or (parent is root and tag == "title"):
                parent.remove(child)
    chart_id = root.get("id", "")
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    root.set("width", str(WIDTH))
    root.set("height", str(HEIGHT))
    title_el = ET.Element(f"{{{SVG_NS}}}title", id=f"{chart_id}-title")
    title_el.text = title
    desc_el = ET.Element(f"{{{SVG_NS}}}desc", id=f"{chart_id}-desc")
    desc_el.text = description
    root.insert(0, desc_el)
    root.insert(0, title_el)
    if rtl:
        _mirror(root, chart_id)
    return "<?xml version='1.0' encoding='utf-8'?>\n" + ET.tostring(root, encoding="unicode")


def _mirror(root: ET.Element, chart_id: str) -> None:
    drawing = [c for c in root if _local(c.tag) not in ("defs", "title", "desc")]
    group = ET.Element(f"{{{SVG_NS}}}g", transform=f"matrix(-1 0 0 1 {WIDTH} 0)")
    for child in drawing:
        root.remove(child)
        group.append(child)
    root.append(group)
    for text in group.iter(f"{{{SVG_NS}}}text"):
        x = _number(text.get("x"))
        flip = f"matrix(-1 0 0 1 {2 * x:g} 0)"
        text.set("transform", f"{flip} {text.get('transform', '')}".strip())
    style = root.find(f"{{{SVG_NS}}}defs/{{{SVG_NS}}}style")
    if style is not None:
        style.text = (style.text or "") + MIRRORED_CSS.format(id=f"#{chart_id}")


def _number(value: str | None) -> float:
    match = re.match(r"\s*(-?[\d.]+)", value or "")
    return float(match.group(1)) if match else 0.0


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
