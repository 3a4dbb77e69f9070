"""Connecting a queue to WhatsApp: the admin page, the CLI, and customers' numbers in E.164."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.integrations.mapping import e164
from helpdesk.whatsapp.models import WhatsAppAccount
from tests.factories import count_queries, make_queue, make_staff

FORM = {
    "phone_number_id": "106540352242922",
    "token_env": "WA_TOKEN",
    "app_secret_env": "WA_APP_SECRET",
    "verify_token_env": "WA_VERIFY",
    "graph_url": "http://127.0.0.1:9/v21.0",
    "idle_hours": "24",
    "template_name": "case_update",
    "template_languages": "ar,en",
}


@pytest.mark.parametrize(
    "raw",
    ["0551234567", "966551234567", "+966 55 123 4567", "٠٥٥١٢٣٤٥٦٧", "+٩٦٦ ٥٥ ١٢٣ ٤٥٦٧", "00966551234567"],
)
def test_saudi_numbers_in_every_usual_form_become_one_e164(raw):
    assert e164(raw) == "+966551234567"


def test_admin_connects_a_queue_and_only_variable_names_are_stored(app, client, login, monkeypatch):
    monkeypatch.setenv("WA_TOKEN", "EAAG-real-token-value")
    queue = make_queue(slug="sales")
    login(make_staff(Role.ADMIN))
    page = client.get("/admin/whatsapp")
    assert page.status_code == 200 and "/channels/whatsapp/webhook" in page.get_data(as_text=True)
    response = client.submit("/admin/whatsapp", FORM | {"queue_id": str(queue.id)})
    assert response.status_code == 303
    account = db.session.scalar(select(WhatsAppAccount))
    assert (account.queue_id, account.token_env, account.template_languages) == (
        queue.id,
        "WA_TOKEN",
        "ar,en",
    )
    html = client.get("/admin/whatsapp").get_data(as_text=True)
    assert "EAAG-real-token-value" not in html and "WA_APP_SECRET" in html  # named as not set


def test_bad_settings_are_refused_with_a_message(app, client, login):
    queue = make_queue(slug="sales")
    login(make_staff(Role.ADMIN))
    response = client.submit(
        "/admin/whatsapp", FORM | {"queue_id": str(queue.id), "token_env": "not a name!"}
    )
    assert response.status_code == 400 and "not a name!" in response.get_data(as_text=True)
    response = client.submit("/admin/whatsapp", FORM | {"queue_id": str(queue.id), "phone_number_id": "abc"})
    assert response.status_code == 400
    assert db.session.scalar(select(WhatsAppAccount)) is None


def test_agents_cannot_open_the_settings_and_the_form_needs_its_csrf_token(app, client, login):
    queue = make_queue(slug="sales")
    login(make_staff(Role.AGENT))
    assert client.get("/admin/whatsapp").status_code == 403
    client.submit("/logout")
    login(make_staff(Role.ADMIN, email="admin2@example.com"))
    assert client.post("/admin/whatsapp", data=FORM | {"queue_id": str(queue.id)}).status_code == 400
    assert db.session.scalar(select(WhatsAppAccount)) is None


def test_settings_page_query_budget(app, client, login):
    login(make_staff(Role.ADMIN))
    for slug in ("a", "b", "c"):
        client.submit(
            "/admin/whatsapp",
            FORM
            | {
                "queue_id": str(make_queue(slug=slug).id),
                "phone_number_id": str(len(slug) * 100 + ord(slug)),
            },
        )
    assert db.session.scalar(select(db.func.count()).select_from(WhatsAppAccount)) == 3
    with count_queries() as statements:
        assert client.get("/admin/whatsapp").status_code == 200
    assert len(statements) <= 8, statements


def test_cli_connects_a_queue_and_refuses_unknown_queues(app):
    make_queue(slug="sales")
    runner = app.test_cli_runner()
    args = ["whatsapp", "connect", "--phone-number-id", "106540352242922", "--token-env", "WA_TOKEN"]
    args += ["--app-secret-env", "WA_APP_SECRET", "--verify-token-env", "WA_VERIFY"]
    result = runner.invoke(args=[*args, "--queue", "sales", "--graph-url", "http://127.0.0.1:9/v21.0"])
    assert result.exit_code == 0, result.output
    assert "connected" in result.output and "not set in this environment" in result.output
    assert db.session.scalar(select(WhatsAppAccount.graph_url)) == "http://127.0.0.1:9/v21.0"
    missing = runner.invoke(args=[*args, "--queue", "nope"])
    assert missing.exit_code != 0 and "No queue with the short name 'nope'" in missing.output
    bad = runner.invoke(args=[*args, "--queue", "sales", "--token-env", "1BAD"])
    assert bad.exit_code != 0 and "1BAD" in bad.output and "Traceback" not in bad.output
