"""KB articles an agent can link in a reply: found through the articles search (words and meaning,
see helpdesk/search/hybrid.py; prefix of the word being typed), or by title with SQL while no index
exists."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.search import hybrid
from helpdesk.search.indexer import index_exists

ARTICLES_INDEX = "articles"


def find_articles_for_agent(text: str, language: str, limit: int = 8) -> list[Article]:
    """Published articles in ``language`` (the customer's) matching ``text``, best first. The words
    of either language's version count, and the meaning, so an agent may type in English for an
    Arabic-speaking customer and find the Arabic article."""
    if not text.strip():
        return []
    if not index_exists(ARTICLES_INDEX):
        return _articles_by_title(text, language, limit)
    hits = hybrid.query(
        ARTICLES_INDEX,
        text[:200],
        language,
        limit=limit,
        filters={"status": ArticleStatus.PUBLISHED.value},
        as_you_type=True,
        snippets=False,
    )
    ids = [int(hit.id) for hit in hits]
    if not ids:
        return []
    found = {a.id: a for a in db.session.scalars(select(Article).where(Article.id.in_(ids)))}
    return [found[i] for i in ids if i in found and found[i].status == ArticleStatus.PUBLISHED]


def _articles_by_title(text: str, language: str, limit: int) -> list[Article]:
    """The fallback: published articles in ``language`` whose title contains every word typed."""
    words = [w for w in text.lower().split() if w][:6]
    if not words:
        return []
    query = select(Article).where(Article.status == ArticleStatus.PUBLISHED, Article.locale == language)
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Article.title).like(f"%{escaped}%", escape="\\"))
    query = query.order_by(Article.title).limit(limit)
    return list(db.session.scalars(query))


def article_url(article: Article) -> str:
    """The public address of an article (the KB blueprint's, once it exists)."""
    try:
        return url_for("kb.article", slug=article.slug, _external=True)
    except BuildError:
        return url_for("portal.home", _external=True).rstrip("/") + f"/kb/{article.slug}"
