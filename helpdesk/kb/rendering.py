"""Article markdown → sanitised HTML for pages, and → plain text for the search index."""

from __future__ import annotations

import html

import markdown
import nh3

from helpdesk.sanitize import clean_html


def render_markdown(text: str) -> str:
    return clean_html(markdown.markdown(text or "", extensions=["sane_lists", "tables"]))


def plain_text(text: str) -> str:
    """The words of a markdown body without its markup (for indexing and snippets)."""
    without_tags = nh3.clean(render_markdown(text).replace("</", " </"), tags=set())
    return " ".join(html.unescape(without_tags).split())
