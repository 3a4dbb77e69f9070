"""Search on PostgreSQL at a million tickets: the small indexes get GIN indexes of their own

Tickets, articles and macros share one table and one GIN index of terms. Searching the knowledge
base for a common word then built a bitmap of every ticket with that word (239,064 of them at a
million tickets, 32 of the 34 ms) before keeping the thousand articles. Partial GIN indexes of the
articles' and the macros' terms make those searches independent of the number of tickets.

And tickets.order_id gets the index its foreign key lacked: agent search looks every query up as an
order number too, and without it the join from orders planned a scan of every ticket.

Revision ID: 0020_scale_indexes
Revises: 0019_article_phrasings
"""

from alembic import op

revision = "0020_scale_indexes"
down_revision = "0019_article_phrasings"
branch_labels = None
depends_on = None

SMALL_INDEXES = ("articles", "macros")


def upgrade():
    op.create_index("ix_tickets_order_id", "tickets", ["order_id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in SMALL_INDEXES:
        op.execute(
            f"CREATE INDEX ix_search_documents_terms_{name} ON search_documents"
            f" USING gin (terms) WHERE index_name = '{name}'"
        )


def downgrade():
    op.drop_index("ix_tickets_order_id", table_name="tickets")
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in SMALL_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS ix_search_documents_terms_{name}")
