"""Saved views: any filter combination (custom fields included) saved under a name, personal or
shared with a queue, listed with counts, reordered and deleted."""

import re

from helpdesk.agents.models import SavedView
from helpdesk.custom_fields import service as fields
from helpdesk.extensions import db
from helpdesk.tickets.models import Priority
from tests.custom_fields.helpers import make_return_type
from tests.factories import count_queries, make_customer, make_queue, make_staff, make_ticket


def returns_with_reasons(queue=None):
    make_return_type()
    made = []
    for reason, priority in (
        ("damaged", Priority.HIGH),
        ("damaged", Priority.NORMAL),
        ("late", Priority.HIGH),
    ):
        ticket = make_ticket(customer=make_customer(), queue=queue, priority=priority)
        fields.set_ticket_fields(ticket, {"reason": reason}, actor=None, locale="en")
        made.append(ticket)
    db.session.commit()
    return made


def saved_links(page: str) -> dict[str, str]:
    """name → count of the saved views in the view list."""
    block = page.split('<ul class="saved-views">', 1)[1].split("</ul>", 1)[0]
    return dict(re.findall(r"<bdi>([^<]+)</bdi>.*?<span class=\"count\">([^<]+)</span>", block, re.S))


def test_an_agent_saves_the_filters_with_a_field_and_sees_the_view_with_its_count(client, login):
    agent = make_staff(language="en")
    returns_with_reasons()
    login(agent)
    page = client.get("/agent?view=open&cf_reason=damaged&priority=high").get_data(as_text=True)
    assert '<input type="hidden" name="cf_reason" value="damaged">' in page
    response = client.submit(
        "/agent/saved-views",
        {"view": "open", "cf_reason": "damaged", "priority": "high", "name": "Damaged, urgent", "share": ""},
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/agent?")
    view = db.session.scalar(db.select(SavedView))
    assert view.query == {"view": "open", "cf_reason": "damaged", "priority": "high"}
    assert view.owner_id == agent.id and view.queue_id is None
    page = client.get("/agent").get_data(as_text=True)
    assert saved_links(page) == {"Damaged, urgent": "1"}
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        followed.count('class="ticket-row"') == 1 and 'aria-current="page">\n        <bdi>Damaged' in followed
    )


def test_bad_filters_or_no_name_save_nothing_and_say_why(client, login):
    login(make_staff(language="en"))
    returns_with_reasons()
    refused = client.submit("/agent/saved-views", {"view": "open", "cf_reason": "stolen", "name": "Bad"})
    assert refused.status_code == 303
    assert "is not one of the options" in client.get(refused.headers["Location"]).get_data(as_text=True)
    client.submit("/agent/saved-views", {"view": "open", "name": "  "})
    assert db.session.scalar(db.select(SavedView)) is None


def test_a_view_shared_with_a_queue_is_seen_by_its_members_only(client, login):
    returns = make_queue("returns", name_en="Returns")
    other = make_queue("billing", name_en="Billing")
    owner, colleague, outsider = (make_staff(language="en") for _ in range(3))
    returns.members.extend([owner, colleague])
    other.members.append(outsider)
    db.session.commit()
    returns_with_reasons(queue=returns)
    login(owner)
    page = client.get("/agent").get_data(as_text=True)
    assert f'<option value="{returns.id}">Shared with Returns</option>' in page
    assert "Shared with Billing" not in page  # an agent shares with their own queues
    forbidden = client.submit("/agent/saved-views", {"view": "open", "name": "X", "share": str(other.id)})
    assert db.session.scalar(db.select(SavedView)) is None and forbidden.status_code in (303, 400)
    client.submit(
        "/agent/saved-views",
        {"view": "open", "cf_reason": "late", "name": "Late returns", "share": str(returns.id)},
    )
    client.submit("/agent/saved-views", {"view": "mine", "name": "Just mine"})
    login(colleague)
    assert saved_links(client.get("/agent").get_data(as_text=True)) == {"Late returns": "1"}
    listing = client.get("/agent/saved-views").get_data(as_text=True)
    assert "Shared with Returns" in listing and owner.name in listing
    assert "Move up" not in listing  # only the owner changes it
    view = db.session.scalar(db.select(SavedView).filter_by(name="Late returns"))
    client.submit(f"/agent/saved-views/{view.id}/delete")
    assert db.session.get(SavedView, view.id) is not None
    login(outsider)
    assert '<ul class="saved-views">' not in client.get("/agent").get_data(as_text=True)
    assert "Late returns" not in client.get("/agent/saved-views").get_data(as_text=True)


def test_views_are_reordered_and_deleted_by_their_owner(client, login):
    agent = make_staff(language="en")
    login(agent)
    for name in ("First", "Second", "Third"):
        client.submit("/agent/saved-views", {"view": "open", "status": "new", "name": name})
    third = db.session.scalar(db.select(SavedView).filter_by(name="Third"))
    client.submit(f"/agent/saved-views/{third.id}/move", {"direction": "up"})
    client.submit(f"/agent/saved-views/{third.id}/move", {"direction": "up"})
    client.submit(f"/agent/saved-views/{third.id}/move", {"direction": "up"})  # already first
    assert list(saved_links(client.get("/agent").get_data(as_text=True))) == ["Third", "First", "Second"]
    client.submit(f"/agent/saved-views/{third.id}/delete")
    assert list(saved_links(client.get("/agent").get_data(as_text=True))) == ["First", "Second"]


def test_saved_views_speak_arabic(client, login):
    login(make_staff(language="ar"))
    client.submit("/agent/saved-views", {"view": "open", "name": "طلباتي العاجلة", "priority": "high"})
    page = client.get("/agent").get_data(as_text=True)
    assert "العروض المحفوظة" in page and "احفظ كعرض" in page and "أنا فقط" in page
    assert "طلباتي العاجلة" in client.get("/agent/saved-views").get_data(as_text=True)


def test_counts_take_one_query_however_many_views(client, login):
    agent = make_staff()
    returns_with_reasons()
    login(agent)
    client.submit("/agent/saved-views", {"view": "open", "cf_reason": "damaged", "name": "v0"})
    with count_queries() as few:
        assert client.get("/agent").status_code == 200
    with count_queries() as listing_few:
        assert client.get("/agent/saved-views").status_code == 200
    for i in range(1, 8):
        client.submit(
            "/agent/saved-views", {"view": "open", "cf_reason": "late", "priority": "high", "name": f"v{i}"}
        )
    with count_queries() as many:
        page = client.get("/agent").get_data(as_text=True)
    with count_queries() as listing_many:
        assert client.get("/agent/saved-views").status_code == 200
    assert len(saved_links(page)) == 8
    assert len(many) == len(few) and len(listing_many) == len(listing_few) <= 7
