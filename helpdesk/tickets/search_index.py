"""The "tickets" search index, for staff only: subjects, every message (internal notes too), the
customer's name and addresses, order numbers. Also the "similar solved tickets" lookup (by
meaning: a vector of each ticket's subject and first customer message, kept beside the index by the
same writer; by distinctive words where there is none), and the "macros" index that the agent
page's suggested answers search.

A new ticket or a status change queues its index job through the search package's flush hook
(``watched_attributes``); where the text changes without touching a watched column (a message
added, a merge) the ticket service publishes an event that ``reindex_ticket`` receives.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace

from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import And, Or, Term

from helpdesk.custom_fields.models import FieldType, TicketFieldValue
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.search import analysis, dense, embeddings, lexicon, pg
from helpdesk.search.analysis import bilingual_analyzer, spelling_analyzer
from helpdesk.search.backend import uses_postgres
from helpdesk.search.dense import DenseSpec, register_dense
from helpdesk.search.indexer import index_dir, queue_reindex, searcher
from helpdesk.search.registry import IndexSpec, register_index
from helpdesk.tickets.macros import PLACEHOLDER
from helpdesk.tickets.models import Macro, Message, MessageKind, Status, Ticket

INDEX = "tickets"
SIMILAR_LIMIT = 5
SIMILAR_KEY_TERMS = 8
SIMILAR_CANDIDATE_TERMS = 24
# A word in more than this share of all tickets ("order", "please") says little about likeness and
# costs a scan of its whole posting list; it is left out of the comparison.
SIMILAR_MAX_SHARE = 0.05
SIMILAR_ALWAYS_KEPT = 50  # documents: a small helpdesk keeps every word
SIMILAR_CACHED = 2_000  # tickets per process
# Below this, two tickets' vectors are not taken as alike. e5 (4-bit) puts two unrelated English
# support messages at about 0.78–0.87 and the same problem in other words at 0.89 or more; Arabic
# ones crowd higher (unrelated 0.89–0.91, twins 0.91–0.94), so there the words' share decides more.
SIMILAR_MIN_COSINE = 0.88
TICKET_PASSAGE_CHARS = 1_500  # the problem is stated at the start; signatures and quotes follow
_SOLVED = (Status.SOLVED.value, Status.CLOSED.value)


def ticket_schema() -> Schema:
    """Only short fields are stored: the whole conversation is searched but not copied into the
    index (snippets are cut from the database), and nothing needs word positions, since ticket
    search matches words, not phrases. On 100,000 tickets this keeps a searcher's memory small."""
    text = bilingual_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        number=ID(stored=True),
        status=ID(stored=True),
        merged=ID(stored=True),  # "yes" once merged into another ticket
        subject=TEXT(analyzer=text, phrase=False, stored=True),
        customer=TEXT(analyzer=text, phrase=False, stored=True),
        emails=TEXT(analyzer=text, phrase=False),
        orders=TEXT(analyzer=text, phrase=False, stored=True),
        body=TEXT(analyzer=text, phrase=False),
        # Subject and public replies with term vectors (word counts): what "more like this" compares.
        similar=TEXT(analyzer=text, phrase=False, vector=True),
        words=TEXT(analyzer=spelling_analyzer(), phrase=False),
    )


def _message_text(message: Message) -> str:
    return _shown_text(message.display_text, message.body_text)


def _shown_text(display_text: str | None, body_text: str | None) -> str:
    return (display_text or body_text or "").strip()


def _body(subject: str, message_texts: list[str]) -> str:
    # The subject leads the body, so a subject-only match still gets a highlighted snippet.
    return "\n\n".join(t for t in [subject, *message_texts] if t)


def _field_texts(ticket: Ticket) -> list[str]:
    """The ticket's text and long-text custom fields (a waybill number, a description of the fault)."""
    texts = []
    for row in ticket.field_values:
        if row.field.type in (FieldType.TEXT, FieldType.LONG_TEXT):
            texts.append((row.value_long if row.field.type == FieldType.LONG_TEXT else row.value_text) or "")
    return [t.strip() for t in texts if t and t.strip()]


def ticket_document(ticket: Ticket) -> dict:
    messages = [m for m in ticket.messages if m.kind != MessageKind.EVENT]
    # Text fields are searched with the conversation (their words, not shown in the snippet).
    body = _body(ticket.subject, [_message_text(m) for m in messages] + _field_texts(ticket))
    public = "\n\n".join(_message_text(m) for m in messages if m.kind == MessageKind.REPLY)
    customer = ticket.customer
    emails = " ".join(e.email for e in customer.emails) if customer else ""
    orders = ticket.order.number if ticket.order else ""
    name = customer.name if customer else ""
    return {
        "id": str(ticket.id),
        "number": ticket.number,
        "status": ticket.status.value,
        "merged": "yes" if ticket.merged_into_id else "no",
        "subject": ticket.subject,
        "customer": name,
        "emails": emails,
        "orders": orders,
        "body": body,
        "similar": f"{ticket.subject}\n{public}",
        "words": f"{name} {orders} {body}",
    }


def snippet_texts(doc_ids: list[str]) -> dict[str, str]:
    """The ``body`` text of these tickets as it was indexed, read back in one query."""
    ids = [int(doc_id) for doc_id in doc_ids]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Ticket.id, Ticket.subject, Message.display_text, Message.body_text)
        .outerjoin(Message, (Message.ticket_id == Ticket.id) & (Message.kind != MessageKind.EVENT))
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.id, Message.created_at, Message.id)
    )
    parts: dict[str, list[str]] = {}  # doc id → subject, then each message's text
    for ticket_id, subject, display_text, body_text in rows:
        parts.setdefault(str(ticket_id), [subject]).append(_shown_text(display_text, body_text))
    return {doc_id: _body(texts[0], texts[1:]) for doc_id, texts in parts.items()}


def all_tickets():
    """Every ticket with what its document needs, fetched 1,000 at a time (``helpdesk reindex``
    on PostgreSQL streams them)."""
    return db.session.scalars(
        select(Ticket)
        .order_by(Ticket.id)
        .options(
            selectinload(Ticket.messages),
            joinedload(Ticket.customer).selectinload(Customer.emails),
            joinedload(Ticket.order),
            selectinload(Ticket.field_values).joinedload(TicketFieldValue.field),
        )
        .execution_options(yield_per=1_000)
    )


TICKETS = register_index(
    IndexSpec(
        name=INDEX,
        schema=ticket_schema,
        model=Ticket,
        document=ticket_document,
        query_fields={"subject": 3.0, "orders": 3.0, "customer": 2.0, "emails": 2.0, "body": 1.0},
        snippet_field="body",
        watched_attributes=frozenset({"subject", "status", "customer_id", "order_id", "merged_into_id"}),
        all_rows=all_tickets,
        snippet_texts=snippet_texts,
    )
)


def queue_ticket_index(*tickets: Ticket) -> None:
    """Re-index these tickets when this transaction commits (their text changed)."""
    for ticket in tickets:
        if ticket.id is not None:
            queue_reindex(INDEX, ticket.id)


def reindex_ticket(ticket: Ticket, *, source: Ticket | None = None, **_details: object) -> None:
    """Receiver of ``message_added`` and ``tickets_merged``: the ticket's text changed without a
    watched column changing (a merge changes the source's too)."""
    queue_ticket_index(ticket, *([source] if source is not None else []))


@dataclass(frozen=True)
class SimilarTicket:
    number: str
    subject: str
    status: str
    score: float


# "More like this" scores a dozen key terms over every ticket in the index (a second of CPU on
# 100,000 tickets written in common words), so each answer is kept for the index generation it was
# computed on: the same ticket on an unchanged index gives the same list, and any commit to the
# index starts a new generation.
_similar_cache: LRUCache = LRUCache(maxsize=SIMILAR_CACHED)
_similar_lock = threading.Lock()


def similar_solved_tickets(ticket: Ticket, limit: int = SIMILAR_LIMIT) -> list[SimilarTicket]:
    """Solved or closed tickets most like this one, itself and merged ones left out: by meaning
    (nearest ticket vectors) first, then by distinctive words (Whoosh more-like-this) to fill up.
    Reads only the index and its vectors — no database query — so the ticket page stays cheap.
    (On PostgreSQL the index is in the database: a few queries, no cache to keep in step.)"""
    if uses_postgres():
        return _fused(_by_meaning(None, ticket, limit * 2), _more_like_pg(ticket, limit * 2), limit)
    current = searcher(INDEX)
    key = (
        str(index_dir(INDEX)),
        current.reader().generation(),
        dense.stamp(INDEX),
        ticket.id,
        ticket.subject,
        limit,
    )
    with _similar_lock:
        found = _similar_cache.get(key)
    if found is None:
        found = _fused(_by_meaning(current, ticket, limit * 2), _more_like(current, ticket, limit * 2), limit)
        with _similar_lock:
            _similar_cache[key] = found
    return list(found)


def _fused(meaning: list[SimilarTicket], words: list[SimilarTicket], limit: int) -> list[SimilarTicket]:
    """Both lists in one: the cosine scaled from the floor to 1, the words' score relative to the
    best, weighted 0.6 / 0.4 (a ticket found both ways first). Without vectors: the words' order."""
    top_words = max((item.score for item in words), default=0.0) or 1.0
    scores: dict[str, float] = {}
    by_number: dict[str, SimilarTicket] = {}
    for item in meaning:
        scores[item.number] = 0.6 * (item.score - SIMILAR_MIN_COSINE) / (1.0 - SIMILAR_MIN_COSINE)
        by_number[item.number] = item
    for item in words:
        scores[item.number] = scores.get(item.number, 0.0) + 0.4 * item.score / top_words
        by_number.setdefault(item.number, item)
    ranked = sorted(scores, key=lambda number: (-scores[number], number))
    return [replace(by_number[n], score=round(scores[n], 4)) for n in ranked[:limit]]


def _by_meaning(current, ticket: Ticket, limit: int) -> list[SimilarTicket]:
    vector = dense.stored_vector(INDEX, str(ticket.id))
    if vector is None and embeddings.is_available():  # not embedded yet: the worker is behind
        texts = ticket_passages(ticket)
        vector = embeddings.embed_passages(texts[:1])[0] if texts else None
    if vector is None:
        return []
    only = {"status": _SOLVED, "merged": "no"}
    nearest = dense.nearest(INDEX, vector, only, limit=limit + 1)
    documents = pg.documents(INDEX, list(nearest)) if current is None else None
    found = []
    for doc_id, cosine in sorted(nearest.items(), key=lambda item: -item[1]):
        if doc_id == str(ticket.id) or cosine < SIMILAR_MIN_COSINE:
            continue
        stored = documents.get(doc_id) if documents is not None else current.document(id=doc_id)
        if stored is None or stored.get("status") not in _SOLVED or stored.get("merged") != "no":
            continue  # the vectors lag behind the index by one writer pass at most
        found.append(SimilarTicket(stored["number"], stored["subject"], stored["status"], cosine))
    return found[:limit]


def _more_like(current, ticket: Ticket, limit: int) -> list[SimilarTicket]:
    docnum = current.document_number(id=str(ticket.id))
    terms = _distinctive_terms(current, docnum, ticket.subject)
    if not terms:
        return []
    only = And([Or([Term("status", s) for s in _SOLVED]), Term("merged", "no")])
    query = Or([Term("similar", word, boost=weight) for word, weight in terms])
    mask = {docnum} if docnum is not None else None
    found = []
    for hit in current.search(query, limit=limit + 1, filter=only, mask=mask):
        stored = hit.fields()
        if stored["id"] == str(ticket.id):
            continue
        score = round(hit.score, 4)
        found.append(SimilarTicket(stored["number"], stored["subject"], stored["status"], score))
    return found[:limit]


def _more_like_pg(ticket: Ticket, limit: int) -> list[SimilarTicket]:
    """More-like-this on the PostgreSQL backend: the ticket's distinctive terms (weighed by how
    often it uses them and how rare they are, the common ones left out), searched among the
    solved tickets."""
    if ticket.id is None:
        return []
    counts: dict[str, int] = {}
    for token in bilingual_analyzer()(ticket_document(ticket)["similar"]):
        counts[token.text] = counts.get(token.text, 0) + 1
    total = pg.document_count(INDEX)
    most = max(SIMILAR_ALWAYS_KEPT, int(total * SIMILAR_MAX_SHARE))
    # Counted past the share that makes a word too common to compare by, so those are left out.
    frequencies = pg.document_frequencies(INDEX, counts, cap=most + 1)
    weights = {
        term: n * math.log((total + 1) / (frequencies[term] + 0.5))
        for term, n in counts.items()
        if 0 < frequencies.get(term, 0) <= most
    }
    key = sorted(weights, key=lambda t: (-weights[t], t))[:SIMILAR_KEY_TERMS]
    if not key:
        return []
    top = max(weights[t] for t in key)
    built = pg.Built(exact=[(t, weights[t] / top) for t in key], prefixes=[], suggestion=None)
    only = {"status": _SOLVED, "merged": "no"}
    found = []
    for hit in pg.search(INDEX, built, frequencies, only, limit + 1):
        if hit.id != str(ticket.id):
            found.append(
                SimilarTicket(
                    hit.fields["number"], hit.fields["subject"], hit.fields["status"], round(hit.score, 4)
                )
            )
    return found[:limit]


def _distinctive_terms(current, docnum: int | None, subject: str) -> list[tuple[str, float]]:
    """The ticket's key terms (its own term vector, or its subject while it waits to be indexed),
    without the words so common that they match a large part of the index."""
    if docnum is not None:
        candidates = current.key_terms([docnum], "similar", numterms=SIMILAR_CANDIDATE_TERMS)
    else:
        candidates = current.key_terms_from_text("similar", subject, numterms=SIMILAR_CANDIDATE_TERMS)
    most = max(SIMILAR_ALWAYS_KEPT, int(current.doc_count() * SIMILAR_MAX_SHARE))
    kept = [(word, weight) for word, weight in candidates if current.doc_frequency("similar", word) <= most]
    return kept[:SIMILAR_KEY_TERMS]


# --- meaning: one passage per ticket ------------------------------------------------------------


def ticket_passages(ticket: Ticket) -> list[str]:
    """The subject and the customer's first message: what the ticket is about. Later messages
    (thanks, order numbers, the agent's answers) would pull every ticket towards the same place."""
    messages = [m for m in ticket.messages if m.kind == MessageKind.REPLY]
    first = next((m for m in messages if m.author_customer_id is not None), messages[0] if messages else None)
    text = f"{ticket.subject}\n{_message_text(first) if first else ''}".strip()[:TICKET_PASSAGE_CHARS]
    if not text:
        return []
    # Customers write in dialect, which the model reads poorly: the lexicon's words go along, as
    # with a knowledge-base question.
    words = analysis.words(text)
    arabic = sum(analysis.is_arabic(w) for w in words) * 2 >= len(words)
    extra = lexicon.expansions(words, "ar" if arabic else "en")
    return [" ".join([text, *dict.fromkeys(w for p in sorted(extra) for w in extra[p])])]


TICKET_VECTORS = register_dense(
    DenseSpec(
        index=INDEX,
        passages=ticket_passages,
        filter_fields=lambda ticket: {
            "status": ticket.status.value,
            "merged": "yes" if ticket.merged_into_id else "no",
        },
        compact=True,
    )
)


# --- the "macros" index: canned replies, found by the suggested answers panel -----------------

MACROS_INDEX = "macros"


def macro_schema() -> Schema:
    text = bilingual_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        locale=ID(stored=True),
        active=ID(stored=True),
        name=TEXT(analyzer=text, stored=True),
        body=TEXT(analyzer=text, stored=True),
        words=TEXT(analyzer=spelling_analyzer(), phrase=False),
    )


def _macro_text(body: str) -> str:
    """The reply without its placeholders ("{{ order_number }}" means nothing to the search)."""
    return " ".join(PLACEHOLDER.sub(" ", body or "").split())


def macro_document(macro: Macro) -> dict:
    body = _macro_text(macro.body)
    return {
        "id": str(macro.id),
        "locale": macro.locale,
        "active": "yes" if macro.is_active else "no",
        "name": macro.name,
        "body": body,
        "words": f"{macro.name} {body}",
    }


MACROS = register_index(
    IndexSpec(
        name=MACROS_INDEX,
        schema=macro_schema,
        model=Macro,
        document=macro_document,
        query_fields={"name": 2.0, "body": 1.0},
        snippet_field="body",
        watched_attributes=frozenset({"name", "body", "locale", "is_active"}),
        kept_in_memory=True,
    )
)

MACRO_VECTORS = register_dense(
    DenseSpec(
        index=MACROS_INDEX,
        passages=lambda macro: [f"{macro.name}\n{_macro_text(macro.body)}"[:TICKET_PASSAGE_CHARS]],
        filter_fields=lambda macro: {"locale": macro.locale, "active": "yes" if macro.is_active else "no"},
    )
)
