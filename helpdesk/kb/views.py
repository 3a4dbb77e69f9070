"""Knowledge base pages: search (HTML or JSON), articles, categories, feedback, deflection;
case-form suggestions; and the staff editor."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.auth.permissions import kb_editor_required
from helpdesk.custom_fields.case_form import request_type_by_key
from helpdesk.extensions import db, htmx
from helpdesk.i18n import current_language
from helpdesk.kb import service
from helpdesk.kb.case_form import DRAFT_KEY, VIEWED_KEY
from helpdesk.kb.forms import ArticleForm, FeedbackForm, PhrasingReviewForm, SolvedForm
from helpdesk.kb.models import Article, ArticleStatus, Category, Deflection
from helpdesk.kb.rendering import body_without_title, render_markdown
from helpdesk.refusals import handle_refusals, refused_shows_again
from helpdesk.tickets.models import SUBJECT_MAX_CHARS
from helpdesk.transaction import unit_of_work

bp = Blueprint("kb", __name__)

SUGGESTIONS = 5
DRAFT_BODY_CHARS = 1200


def _refused(message: str):
    """A refused write with no form to show again: the reason on an error page."""
    return render_template("errors/error.html", code=400, message=message), 400


handle_refusals(bp, _refused)


def _customer_id() -> int | None:
    return current_user.id if current_user.is_authenticated and current_user.is_customer else None


def _locale_arg() -> str | None:
    locale = request.args.get("locale") or None
    if locale is not None and locale not in service.LOCALES:
        abort(400, _("The language must be ar or en."))
    return locale


def _wants_json() -> bool:
    if request.args.get("format") == "json":
        return True
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


@bp.get("/kb/search")
def search():
    text = request.args.get("q", "")
    every_language = request.args.get("locale") == "any"
    locale = None if every_language else _locale_arg()
    if locale is None and not every_language and not _wants_json():
        # The page reads in the reader's language: a match on an article's translation counts for
        # their version, so the same article is not listed twice. "any" lists every language.
        locale = current_language()
    limit = request.args.get("limit", 10, type=int)
    if not 1 <= limit <= 50:
        abort(400, _("The limit must be between 1 and 50."))
    with unit_of_work():  # the search is logged for the zero-result report
        results = service.search_articles(
            text, locale=locale, limit=limit, source="portal", customer_id=_customer_id()
        )
    if _wants_json():
        return jsonify([hit.as_json() for hit in results.hits])
    return render_template("kb/search.html", results=results, locale=locale, every_language=every_language)


@bp.get("/kb/suggest")
def suggest():
    """Case-form suggestions (htmx, debounced): the five best articles for subject + description."""
    subject = request.args.get("subject", "")[:SUBJECT_MAX_CHARS]
    body = request.args.get("body", "")
    # Kept for "I still need help" without JS. The session is a cookie (4 KB), so a long text is
    # cut here; the page's script keeps the whole text in sessionStorage.
    session[DRAFT_KEY] = {"subject": subject, "body": body[:DRAFT_BODY_CHARS]}
    text = f"{subject} {body[:2000]}".strip()
    request_type = request_type_by_key(request.args.get("type", ""), with_form=False)
    if request_type is not None:  # "return" + "the box came open": the type's words count too
        text = f"{request_type.name_for(current_language())} {text}"
    with unit_of_work():
        results = service.search_articles(
            text,
            locale=current_language(),
            limit=SUGGESTIONS,
            as_you_type=True,
            source="case_form" if len(text) >= 3 else None,
            customer_id=_customer_id(),
        )
    return render_template("kb/_suggestions.html", results=results)


@bp.get("/kb/<slug>")
def article(slug: str):
    found = service.article_by_slug(slug)
    if found is None:
        abort(404)
    from_case_form = request.args.get("from") == "case_form"
    # Opened from the portal's search: the customer's words ride along, so "this solved my
    # problem" can offer them to the article's editors as a phrasing.
    searched = request.args.get("q", "")[:500].strip()
    with unit_of_work():
        service.record_view(
            found, source="case_form" if from_case_form else "portal", customer_id=_customer_id()
        )
    if from_case_form:
        viewed = set(session.get(VIEWED_KEY, []))
        viewed.add(found.id)
        session[VIEWED_KEY] = sorted(viewed)
    draft = session.get(DRAFT_KEY) or {}
    return render_template(
        "kb/article.html",
        article=found,
        body_html=render_markdown(body_without_title(found.title, found.body_md)),
        related=service.related_articles(found),
        translations=service.translations_of(found),
        feedback_form=FeedbackForm(),
        solved_form=SolvedForm(query=searched or draft.get("subject", "")),
        from_case_form=from_case_form,
        searched=searched,
    )


@bp.post("/kb/<slug>/feedback")
def feedback(slug: str):
    found = service.article_by_slug(slug) or abort(404)
    form = FeedbackForm()
    if not form.validate_on_submit() or form.helpful.data not in ("yes", "no"):
        abort(400, _("Choose yes or no."))
    with unit_of_work():
        service.record_feedback(
            found, helpful=form.helpful.data == "yes", comment=form.comment.data, customer_id=_customer_id()
        )
    if htmx:
        return render_template("kb/_thanks.html")
    flash(_("Thank you for your feedback."), "success")
    return redirect(url_for("kb.article", slug=slug), 303)


@bp.post("/kb/<slug>/solved")
def solved(slug: str):
    """ "This solved my problem": a deflection is recorded and no case is opened."""
    found = service.article_by_slug(slug) or abort(404)
    form = SolvedForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work():
        service.record_deflection(found, query=form.query.data, customer_id=_customer_id())
    session.pop(DRAFT_KEY, None)
    session.pop(VIEWED_KEY, None)
    flash(_("Glad we could help! No case was opened."), "success")
    return redirect(url_for("portal.home"), 303)


@bp.get("/kb/category/<slug>")
def category(slug: str):
    found = db.session.scalar(select(Category).where(Category.slug == slug)) or abort(404)
    locale = current_language()
    return render_template(
        "kb/category.html", category=found, articles=service.category_articles(found, locale)
    )


# --- staff editor ----------------------------------------------------------------------------


@bp.get("/agent/kb")
@kb_editor_required
def manage():
    articles = db.session.scalars(select(Article).order_by(Article.locale, Article.title)).all()
    return render_template("kb/manage.html", articles=articles, gaps=service.zero_result_searches())


def _article_form(article: Article | None) -> ArticleForm:
    form = ArticleForm(obj=None)
    form.category.choices = [(0, "—")] + [
        (c.id, c.name_for(current_language()))
        for c in db.session.scalars(select(Category).order_by(Category.position))
    ]
    if article is not None and request.method == "GET":
        form.title.data, form.slug.data, form.locale.data = article.title, article.slug, article.locale
        form.category.data = article.category_id or 0
        form.translation_of.data = article.translation_of.slug if article.translation_of else ""
        form.tags.data = ", ".join(article.tags or [])
        form.phrasings.data = "\n".join(article.phrasings or [])
        form.body.data, form.status.data = article.body_md, article.status.value
    return form


@bp.route("/agent/kb/new", methods=["GET", "POST"], defaults={"article_id": None})
@bp.route("/agent/kb/<int:article_id>/edit", methods=["GET", "POST"])
@kb_editor_required
def edit(article_id: int | None):
    article = db.session.get(Article, article_id) if article_id else None
    if article_id and article is None:
        abort(404)
    form = _article_form(article)
    if form.validate_on_submit():
        original = None
        if form.translation_of.data:
            original = service.article_by_slug(form.translation_of.data.strip(), published_only=False)
            if original is None:
                form.translation_of.errors.append(_("No article has this slug."))
        if not form.translation_of.errors:
            refused_shows_again(lambda: _editor_page(form, article, 400))
            with unit_of_work():
                article = service.save_article(
                    article,
                    slug=form.slug.data,
                    locale=form.locale.data,
                    title=form.title.data,
                    body=form.body.data or "",
                    category=db.session.get(Category, form.category.data) if form.category.data else None,
                    tags=(form.tags.data or "").split(","),
                    translation_of=original,
                    status=ArticleStatus(form.status.data),
                    author_id=current_user.id,
                    phrasings=(form.phrasings.data or "").splitlines(),
                )
            flash(_("Article saved."), "success")
            return redirect(url_for("kb.edit", article_id=article.id), 303)
    return _editor_page(form, article, 400 if request.method == "POST" else 200)


def _editor_page(form: ArticleForm, article: Article | None, status: int):
    preview = render_markdown(form.body.data or "")
    suggestions = service.phrasing_suggestions(article) if article is not None else []
    return render_template(
        "kb/edit.html",
        form=form,
        article=article,
        preview=preview,
        suggestions=suggestions,
        review_form=PhrasingReviewForm(),
    ), status


@bp.post("/agent/kb/<int:article_id>/suggestions/<int:deflection_id>")
@kb_editor_required
def review_suggestion(article_id: int, deflection_id: int):
    """Accept a customer's words as one of the article's phrasings, or dismiss them."""
    article = db.session.get(Article, article_id) or abort(404)
    deflection = db.session.get(Deflection, deflection_id) or abort(404)
    if not PhrasingReviewForm().validate_on_submit():
        abort(400)
    accept = request.form.get("decision") == "accept"
    with unit_of_work():
        service.review_phrasing(article, deflection, accept=accept)
    flash(_("Phrasing added.") if accept else _("Suggestion dismissed."), "success")
    return redirect(url_for("kb.edit", article_id=article.id) + "#phrasings", 303)


@bp.post("/agent/kb/preview")
@kb_editor_required
def preview():
    """The editor's live preview (htmx); the body is sanitised exactly as on the article page."""
    return render_template("kb/_preview.html", preview=render_markdown(request.form.get("body", "")))
