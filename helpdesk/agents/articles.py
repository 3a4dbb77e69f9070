"""KB articles an agent can link in a reply, found by title. A plain SQL search for now: this one
function is the seam where the search index takes over later."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import case, func, select
from werkzeug.routing import BuildError

from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus


def find_articles_for_agent(text: str, locale: str, limit: int = 8) -> list[Article]:
    """Published articles whose title contains every word typed, the agent's language first."""
    words = [w for w in text.lower().split() if w][:6]
    if not words:
        return []
    query = select(Article).where(Article.status == ArticleStatus.PUBLISHED)
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Article.title).like(f"%{escaped}%", escape="\\"))
    query = query.order_by(case((Article.locale == locale, 0), else_=1), Article.title).limit(limit)
    return list(db.session.scalars(query))


def article_url(article: Article) -> str:
    """The public address of an article (the KB blueprint's, once it exists)."""
    try:
        return url_for("kb.article", slug=article.slug, _external=True)
    except BuildError:
        return url_for("portal.home", _external=True).rstrip("/") + f"/kb/{article.slug}"
