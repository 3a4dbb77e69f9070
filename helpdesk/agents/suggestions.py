"""Suggested answers for the ticket in front of an agent: the help articles and macros closest to
what the customer wrote last, searched by words and meaning (``helpdesk/search/hybrid.py``), so
the answer is one click from the reply box."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from helpdesk.agents.articles import ARTICLES_INDEX, article_url
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.search import analysis, hybrid
from helpdesk.search.indexer import index_exists
from helpdesk.tickets.models import Macro, Message, MessageKind, Ticket
from helpdesk.tickets.search_index import MACROS_INDEX

SUGGESTED = 3  # articles, and macros
QUESTION_CHARS = 600  # the question is at the start of a message; quotes and signatures follow
SHORT_MESSAGE_WORDS = 4  # "any news?": the subject says what it is about
# A suggestion far weaker than the best one is noise to an agent with a customer waiting.
RELATIVE_FLOOR = 0.5


@dataclass
class SuggestedAnswers:
    question: str  # what was searched: the customer's latest message
    locale: str  # the customer's language, which the suggestions are in
    articles: list[tuple[Article, str]] = field(default_factory=list)  # (article, public address)
    macros: list[Macro] = field(default_factory=list)


def customer_question(ticket: Ticket) -> str:
    """The customer's latest public message (with the subject when it says little by itself)."""
    latest = db.session.execute(
        select(Message.display_text, Message.body_text)
        .where(
            Message.ticket_id == ticket.id,
            Message.kind == MessageKind.REPLY,
            Message.author_customer_id.is_not(None),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    ).first()
    return _question(ticket, (latest[0] or latest[1]) if latest else "")


def _question(ticket: Ticket, latest: str) -> str:
    text = " ".join(latest.split())[:QUESTION_CHARS]
    if len(text.split()) < SHORT_MESSAGE_WORDS:
        text = f"{ticket.subject} {text}".strip()
    return text


def written_language(ticket: Ticket, messages: Sequence[Message]) -> str:
    """The language of the customer's latest message among ``messages`` (the conversation the page
    has already loaded, oldest first): ``language_of`` what ``customer_question`` would read."""
    latest = next(
        (m for m in reversed(messages) if m.kind == MessageKind.REPLY and m.author_customer_id is not None),
        None,
    )
    text = (latest.display_text or latest.body_text or "") if latest else ""
    return language_of(ticket, _question(ticket, text))


def language_of(ticket: Ticket, text: str) -> str:
    """The language the customer wrote in (two words in three of one language), else the ticket's.
    Arabic in Latin letters counts as Arabic when its marks (``analysis.is_arabizi``) make a quarter
    of the Latin words: its readers read Arabic articles."""
    words = [w for w in analysis.words(text) if not w.isdigit()]
    latin = [w for w in words if not analysis.is_arabic(w)]
    arabizi = sum(map(analysis.is_arabizi, latin))
    arabic = len(words) - len(latin) + (len(latin) if arabizi * 4 >= len(latin) > 0 else 0)
    if words and arabic * 3 >= len(words) * 2:
        return "ar"
    if words and (len(words) - arabic) * 3 >= len(words) * 2:
        return "en"
    return ticket.language if ticket.language in ("ar", "en") else "ar"


def suggested_answers(ticket: Ticket, limit: int = SUGGESTED) -> SuggestedAnswers:
    question = customer_question(ticket)
    locale = language_of(ticket, question)
    found = SuggestedAnswers(question=question, locale=locale)
    if not question:
        return found
    if index_exists(ARTICLES_INDEX):
        published = {"status": ArticleStatus.PUBLISHED.value}
        hits = hybrid.query(ARTICLES_INDEX, question, locale, limit, published, snippets=False).hits
        articles = _rows(Article, _strong(hits))
        found.articles = [(a, article_url(a)) for a in articles if a.status == ArticleStatus.PUBLISHED]
    if index_exists(MACROS_INDEX):
        # The customer's language first; a team that keeps its macros in one language still gets them.
        active = {"active": "yes"}
        hits = hybrid.query(MACROS_INDEX, question, locale, limit, active, snippets=False).hits
        hits = hits or hybrid.query(MACROS_INDEX, question, None, limit, active, snippets=False).hits
        found.macros = [m for m in _rows(Macro, _strong(hits)) if m.is_active]
    return found


def _strong(hits: list) -> list[int]:
    """Ids of the hits at least ``RELATIVE_FLOOR`` as good as the best one, best first."""
    best = max((hit.score for hit in hits), default=0.0)
    return [int(hit.id) for hit in hits if hit.score >= RELATIVE_FLOOR * best]


def _rows(model, ids: list[int]) -> list:
    """Rows of ``model`` in the order of ``ids`` (one query)."""
    if not ids:
        return []
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]
