"""The suggested answers panel: the articles and macros closest to the customer's latest message,
loaded after the ticket page, one click from the reply box."""

import re

from helpdesk import search
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Macro
from tests.factories import (
    count_queries,
    make_article,
    make_customer,
    make_staff,
    make_ticket,
    other_statements,
    search_statements,
)

ARTICLES = [
    (
        "refund-times-ar",
        "ar",
        "مدة استرداد المبلغ",
        "يصل المبلغ المسترد إلى بطاقتك خلال ٥ إلى ١٤ يوم عمل بعد استلام المرتجع.",
    ),
    ("track-ar", "ar", "كيف تتبع طلبك", "تجد رقم التتبع في رسالة الشحن وفي صفحة طلباتي."),
    ("password-ar", "ar", "إعادة تعيين كلمة المرور", "اختر نسيت كلمة المرور في صفحة الدخول."),
    ("payment-ar", "ar", "طرق الدفع", "نقبل مدى وفيزا وماستركارد وأبل باي."),
    (
        "refund-times",
        "en",
        "How long refunds take",
        "Refunds reach your card 5 to 14 working days after we receive the return.",
    ),
]
MACROS = [
    (
        "مدة الاسترداد",
        "مرحباً {{ customer_first_name }}، يصل المبلغ المسترد إلى بطاقتك خلال ٥ إلى ١٤ يوم عمل.",
    ),
    ("إعادة تعيين كلمة المرور", "اختر نسيت كلمة المرور وسيصلك رابط على بريدك."),
    ("تأخر الشحنة", "نعتذر عن التأخير، الشحنة مع شركة الشحن وتصل قريباً."),
    ("طلب فاتورة ضريبية", "أرفقنا الفاتورة الضريبية لطلبك."),
    ("شكر وإغلاق", "شكراً لتواصلك معنا، نغلق التذكرة الآن."),
]


def shop_with_answers() -> None:
    for slug, locale, title, body in ARTICLES:
        make_article(slug, title, body, locale=locale)
    for name, body in MACROS:
        db.session.add(Macro(name=name, locale="ar", body=body, add_tags=[]))
    db.session.add(
        Macro(name="استرداد (قديم)", locale="ar", body="المبلغ المسترد يصل", is_active=False, add_tags=[])
    )
    db.session.commit()


def test_the_panel_suggests_for_the_latest_customer_message_and_inserts_a_filled_macro(client, login):
    shop_with_answers()
    customer = make_customer(name="Huda Saleh")
    ticket = make_ticket(customer=customer, subject="استفسار", body="طلبي ما وصل لين الحين وين الاقيه؟")
    service.add_message(ticket, author=customer, body="خلاص وصل ورجعته، متى ترجع فلوسي لبطاقتي؟")
    db.session.commit()
    search.apply_pending_jobs()
    login(make_staff())

    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert f'hx-get="/agent/tickets/{ticket.number}/suggested"' in page and "إجابات مقترحة" in page

    with count_queries() as queries:
        panel = client.get(f"/agent/tickets/{ticket.number}/suggested", headers={"HX-Request": "true"})
    fragment = panel.get_data(as_text=True)
    assert panel.status_code == 200 and "<html" not in fragment
    # session user, ticket (+ emails, tags), latest message, articles, macros
    assert len(other_statements(queries)) <= 7
    # On PostgreSQL, up to three searches: the terms' counts, "did you mean", the search, the
    # documents found by meaning alone; and each index's vectors, loaded once per process.
    assert len(search_statements(queries)) <= 3 * 4 + 2
    # The latest message (the refund), not the first one (tracking), in the customer's language.
    articles = re.findall(r'data-insert-title="([^"]+)"', fragment)
    assert articles[0] == "مدة استرداد المبلغ" and len(articles) <= 3
    assert "How long refunds take" not in fragment
    refund = db.session.scalar(db.select(Macro).where(Macro.name == "مدة الاسترداد"))
    insert_url = f"/agent/tickets/{ticket.number}/macros/{refund.id}/text"
    macros = re.findall(r'data-insert-macro="([^"]+)"', fragment)
    assert macros[0] == insert_url and len(macros) <= 3
    assert "(قديم)" not in fragment  # an inactive macro is never suggested
    text = client.get(insert_url).get_data(as_text=True)
    assert text.startswith("مرحباً Huda،") and "{{" not in text

    without_js = client.get(f"/agent/tickets/{ticket.number}/suggested").get_data(as_text=True)
    assert "<html" in without_js and "مدة استرداد المبلغ" in without_js
    # No reply box on that page: its insert buttons stay hidden; the link and the text are shown.
    assert re.search(r'<button [^>]*data-insert-macro="[^"]+" hidden>', without_js)
    assert '<code dir="ltr" data-fallback>http' in without_js and "<details data-fallback>" in without_js


def test_the_panel_speaks_the_agents_language_and_says_when_it_has_nothing(client, login):
    ticket = make_ticket(subject="Hello", body="🙂🙂")
    search.apply_pending_jobs()
    login(make_staff())
    client.submit("/language", {"language": "en"})
    page = client.get(f"/agent/tickets/{ticket.number}/suggested").get_data(as_text=True)
    assert "Suggested answers" in page and "No suggestion for the customer's latest message." in page
