"""Several rows inserted in one flush (a batched INSERT on PostgreSQL) keep their parameters, and
NUL characters are still removed from them."""

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.search.models import IndexJob


def test_a_multi_row_flush_keeps_its_parameters_and_drops_nul_characters(app):
    db.session.add_all([IndexJob(index_name="x", doc_id="1\x00"), IndexJob(index_name="x", doc_id="2")])
    db.session.commit()
    assert sorted(db.session.scalars(select(IndexJob.doc_id))) == ["1", "2"]
