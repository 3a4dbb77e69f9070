"""Search on PostgreSQL: the order documents were written, so a common word's matches rank newest first

Agent search ranks at most 5,000 of a query's matches. For a word in a fifth of a million tickets
those were the first 5,000 the GIN index gave (the oldest tickets, after a reindex), and its whole
bitmap was built first, so the search slowed as the history grew. Each document now takes a number
from a sequence whenever it is written; with an index on (index_name, written) PostgreSQL walks a
common word's matches from the newest down and stops at 5,000, at any size.

And the terms column keeps statistics of its 10,000 most common lexemes instead of about 1,000
(``SET STATISTICS 1000``): the planner then knows a common word from a rare one, and a search takes
a common word's document frequency from those statistics instead of counting its matches.

Revision ID: 0021_search_written
Revises: 0020_scale_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_search_written"
down_revision = "0020_scale_indexes"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE search_documents_written_seq")
    # Existing documents are numbered in the table's order (a reindex wrote them oldest first).
    op.add_column(
        "search_documents",
        sa.Column(
            "written",
            sa.BigInteger(),
            server_default=sa.text("nextval('search_documents_written_seq'::regclass)"),
            nullable=False,
        ),
    )
    op.execute("ALTER SEQUENCE search_documents_written_seq OWNED BY search_documents.written")
    op.create_index("ix_search_documents_written", "search_documents", ["index_name", "written"])
    op.execute("ALTER TABLE search_documents ALTER COLUMN terms SET STATISTICS 1000")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search_documents ALTER COLUMN terms SET STATISTICS -1")
    op.drop_index("ix_search_documents_written", table_name="search_documents")
    op.drop_column("search_documents", "written")  # drops the sequence it owns
