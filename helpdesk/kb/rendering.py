"""Article markdown → sanitised HTML for pages, and → plain text for the search index."""

from __future__ import annotations

import html
import re

import markdown
import nh3

from helpdesk.sanitize import clean_html


def render_markdown(text: str) -> str:
    return clean_html(markdown.markdown(text or "", extensions=["sane_lists", "tables"]))


# A first line that is a heading ("# Title", "## Title") or a setext title ("Title\n====").
_LEADING_HEADING = re.compile(
    r"\A\s*(?:#{1,6}[ \t]+(?P<atx>[^\n]*?)[ \t#]*|(?P<setext>[^\n]+)\n[=-]+[ \t]*)(?:\n|\Z)"
)


def body_without_title(title: str, text: str) -> str:
    """The body without a first heading that repeats the title: the page shows the title already,
    and articles written elsewhere (and our demo's) often begin with it."""
    match = _LEADING_HEADING.match(text or "")
    if match is None:
        return text or ""
    heading = match.group("atx") if match.group("atx") is not None else match.group("setext")
    if _words(heading) != _words(title):
        return text
    return text[match.end() :]


def _words(text: str) -> str:
    return " ".join(re.sub(r"[*_`]", "", text or "").split()).casefold()


# Where a block ends, its text and the next block's are two words ("end.</p><p>Next"); an inline
# element's end is not a space ("<strong>My orders</strong>, choose" stays "My orders, choose").
_BLOCK_END = re.compile(r"(</(?:p|li|h[1-6]|div|blockquote|pre|td|th|tr|dd|dt)>|<br\s*/?>|<hr\s*/?>)")


def plain_text(text: str) -> str:
    """The words of a markdown body without its markup (for indexing and snippets)."""
    without_tags = nh3.clean(_BLOCK_END.sub(r" \1", render_markdown(text)), tags=set())
    return " ".join(html.unescape(without_tags).split())
