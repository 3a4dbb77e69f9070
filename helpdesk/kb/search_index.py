"""The "articles" search index: every article, drafts included; customers' searches filter on status."""

from __future__ import annotations

import re

from whoosh.fields import ID, TEXT, Schema

from helpdesk.kb.models import Article
from helpdesk.kb.rendering import plain_text
from helpdesk.search import embeddings
from helpdesk.search.analysis import bilingual_analyzer, spelling_analyzer
from helpdesk.search.dense import DenseSpec, register_dense
from helpdesk.search.registry import IndexSpec, register_index

PHRASINGS_BOOST = 0.5  # tuned with tests/kb/tune_fusion.py --cv
# How a phrasing is embedded: "query" (e5's query prefix: question to question), "passage", or
# "titled" (a passage: the article's title, then the phrasing); tuned with tune_fusion.py --cv.
PHRASINGS_EMBEDDED_AS = "query"


def article_schema() -> Schema:
    text = bilingual_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        slug=ID(stored=True),
        locale=ID(stored=True),
        status=ID(stored=True),
        category=ID(stored=True),
        title=TEXT(analyzer=text, stored=True),
        tags=TEXT(analyzer=text),
        body=TEXT(analyzer=text, stored=True),
        phrasings=TEXT(analyzer=text),
        words=TEXT(analyzer=spelling_analyzer(), phrase=False),
    )


def text_after_title(title: str, text: str) -> str:
    """A snippet's text without a leading repeat of the title (the result shows the title already;
    most articles begin with it as a heading)."""
    head = text[: len(title)]
    if title and " ".join(head.split()).casefold() == " ".join(title.split()).casefold():
        return text[len(title) :].lstrip(" .:-—\n")
    return text


def article_document(article: Article) -> dict:
    body = plain_text(article.body_md)  # the whole text is scored; the snippet leaves the title out
    tags = " ".join(article.tags or [])
    return {
        "id": str(article.id),
        "slug": article.slug,
        "locale": article.locale,
        "status": article.status.value,
        "category": article.category.slug if article.category else "",
        "title": article.title,
        "tags": tags,
        "body": body,
        "phrasings": "\n".join(article.phrasings or []),
        "words": f"{article.title} {tags} {body}",
    }


ARTICLES = register_index(
    IndexSpec(
        name="articles",
        schema=article_schema,
        model=Article,
        document=article_document,
        # Phrasings are customers' words: they find the article, but weigh less than what it says.
        query_fields={"title": 3.0, "tags": 2.0, "body": 1.0, "phrasings": PHRASINGS_BOOST},
        snippet_field="body",
        kept_in_memory=True,
        snippet_text=lambda stored: text_after_title(stored.get("title", ""), stored.get("body", "")),
        watched_attributes=frozenset(
            {"slug", "locale", "title", "body_md", "status", "category_id", "tags", "phrasings"}
        ),
    )
)


# --- meaning: the article's passages for the embedding model ----------------------------------

PASSAGE_CHARS = 700  # about 150–250 tokens: one idea per passage, well inside the model's 512
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def article_sections(body_md: str) -> list[tuple[str, str]]:
    """(heading, plain text) per markdown section; text before the first heading has none."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in (body_md or "").splitlines():
        heading = _HEADING.match(line)
        if heading:
            sections.append((heading.group(1), []))
        else:
            sections[-1][1].append(line)
    out = []
    for heading, lines in sections:
        text = plain_text("\n".join(lines))
        if text or heading:
            out.append((plain_text(heading), text))
    return out


def _pieces(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most about ``size`` characters, cut after a sentence or a word."""
    pieces: list[str] = []
    while len(text) > size:
        cut = max(text.rfind(". ", 0, size), text.rfind("؛ ", 0, size), text.rfind("، ", 0, size))
        cut = cut + 1 if cut > size // 2 else text.rfind(" ", 0, size)
        cut = cut if cut > 0 else size
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    return [*pieces, text] if text else pieces


def article_passages(article: Article) -> list[str]:
    """The title (and tags) with each section (its heading when it says more than the title), and
    each phrasing on its own: an article scores by its best passage, so a long article is found by
    any one of its parts, and a customer's question by the nearest way customers asked it.

    Phrasings are questions, embedded as e5 embeds a query (``embeddings.AS_QUERY``): e5 compares
    two questions better than a question with prose."""
    title = article.title.strip()
    tagged = f"{title} ({'، '.join(article.tags)})" if article.tags else title
    passages = []
    for heading, text in article_sections(article.body_md):
        lead = tagged if not heading or heading.strip() == title else f"{tagged} — {heading}"
        passages += [f"{lead}\n{piece}" for piece in _pieces(text, PASSAGE_CHARS)] or [lead]
    passages = passages or [tagged]
    phrasings = [p for p in article.phrasings or [] if p.strip()]
    if PHRASINGS_EMBEDDED_AS == "query":
        return passages + [embeddings.AS_QUERY + p for p in phrasings]
    if PHRASINGS_EMBEDDED_AS == "titled":
        return passages + [f"{title}\n{p}" for p in phrasings]
    if PHRASINGS_EMBEDDED_AS == "passage":
        return passages + phrasings
    return passages  # "none": the words only


ARTICLE_VECTORS = register_dense(
    DenseSpec(
        index="articles",
        passages=article_passages,
        filter_fields=lambda article: {
            "locale": article.locale,
            "status": article.status.value,
            # An article and its translations share the id of the original.
            "family": str(article.translation_of_id or article.id),
        },
        # int8 in memory: 2,000 articles with their phrasings (9,000 passages) take 3.4 MB instead
        # of 13.7; the development half's recall@1, recall@3 and MRR are the same to the third
        # decimal, and a search pays about 2 ms for the int8 product.
        compact=True,
    )
)
