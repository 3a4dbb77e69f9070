"""Knowledge-base operations: save, publish, import/export, search with metrics, views, feedback,
deflections. Views, the CLI and the demo loader all come through here."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.kb.models import (
    Article,
    ArticleFeedback,
    ArticleStatus,
    ArticleView,
    Category,
    Deflection,
    SearchEvent,
)
from helpdesk.search import hybrid
from helpdesk.search.querying import SearchResults
from helpdesk.tickets.errors import DomainError

LOCALES = ("ar", "en")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FIELDS = ("slug", "locale", "title", "body", "category", "tags", "translation_of", "status", "phrasings")
PHRASING_CHARS = 200  # a question, not an essay
PHRASINGS_PER_ARTICLE = 50


class ArticleProblem(DomainError):
    """An article that cannot be saved as given (bad slug, unknown translation, …)."""


# --- reading ---------------------------------------------------------------------------------


def published_articles():
    return select(Article).where(Article.status == ArticleStatus.PUBLISHED)


def article_by_slug(slug: str, *, published_only: bool = True) -> Article | None:
    query = select(Article).where(Article.slug == slug)
    if published_only:
        query = query.where(Article.status == ArticleStatus.PUBLISHED)
    return db.session.scalar(query)


def translations_of(article: Article) -> list[Article]:
    """The same article in the other languages (published ones), either direction of the link."""
    root_id = article.translation_of_id or article.id
    query = published_articles().where(
        Article.id != article.id, (Article.id == root_id) | (Article.translation_of_id == root_id)
    )
    return list(db.session.scalars(query))


def popular_articles(locale: str, limit: int = 8) -> list[Article]:
    query = (
        published_articles()
        .where(Article.locale == locale)
        .order_by(Article.view_count.desc(), Article.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def categories_with_counts(locale: str) -> list[tuple[Category, int]]:
    counts = (
        select(Article.category_id, func.count().label("n"))
        .where(Article.status == ArticleStatus.PUBLISHED, Article.locale == locale)
        .group_by(Article.category_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Category, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.category_id == Category.id)
        .order_by(Category.position, Category.id)
    )
    return [(category, n) for category, n in rows]


def category_articles(category: Category, locale: str) -> list[Article]:
    query = (
        published_articles()
        .where(Article.category_id == category.id, Article.locale == locale)
        .order_by(Article.title)
    )
    return list(db.session.scalars(query))


# --- search ----------------------------------------------------------------------------------


@dataclass
class ArticleHit:
    article_id: int
    slug: str
    title: str
    locale: str
    score: float
    snippet: str

    def as_json(self) -> dict:
        return {
            "slug": self.slug,
            "title": self.title,
            "locale": self.locale,
            "score": self.score,
            "snippet": self.snippet,
        }


@dataclass
class ArticleResults:
    query: str
    hits: list[ArticleHit] = field(default_factory=list)
    suggestion: str | None = None


def search_articles(
    text: str,
    *,
    locale: str | None = None,
    limit: int = 10,
    published_only: bool = True,
    as_you_type: bool = False,
    source: str | None = None,
    customer_id: int | None = None,
) -> ArticleResults:
    """Search the knowledge base by words and meaning (``score`` is the fused score); with a
    ``source`` the search is recorded (zero results = content gap)."""
    text = (text or "").strip()[:500]
    results = ArticleResults(query=text)
    if text:
        filters = {"status": ArticleStatus.PUBLISHED.value} if published_only else None
        found = _ranked(text, locale, limit, filters, as_you_type)
        results.suggestion = found.suggestion
        results.hits = [
            ArticleHit(
                article_id=int(hit.id),
                slug=hit.fields["slug"],
                title=hit.fields["title"],
                locale=hit.fields["locale"],
                score=hit.score,
                snippet=hit.snippet,
            )
            for hit in found
        ]
    if source and text:
        db.session.add(
            SearchEvent(
                query=text,
                locale=locale,
                source=source,
                result_count=len(results.hits),
                customer_id=customer_id,
            )
        )
    return results


def _ranked(
    text: str, locale: str | None, limit: int, filters: dict | None, as_you_type: bool
) -> SearchResults:
    """The articles index's hits for ``text``. Without a language, each language's own ranking
    (where a translation's words count for its version, as in the portal) merged by score: one
    ranking of both languages at once let one crowd out the other (for "refund", seven Arabic
    articles and one English; the English "How long refunds take" was not among them). Each
    article is in one language's ranking only, so none is listed twice."""
    if locale is not None:
        return hybrid.query(
            "articles", text, locale=locale, limit=limit, filters=filters, as_you_type=as_you_type
        )
    each = [
        hybrid.query("articles", text, locale=code, limit=limit, filters=filters, as_you_type=as_you_type)
        for code in LOCALES
    ]
    best_first = sorted(each, key=lambda found: -max((hit.score for hit in found.hits), default=0.0))
    hits = sorted((hit for found in each for hit in found.hits), key=lambda hit: -hit.score)[:limit]
    suggestion = next((found.suggestion for found in best_first if found.suggestion), None)
    return SearchResults(hits=hits, suggestion=suggestion)


def related_articles(article: Article, limit: int = 5) -> list[ArticleHit]:
    """Articles like this one: same language, searched by its title and tags."""
    text = " ".join([article.title, *(article.tags or [])])
    hits = search_articles(text, locale=article.locale, limit=limit + 1).hits
    return [hit for hit in hits if hit.article_id != article.id][:limit]


def zero_result_searches(limit: int = 50) -> list[tuple[str, str | None, int, object]]:
    """Content gaps: what customers searched for and did not find, most frequent first."""
    rows = db.session.execute(
        select(
            func.lower(SearchEvent.query),
            SearchEvent.locale,
            func.count().label("n"),
            func.max(SearchEvent.created_at),
        )
        .where(SearchEvent.result_count == 0)
        .group_by(func.lower(SearchEvent.query), SearchEvent.locale)
        .order_by(func.count().desc(), func.max(SearchEvent.created_at).desc())
        .limit(limit)
    )
    return [tuple(row) for row in rows]


# --- metrics ---------------------------------------------------------------------------------


def record_view(article: Article, *, source: str = "portal", customer_id: int | None = None) -> None:
    db.session.execute(
        update(Article).where(Article.id == article.id).values(view_count=Article.view_count + 1)
    )
    db.session.add(ArticleView(article_id=article.id, source=source, customer_id=customer_id))


def record_feedback(article: Article, *, helpful: bool, comment: str | None, customer_id: int | None) -> None:
    column = Article.helpful_yes if helpful else Article.helpful_no
    db.session.execute(update(Article).where(Article.id == article.id).values({column.key: column + 1}))
    db.session.add(
        ArticleFeedback(
            article_id=article.id,
            helpful=helpful,
            comment=(comment or "").strip() or None,
            customer_id=customer_id,
        )
    )


def record_deflection(article: Article, *, query: str | None, customer_id: int | None) -> Deflection:
    deflection = Deflection(
        article_id=article.id, customer_id=customer_id, query=(query or "").strip()[:500] or None
    )
    db.session.add(deflection)
    db.session.flush()
    return deflection


# --- phrasings: other ways customers ask ----------------------------------------------------


def clean_phrasings(phrasings: Iterable[str]) -> list[str]:
    """One line each, spaces collapsed, duplicates (ignoring case) dropped, order kept."""
    out: list[str] = []
    seen: set[str] = set()
    for phrasing in phrasings:
        text = " ".join(str(phrasing).split())
        if not text:
            continue
        if len(text) > PHRASING_CHARS:
            message = ngettext(
                "A phrasing is at most %(num)d character: %(text)s",
                "A phrasing is at most %(num)d characters: %(text)s",
                PHRASING_CHARS,
                text=text[:40],
            )
            raise ArticleProblem(message)
        if text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    if len(out) > PHRASINGS_PER_ARTICLE:
        raise ArticleProblem(
            ngettext(
                "An article has at most %(num)d phrasing.",
                "An article has at most %(num)d phrasings.",
                PHRASINGS_PER_ARTICLE,
            )
        )
    return out


def phrasing_suggestions(article: Article) -> list[Deflection]:
    """What customers had typed before saying this article answered them, not yet reviewed and
    not already one of its phrasings (oldest first; the same words once)."""
    known = {p.casefold() for p in article.phrasings or []}
    rows = db.session.scalars(
        select(Deflection)
        .where(
            Deflection.article_id == article.id,
            Deflection.query.is_not(None),
            Deflection.phrasing_reviewed.is_(False),
        )
        .order_by(Deflection.id)
    )
    out = []
    for row in rows:
        key = " ".join(row.query.split()).casefold()
        if key and key not in known:
            known.add(key)
            out.append(row)
    return out


def review_phrasing(article: Article, deflection: Deflection, *, accept: bool) -> None:
    """An editor's answer to a suggested phrasing: accepted, it joins the article's phrasings
    (the search index follows); either way it is no longer suggested, nor are its repeats."""
    if deflection.article_id != article.id or not deflection.query:
        raise ArticleProblem(_("This suggestion is no longer waiting for review."))
    text = " ".join(deflection.query.split())
    if accept:
        article.phrasings = clean_phrasings([*(article.phrasings or []), text[:PHRASING_CHARS]])
    same = [
        row
        for row in db.session.scalars(
            select(Deflection).where(
                Deflection.article_id == article.id, Deflection.phrasing_reviewed.is_(False)
            )
        )
        if row.query and " ".join(row.query.split()).casefold() == text.casefold()
    ]
    for row in {deflection, *same}:
        row.phrasing_reviewed = True
    db.session.flush()


# --- writing ---------------------------------------------------------------------------------


def save_article(
    article: Article | None,
    *,
    slug: str,
    locale: str,
    title: str,
    body: str,
    category: Category | None,
    tags: Iterable[str],
    translation_of: Article | None,
    status: ArticleStatus,
    author_id: int | None = None,
    phrasings: Iterable[str] | None = None,
) -> Article:
    """Create or update an article (the caller commits). The search index follows via the worker."""
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise ArticleProblem(_("A slug uses lower-case letters, digits and hyphens only."))
    if locale not in LOCALES:
        raise ArticleProblem(_("The language must be ar or en."))
    clash = db.session.scalar(select(Article.id).where(Article.slug == slug))
    if clash is not None and (article is None or clash != article.id):
        raise ArticleProblem(_("Another article already uses this slug."))
    if translation_of is not None:
        if article is not None and translation_of.id == article.id:
            raise ArticleProblem(_("An article cannot be its own translation."))
        if translation_of.locale == locale:
            raise ArticleProblem(_("A translation must be in the other language."))
        # Always link to the original, so a set of translations is one star, never a chain.
        translation_of = translation_of.translation_of or translation_of
    if article is None:
        article = Article(author_id=author_id)
        db.session.add(article)
    article.slug = slug
    article.locale = locale
    article.title = title.strip()
    article.body_md = body
    article.category = category
    article.tags = sorted({t.strip() for t in tags if t.strip()})
    if phrasings is not None:
        article.phrasings = clean_phrasings(phrasings)
    article.translation_of = translation_of
    if status == ArticleStatus.PUBLISHED and article.status != ArticleStatus.PUBLISHED:
        article.published_at = utcnow()
    article.status = status
    return article


# --- import / export -------------------------------------------------------------------------


class ImportProblem(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _parse_lines(lines: Iterable[str]) -> list[dict]:
    records, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"line {number}: expected a JSON object")
            continue
        missing = [k for k in ("slug", "locale", "title", "body") if not isinstance(record.get(k), str)]
        if missing:
            problems.append(f"line {number}: missing or not text: {', '.join(missing)}")
            continue
        if record.get("status", "published") not in ("published", "draft"):
            problems.append(f"line {number}: status must be published or draft")
            continue
        if not isinstance(record.get("tags", []), list):
            problems.append(f"line {number}: tags must be a list")
            continue
        phrasings = record.get("phrasings", [])
        if not isinstance(phrasings, list) or not all(isinstance(p, str) for p in phrasings):
            problems.append(f"line {number}: phrasings must be a list of text")
            continue
        record["_line"] = number
        records.append(record)
    if problems:
        raise ImportProblem(problems)
    return records


def import_articles(lines: Iterable[str], *, author_id: int | None = None) -> dict[str, int]:
    """Upsert articles by slug from JSON lines, all or nothing. Returns what it did."""
    records = _parse_lines(lines)
    slugs_in_file = {r["slug"] for r in records}
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    summary = {"created": 0, "updated": 0, "unchanged": 0, "categories_created": 0}
    problems: list[str] = []
    saved: dict[str, Article] = {}
    for record in sorted(records, key=lambda r: bool(r.get("translation_of"))):  # originals first
        category = None
        if record.get("category"):
            category = categories.get(record["category"])
            if category is None:
                name = record["category"].replace("-", " ").capitalize()
                category = Category(
                    slug=record["category"], name_en=name, name_ar=name, position=len(categories)
                )
                db.session.add(category)
                categories[category.slug] = category
                summary["categories_created"] += 1
        original = None
        if record.get("translation_of"):
            original = saved.get(record["translation_of"]) or article_by_slug(
                record["translation_of"], published_only=False
            )
            if original is None and record["translation_of"] not in slugs_in_file:
                problems.append(
                    f"line {record['_line']}: translation_of {record['translation_of']!r} not found"
                )
                continue
        existing = article_by_slug(record["slug"], published_only=False)
        before = export_record(existing) if existing is not None else None
        try:
            with db.session.no_autoflush:
                article = save_article(
                    existing,
                    slug=record["slug"],
                    locale=record["locale"],
                    title=record["title"],
                    body=record["body"],
                    category=category,
                    tags=record.get("tags") or [],
                    translation_of=original,
                    status=ArticleStatus(record.get("status", "published")),
                    author_id=author_id,
                    phrasings=record.get("phrasings"),  # absent (an older file): kept as they are
                )
        except ArticleProblem as exc:
            problems.append(f"line {record['_line']}: {exc.message}")
            continue
        db.session.flush()
        saved[article.slug] = article
        if before is None:
            summary["created"] += 1
        elif before != export_record(article):
            summary["updated"] += 1
        else:
            summary["unchanged"] += 1
    if problems:
        raise ImportProblem(problems)  # the caller's unit of work rolls the good lines back too
    return summary


def export_record(article: Article) -> dict:
    return {
        "slug": article.slug,
        "locale": article.locale,
        "title": article.title,
        "body": article.body_md,
        "category": article.category.slug if article.category else None,
        "tags": list(article.tags or []),
        "translation_of": article.translation_of.slug if article.translation_of else None,
        "status": article.status.value,
        "phrasings": list(article.phrasings or []),
    }


def export_articles() -> Iterator[dict]:
    """Originals before their translations, so the file imports back in one pass."""
    query = select(Article).order_by(Article.translation_of_id.is_not(None), Article.id)
    for article in db.session.scalars(query):
        yield export_record(article)
