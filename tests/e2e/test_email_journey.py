"""A customer who writes by email: acknowledged, answered by an agent with the keyboard and a macro,
the answer threaded in the customer's mailbox, then read in the portal after signing in by link."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, text_of, use_language, wait_for_mail


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_email_case_from_first_mail_to_threaded_answer(new_page, live_server, locale):
    sender = f"huda.{locale}@example.net"
    original_id = make_msgid(domain="example.net")
    mail = EmailMessage()
    mail["From"] = f"Huda <{sender}>"
    mail["To"] = "support@helpdesk.localhost"
    mail["Subject"] = "الطقم وصل ناقص" if locale == "ar" else "Set arrived incomplete"
    mail["Message-ID"] = original_id
    mail.set_content(
        "The order SO-5555 came without the lid." if locale == "en" else "الطلب SO-5555 وصل بدون غطاء."
    )
    with smtplib.SMTP("127.0.0.1", live_server.listener_port, timeout=10) as smtp:
        smtp.send_message(mail)

    def to_sender(message) -> bool:
        return sender in str(message["To"]).lower()

    ack = wait_for_mail(live_server.sink, to_sender)
    number = re.search(r"HD-\d+", str(ack["Subject"])).group()
    case_link = re.search(r"https?://\S+/portal/cases/HD-\d+", text_of(ack)).group()

    agent = new_page(locale)
    sign_in(agent, "agent4@demo.test" if locale == "ar" else "agent5@demo.test", staff=True)
    use_language(agent, locale)
    # From the unassigned view, narrowed to this customer, with the keyboard only: j, Enter, a, r.
    agent.goto(f"/agent?view=unassigned&customer={sender}")
    agent.wait_for_load_state("load")  # the shortcuts are bound once the page's scripts ran
    agent.keyboard.press("j")
    agent.keyboard.press("Enter")
    agent.wait_for_url(f"**/agent/tickets/{number}")
    agent.wait_for_load_state("load")
    # Claiming and sending a macro are full-page posts: wait for the page they lead to.
    with agent.expect_navigation():
        agent.keyboard.press("a")  # claim
    expect(agent.locator("#claim-form")).to_have_count(0)
    expect(agent.locator("#macro-select option").nth(1)).to_be_attached()  # the demo's macros
    agent.select_option("#macro-select", index=1)
    with agent.expect_navigation():
        agent.click("form.macro-form button[type=submit]")
    agent.keyboard.press("r")
    agent.keyboard.type("We are sending the lid today.")
    agent.click("#reply-form button[type=submit]")
    expect(agent.locator("main")).to_contain_text("We are sending the lid today.")

    def threaded_answer(message) -> bool:
        # In-Reply-To names the latest message of the thread; References reach back to the first.
        return (
            to_sender(message)
            and original_id in str(message["References"] or "")
            and f"[{number}]" in str(message["Subject"])
            and "sending the lid" in text_of(message)
        )

    answer = wait_for_mail(live_server.sink, threaded_answer)
    assert answer["In-Reply-To"] and answer["In-Reply-To"] in str(answer["References"])
    assert number.lower() in str(answer["Reply-To"]).lower()

    customer = new_page(locale)
    customer.goto(case_link)  # not signed in yet: the sign-in page, which offers a link by email
    customer.click("a[href*='/login/link']")
    customer.fill("input[name=email]", sender)
    customer.click("form:has(input[name=email]) button[type=submit]")

    def sign_in_link(message) -> bool:
        return to_sender(message) and "/login/link/" in text_of(message)

    link = re.search(
        r"https?://\S+/login/link/\S+", text_of(wait_for_mail(live_server.sink, sign_in_link))
    ).group()
    customer.goto(link)
    customer.click("main form button[type=submit]")
    customer.wait_for_load_state()
    customer.goto(case_link)
    expect(customer.locator("main")).to_contain_text("We are sending the lid today.")
