"""The look of every page: the brand (name, colour, logo from HELPDESK_BRAND_* settings, no
database) and inline SVG icons from the npm icon set copied to static/vendor/icons at set-up."""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

from flask import Flask, Response, current_app, url_for
from flask_babel import gettext as _
from markupsafe import Markup

logger = logging.getLogger(__name__)
ICONS_DIR = Path(__file__).resolve().parent / "static" / "vendor" / "icons"
DEFAULT_BRAND_COLOR = "#0b6b5d"
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.S)


def brand_name() -> str:
    """The configured name, else ours in the page's language (never Latin letters on an Arabic page)."""
    return current_app.config.get("HELPDESK_NAME") or _("Helpdesk")


def brand_color(value: str | None) -> str:
    """A #rrggbb colour; anything else is refused at start-up rather than breaking the stylesheet."""
    if not value:
        return DEFAULT_BRAND_COLOR
    if not _HEX_COLOR.fullmatch(value.strip()):
        raise RuntimeError(f"HELPDESK_BRAND_COLOR must be a colour like #0b6b5d, got {value!r}")
    return value.strip().lower()


def contrast_text(color: str) -> str:
    """White or near-black, whichever reads better on ``color`` (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#ffffff" if (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.05) else "#111418"


def brand_logo_url() -> str:
    """A path on this site (the CSP loads images from our own origin only): absolute ("/media/…")
    or under helpdesk/static ("img/logo.svg"); default the favicon."""
    logo = current_app.config.get("HELPDESK_BRAND_LOGO")
    if not logo:
        return url_for("static", filename="favicon.svg")
    return logo if logo.startswith("/") else url_for("static", filename=logo)


@cache
def _icon_svg(name: str) -> str:
    path = ICONS_DIR / f"{name}.svg"
    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise LookupError(f"not an icon name: {name!r}")
    if not path.is_file():
        # The page still works without it (the text beside an icon says what it does).
        logger.warning(
            "no icon %r in %s: add it to ICON_NAMES in the Makefile, run make setup", name, ICONS_DIR
        )
        return ""
    text = path.read_text(encoding="utf-8")
    start = text.index("<svg")  # drops the licence comment before the element
    svg = " ".join(text[start:].split())
    return _SVG_OPEN.sub(
        lambda m: re.sub(r'\s(class|width|height)="[^"]*"', "", m.group(0)).replace(
            "<svg", '<svg class="icon{cls}" aria-hidden="true" focusable="false"', 1
        ),
        svg,
        count=1,
    )


def icon(name: str, cls: str = "") -> Markup:
    """An inline SVG icon, decorative (aria-hidden): the text beside it says what it means."""
    return Markup(_icon_svg(name).replace("{cls}", f" {cls}" if cls else "", 1))


def register_theme(app: Flask) -> None:
    color = brand_color(app.config.get("HELPDESK_BRAND_COLOR"))
    app.config["HELPDESK_BRAND_COLOR"] = color
    logo = app.config.get("HELPDESK_BRAND_LOGO") or ""
    if "//" in logo or ":" in logo:
        raise RuntimeError(
            f"HELPDESK_BRAND_LOGO must be a path on this site (the CSP allows no other origin), got {logo!r}"
        )
    stylesheet = f":root {{ --brand: {color}; --brand-contrast: {contrast_text(color)}; }}\n"

    def brand_css() -> Response:
        response = Response(stylesheet, mimetype="text/css")
        response.cache_control.public = True
        response.cache_control.max_age = 3600
        return response

    app.add_url_rule("/brand.css", "brand_css", brand_css)
    app.add_template_global(icon)
    app.add_template_global(brand_name)
    app.add_template_global(brand_logo_url)
