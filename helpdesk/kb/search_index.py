"""The "articles" search index: every article, drafts included; customers' searches filter on status."""

from __future__ import annotations

from whoosh.fields import ID, TEXT, Schema

from helpdesk.kb.models import Article
from helpdesk.kb.rendering import body_without_title, plain_text
from helpdesk.search.analysis import bilingual_analyzer, spelling_analyzer
from helpdesk.search.registry import IndexSpec, register_index


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
        words=TEXT(analyzer=spelling_analyzer(), phrase=False),
    )


def article_document(article: Article) -> dict:
    body = plain_text(body_without_title(article.title, article.body_md))  # snippets don't repeat it
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
        "words": f"{article.title} {tags} {body}",
    }


ARTICLES = register_index(
    IndexSpec(
        name="articles",
        schema=article_schema,
        model=Article,
        document=article_document,
        query_fields={"title": 3.0, "tags": 2.0, "body": 1.0},
        snippet_field="body",
        watched_attributes=frozenset({"slug", "locale", "title", "body_md", "status", "category_id", "tags"}),
    )
)
