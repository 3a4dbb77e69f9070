"""The pages say where to follow live updates: the stream (and the CSP allows it) or, without one,
the polling URL; the queue rows and the thread are marked for in-place updates."""

from __future__ import annotations

import re

from tests.factories import make_customer, make_staff, make_ticket


def _meta_stream(html: str) -> str:
    return re.search(r'<meta name="live-stream" content="([^"]*)"', html).group(1)


def test_queue_page_follows_the_embedded_stream_and_the_csp_allows_it(app, client, login):
    app.config["LIVE_PORT"] = 5999
    ticket = make_ticket()
    login(make_staff())
    response = client.get("/agent?view=open")
    html = response.get_data(as_text=True)
    assert _meta_stream(html) == "http://localhost:5999/live/stream"
    assert "connect-src 'self' http://localhost:5999;" in response.headers["Content-Security-Policy"]
    assert 'id="live" data-page="queue" data-poll="/live/agent/poll"' in html
    assert f'id="row-{ticket.id}"' in html
    assert 'id="live-notice"' in html


def test_behind_a_proxy_the_stream_is_a_path_on_this_origin(app, client, login):
    app.config.update(LIVE_URL="/live/stream", LIVE_PORT=5999)
    login(make_staff())
    response = client.get("/agent")
    assert _meta_stream(response.get_data(as_text=True)) == "/live/stream"
    assert "connect-src 'self';" in response.headers["Content-Security-Policy"]


def test_without_a_stream_server_the_pages_poll(app, client, login):
    customer = make_customer()
    ticket = make_ticket(customer=customer)
    login(customer)
    html = client.get(f"/portal/cases/{ticket.number}").get_data(as_text=True)
    assert _meta_stream(html) == ""
    assert f'data-poll="/live/cases/{ticket.number}/poll"' in html
    assert 'id="case-thread" data-live-part' in html


def test_ticket_page_marks_the_parts_that_update_and_the_warning(app, client, login):
    ticket = make_ticket()
    login(make_staff())
    html = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    for part in (
        'id="thread-messages" data-live-part',
        'id="ticket-facts" data-live-part',
        'id="customer-wrote"',
    ):
        assert part in html
    assert "live-presence from:body" in html
