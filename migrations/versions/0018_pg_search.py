"""Search indexes in PostgreSQL: documents, vocabulary, passage vectors (nothing on SQLite)

The tables of helpdesk/search/pg.py; on SQLite, Whoosh keeps the indexes in the instance folder.

Revision ID: 0018_pg_search
Revises: 0017_fields_everywhere
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018_pg_search"
down_revision = "0017_fields_everywhere"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "search_documents",
        sa.Column("index_name", sa.String(40), nullable=False),
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.Column("fields", postgresql.JSONB(), nullable=False),
        sa.Column("terms", postgresql.TSVECTOR(), nullable=False),
        sa.Column("words", postgresql.TSVECTOR(), nullable=False),
        sa.PrimaryKeyConstraint("index_name", "doc_id"),
    )
    op.create_index("ix_search_documents_terms", "search_documents", ["terms"], postgresql_using="gin")
    op.create_index("ix_search_documents_words", "search_documents", ["words"], postgresql_using="gin")
    op.create_table(
        "search_words",
        sa.Column("index_name", sa.String(40), nullable=False),
        sa.Column("word", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("index_name", "word"),
    )
    op.create_index(
        "ix_search_words_trgm",
        "search_words",
        ["word"],
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.create_table(
        "search_passages",
        sa.Column("index_name", sa.String(40), nullable=False),
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text_hash", sa.LargeBinary(), nullable=False),
        sa.Column("model", sa.String(80), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("fields", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("index_name", "doc_id", "seq"),
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("search_passages")
    op.drop_index("ix_search_words_trgm", table_name="search_words")
    op.drop_table("search_words")
    op.drop_index("ix_search_documents_words", table_name="search_documents")
    op.drop_index("ix_search_documents_terms", table_name="search_documents")
    op.drop_table("search_documents")
