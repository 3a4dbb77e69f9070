"""Real-world Arabic mail on the agent's ticket page: a forward keeps the forwarded message in view,
an Outlook reply shows only the new text, and the whole original is one click away."""

from __future__ import annotations

import re
import smtplib
from email import message_from_bytes
from email import policy as email_policy
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, use_language, wait_for_mail
from tests.mail.own_mail import OLD, OWN_MAIL


def send_as(live_server, name: str, sender: str) -> str:
    """Send one of our client-styled messages from ``sender``; the ticket number from the acknowledgement."""
    mail = message_from_bytes(OWN_MAIL[name][0], policy=email_policy.default)
    del mail["From"], mail["Message-ID"]
    mail["From"] = f"أحمد علي <{sender}>"
    mail["Message-ID"] = make_msgid(domain="example.sa")
    with smtplib.SMTP("127.0.0.1", live_server.listener_port, timeout=10) as smtp:
        smtp.send_message(mail)
    ack = wait_for_mail(live_server.sink, lambda message: sender in str(message["To"]).lower())
    return re.search(r"HD-\d+", str(ack["Subject"])).group()


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_an_arabic_forward_and_an_outlook_arabic_reply_read_as_written(new_page, live_server, locale):
    forward = send_as(live_server, "own/ar-forward-keeps-content.eml", f"fwd.{locale}@example.sa")
    reply = send_as(live_server, "own/ar-outlook-desktop.eml", f"outlook.{locale}@example.sa")
    agent = new_page(locale)
    sign_in(agent, "agent2@demo.test", staff=True)
    use_language(agent, locale)

    agent.goto(f"/agent/tickets/{forward}")
    first = agent.locator("article.message").first
    shown = first.locator(":scope > .message-body")
    expect(shown).to_contain_text("انظروا الفاتورة أدناه")  # the customer's line
    expect(shown).to_contain_text("المبلغ المستحق 450 ريال.")  # and what they forwarded

    agent.goto(f"/agent/tickets/{reply}")
    first = agent.locator("article.message").first
    shown = first.locator(":scope > .message-body")
    expect(shown).to_contain_text("هل يمكن إرسال الفاتورة أيضاً؟")
    expect(shown).not_to_contain_text(OLD)  # our earlier answer, quoted by Outlook, is folded away
    expect(shown).not_to_contain_text("تم الإرسال:")
    whole = first.locator("details.message-full")
    expect(whole.locator(".message-body")).not_to_be_visible()
    whole.locator("summary").click()
    expect(whole.locator(".message-body")).to_contain_text(OLD)  # the full original, on demand
