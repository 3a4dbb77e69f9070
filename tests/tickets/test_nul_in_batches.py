"""NUL characters are removed from multi-row INSERTs too (SQLAlchemy's insertmanyvalues batches)."""

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Tag
from tests.factories import make_ticket


def test_nul_characters_are_stripped_from_a_batch_of_new_rows(app):
    ticket = make_ticket()
    service.set_tags(ticket, ["late\x00ship", "re\x00fund", "vip"])
    db.session.commit()
    assert db.session.scalars(select(Tag.name).order_by(Tag.name)).all() == ["lateship", "refund", "vip"]
