"""The index-jobs table: article and ticket changes queue a row in their own transaction; the
worker applies them to Whoosh, which allows only one writer at a time. And, on PostgreSQL, the
tables that hold the indexes themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, Sequence, String, text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db


class IndexJob(db.Model):
    __tablename__ = "search_index_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    index_name: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- the PostgreSQL backend's tables (helpdesk/search/pg.py); created only on PostgreSQL ----------

POSTGRES_ONLY = {"postgresql_only": True}  # table info: the migration skips them on SQLite
SMALL_INDEXES = ("articles", "macros")  # searched while typing; a partial GIN index each
# Each write of a document takes the next number: a common word's matches are ranked newest first.
WRITTEN = Sequence("search_documents_written_seq", metadata=db.metadata)


class SearchDocument(db.Model):
    """One document of an index: its stored and filter fields, and its terms as our analyzer made
    them, with positions and a weight letter per field group (A: the most boosted)."""

    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_terms", "terms", postgresql_using="gin"),
        Index("ix_search_documents_words", "words", postgresql_using="gin"),
        Index("ix_search_documents_written", "index_name", "written"),
        # The small indexes' own (migration 0019): their searches never walk the tickets' matches.
        *(
            Index(
                f"ix_search_documents_terms_{name}",
                "terms",
                postgresql_using="gin",
                postgresql_where=text(f"index_name = '{name}'"),
            )
            for name in SMALL_INDEXES
        ),
        {"info": POSTGRES_ONLY},
    )

    index_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fields: Mapped[dict] = mapped_column(JSONB)
    terms: Mapped[str] = mapped_column(TSVECTOR)
    # Its unstemmed words (no positions): a word no document has any more leaves the vocabulary.
    words: Mapped[str] = mapped_column(TSVECTOR)
    # When it was last written (``WRITTEN``'s order): a ticket with a new message comes first.
    written: Mapped[int] = mapped_column(BigInteger, WRITTEN, server_default=WRITTEN.next_value())


class SearchWord(db.Model):
    """The unstemmed words of an index, which "did you mean" suggests from (trigram index)."""

    __tablename__ = "search_words"
    __table_args__ = (
        Index(
            "ix_search_words_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
        {"info": POSTGRES_ONLY},
    )

    index_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    word: Mapped[str] = mapped_column(String(100), primary_key=True)


class SearchPassage(db.Model):
    """A passage vector of a document (float16, unit length), with the filter fields it is searched by."""

    __tablename__ = "search_passages"
    __table_args__ = ({"info": POSTGRES_ONLY},)

    index_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    text_hash: Mapped[bytes] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(80))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    fields: Mapped[dict] = mapped_column(JSONB)
