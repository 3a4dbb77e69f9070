"""HTML sanitising for everything we store or render from users, mail and markdown (nh3)."""

from __future__ import annotations

import nh3
from sqlalchemy.orm import validates

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "*": {"dir", "lang"},
}
# cid: images are rewritten to attachment URLs by the mail channel before rendering.
URL_SCHEMES = {"http", "https", "mailto", "cid"}


def clean_html(html: str) -> str:
    """Keep formatting, drop anything executable (scripts, handlers, javascript: URLs, styles)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# Embedding, override and isolate controls (LRE RLE PDF LRO RLO, LRI RLI FSI PDI). In a one-line
# label they have no honest use and can make "invoice<RLO>gnp.exe" read as "invoiceexe.png".
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_WITHOUT_BIDI_CONTROLS = dict.fromkeys(map(ord, BIDI_CONTROLS))


def one_line_label(value: str | None) -> str | None:
    """A name, subject, title or tag as stored: without bidi controls (bodies keep theirs, and are
    shown in their own direction-isolated block; labels are also shown in ``<bdi>``)."""
    return value.translate(_WITHOUT_BIDI_CONTROLS) if isinstance(value, str) else value


def one_line_columns(*columns: str):
    """A model validator storing these columns as one-line labels: ``_labels = one_line_columns("name")``."""
    return validates(*columns)(lambda _model, _key, value: one_line_label(value))
