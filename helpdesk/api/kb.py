"""``/api/v1/kb``: knowledge-base articles (drafts included, for staff tools) and search."""

from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.api.auth import api_auth
from helpdesk.api.blueprints import api_blueprint
from helpdesk.api.customers import id_cursor
from helpdesk.api.models import TokenScope
from helpdesk.api.schemas import (
    ArticleHitSchema,
    ArticleListArgsSchema,
    ArticlePageSchema,
    ArticleSchema,
    ArticleSearchArgsSchema,
)
from helpdesk.extensions import db
from helpdesk.kb import service as kb
from helpdesk.kb.models import Article, ArticleStatus

bp = api_blueprint("Knowledge base", "/api/v1/kb", "Help articles in Arabic and English, and their search.")


def _with_links(query):
    return query.options(joinedload(Article.category), joinedload(Article.translation_of))


@bp.route("/articles", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.arguments(ArticleListArgsSchema, location="query", as_kwargs=True)
@bp.response(200, ArticlePageSchema)
def list_articles(**args):
    """Articles, newest first, optionally of one language or status."""
    query = _with_links(select(Article)).order_by(Article.id.desc())
    if args.get("locale"):
        query = query.where(Article.locale == args["locale"])
    if args.get("status"):
        query = query.where(Article.status == ArticleStatus(args["status"]))
    after = id_cursor(args)
    if after is not None:
        query = query.where(Article.id < after)
    limit = args["limit"]
    found = db.session.scalars(query.limit(limit + 1)).all()
    return {"items": found[:limit], "next_cursor": str(found[limit - 1].id) if len(found) > limit else None}


@bp.route("/articles/<slug>", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.response(200, ArticleSchema)
def get_article(slug: str):
    """One article by its slug."""
    article = db.session.scalar(_with_links(select(Article)).where(Article.slug == slug[:160]))
    if article is None:
        abort(404, message=f"No article has the slug {slug!r}.")
    return article


@bp.route("/search", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.arguments(ArticleSearchArgsSchema, location="query", as_kwargs=True)
@bp.response(200, ArticleHitSchema(many=True))
def search_articles(q: str, limit: int, locale: str | None = None):
    """Published articles best matching `q` (Arabic and English spellings and word forms)."""
    return [hit.as_json() for hit in kb.search_articles(q, locale=locale, limit=limit).hits]
