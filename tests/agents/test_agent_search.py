"""The "tickets" index, /agent/search with its number jumps, similar solved tickets, and the
reply box's article search through the articles index."""

from decimal import Decimal

from sqlalchemy import func, select

from helpdesk import search
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.search.backend import uses_postgres
from helpdesk.search.models import IndexJob
from helpdesk.tickets import service
from helpdesk.tickets.models import MessageKind, Status
from helpdesk.tickets.search_index import similar_solved_tickets
from tests.factories import count_queries, make_customer, make_staff, make_ticket


def jobs_for_tickets() -> int:
    return db.session.scalar(
        select(func.count()).select_from(IndexJob).where(IndexJob.index_name == "tickets")
    )


def reindexing_follows() -> bool:
    """Whoosh: an index job waits for the worker. PostgreSQL: the document was written at commit
    (what the searches below then find)."""
    return uses_postgres() or jobs_for_tickets() >= 1


def found(text: str) -> list[str]:
    return [hit.fields["number"] for hit in search.query("tickets", text)]


def make_order(customer, number="SO-5521") -> Order:
    order = Order(customer=customer, external_id=number, number=number, status="shipped", total=Decimal("99"))
    db.session.add(order)
    db.session.commit()
    return order


def test_tickets_are_indexed_by_subject_messages_customer_and_order(app):
    customer = make_customer(email="noura@shop.test", name="Noura Alharbi")
    ticket = make_ticket(
        customer=customer, subject="Broken kettle", body="The lid cracked.", order=make_order(customer)
    )
    assert reindexing_follows()
    service.add_message(
        ticket, author=make_staff(), body="courier reference ZX-77 checked", kind=MessageKind.NOTE
    )
    search.apply_pending_jobs()
    assert jobs_for_tickets() == 0
    for text in ("kettles", "cracked lid", "Noura", "noura@shop.test", "SO-5521", "ZX-77"):
        assert found(text) == [ticket.number], text
    hit = search.query("tickets", "kettle").hits[0]
    assert hit.fields["customer"] == "Noura Alharbi" and hit.fields["status"] == "new"


def test_the_index_keeps_no_copy_of_the_conversation_and_snippets_come_from_the_database(app):
    ticket = make_ticket(subject="Blender noise", body="It rattles loudly.")
    service.add_message(
        ticket, author=make_staff(), body="Asked for a video of the rattle.", kind=MessageKind.NOTE
    )
    search.apply_pending_jobs()
    hit = search.query("tickets", "video").hits[0]
    assert "body" not in hit.fields and set(hit.fields) >= {"id", "number", "subject", "status"}
    assert "<mark>video</mark>" in hit.snippet and hit.snippet.startswith("Blender noise")


def test_status_changes_messages_and_merges_queue_reindexing(app):
    agent = make_staff()
    source = make_ticket(subject="Refund please")
    target = make_ticket(subject="Refund for order")
    search.apply_pending_jobs()
    service.change_status(source, Status.PENDING, actor=agent)
    assert reindexing_follows()
    search.apply_pending_jobs()
    assert search.query("tickets", "refund please").hits[0].fields["status"] == "pending"
    service.add_message(target, author=agent, body="voucher issued")
    assert reindexing_follows()
    service.merge(source, target, actor=agent)
    search.apply_pending_jobs()
    by_number = {h.fields["number"]: h.fields for h in search.query("tickets", "refund")}
    assert by_number[source.number]["merged"] == "yes" and by_number[source.number]["status"] == "closed"
    assert found("voucher") == [target.number]


def test_reindex_command_covers_tickets(app):
    make_ticket(subject="Damaged box")
    db.session.execute(IndexJob.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reindex", "tickets"])
    assert result.exit_code == 0 and "tickets: 1 documents indexed" in result.output
    assert found("damaged") != []


def test_ticket_number_in_any_case_or_without_prefix_jumps_to_the_ticket(client, login):
    ticket = make_ticket()
    login(make_staff())
    digits = ticket.number.removeprefix("HD-")
    for typed in (ticket.number, ticket.number.lower(), f" hd{digits} ", digits, f"#{digits}"):
        response = client.get("/agent/search", query_string={"q": typed})
        assert response.status_code == 302, typed
        assert response.headers["Location"].endswith(f"/agent/tickets/{ticket.number}")
    arabic_digits = "".join(chr(0x0660 + int(d)) for d in digits)
    assert client.get("/agent/search", query_string={"q": arabic_digits}).status_code == 302
    assert client.get("/agent/search", query_string={"q": "HD-999999"}).status_code == 200


def test_an_order_number_jumps_to_its_one_active_ticket_not_a_newer_solved_one(client, login):
    customer = make_customer()
    order = make_order(customer, "SO-7788")
    active = make_ticket(customer=customer, order=order, subject="still waiting")
    make_ticket(customer=customer, order=order, subject="old question", status=Status.SOLVED)
    make_ticket(customer=customer, order=order, subject="older question", status=Status.CLOSED)
    login(make_staff())
    for typed in ("SO-7788", "so-7788"):
        response = client.get("/agent/search", query_string={"q": typed})
        assert response.status_code == 302, typed
        assert response.headers["Location"].endswith(f"/agent/tickets/{active.number}")


def test_an_order_number_with_several_active_tickets_lists_them_active_first(client, login):
    customer = make_customer()
    order = make_order(customer, "SO-7789")
    solved = make_ticket(customer=customer, order=order, subject="Invoice", status=Status.SOLVED)
    first = make_ticket(customer=customer, order=order, subject="Where is it")
    second = make_ticket(customer=customer, order=order, subject="Wrong colour")
    service.change_status(first, Status.PENDING, actor=None)
    login(make_staff())
    response = client.get("/agent/search", query_string={"q": "SO-7789"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    listed = page[page.index("order-tickets") :]
    positions = [listed.index(f"/agent/tickets/{t.number}") for t in (first, second, solved)]
    assert max(positions[:2]) < positions[2]  # the solved one comes after both active ones
    assert "التذاكر الخاصة بالطلب" in page


def test_an_order_number_whose_tickets_are_all_solved_lists_them_instead_of_jumping(client, login):
    customer = make_customer()
    order = make_order(customer, "SO-7790")
    older = make_ticket(customer=customer, order=order, subject="First", status=Status.CLOSED)
    newer = make_ticket(customer=customer, order=order, subject="Second", status=Status.SOLVED)
    login(make_staff())
    response = client.get("/agent/search", query_string={"q": "SO-7790"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.index(f"/agent/tickets/{newer.number}") < page.index(f"/agent/tickets/{older.number}")
    assert "لا توجد تذكرة تطابق هذا البحث." not in page


def test_search_finds_english_and_arabic_with_highlighted_snippets(client, login):
    english = make_ticket(subject="Payment failed", body="My card was declined twice at checkout.")
    arabic = make_ticket(subject="مشكلة في الدفع", body="تم رفض البطاقةِ مرتين عند الدفع")
    make_ticket(subject="Unrelated", body="Change my address please.")
    search.apply_pending_jobs()
    login(make_staff())
    page = client.get("/agent/search", query_string={"q": "declined cards"}).get_data(as_text=True)
    assert english.number in page and arabic.number not in page
    assert "<mark>declined</mark>" in page and "<mark>card</mark>" in page
    # Diacritics, hamza and ta marbuta forms typed differently from the stored text still match.
    page = client.get("/agent/search", query_string={"q": "بطاقة رُفضت"}).get_data(as_text=True)
    assert arabic.number in page and english.number not in page and "<mark>" in page
    page = client.get("/agent/search", query_string={"q": "nothing like this"}).get_data(as_text=True)
    assert "لا توجد تذكرة تطابق هذا البحث." in page  # the default language is Arabic


def test_the_htmx_fragment_lists_results_and_offers_a_number_as_a_link(client, login):
    ticket = make_ticket(subject="Wrong size shoes")
    search.apply_pending_jobs()
    login(make_staff())
    fragment = client.get("/agent/search?q=shoe", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and ticket.number in fragment
    assert "<mark>shoes</mark>" in fragment  # a subject-only match is highlighted too
    response = client.get(f"/agent/search?q={ticket.number}", headers={"HX-Request": "true"})
    assert response.status_code == 200 and f"/agent/tickets/{ticket.number}" in response.get_data(
        as_text=True
    )


def test_search_is_for_staff_only(client, login):
    customer = make_customer()
    login(customer)
    assert client.get("/agent/search?q=x").status_code in (302, 403)


def test_search_costs_a_fixed_number_of_queries(client, login):
    login(make_staff())
    make_ticket(subject="Parcel lost 0")
    search.apply_pending_jobs()
    with count_queries() as few:
        client.get("/agent/search?q=parcel")
    for i in range(1, 15):
        make_ticket(subject=f"Parcel lost {i}", customer=make_customer())
    search.apply_pending_jobs()
    with count_queries() as many:
        page = client.get("/agent/search?q=parcel").get_data(as_text=True)
    assert page.count("ticket-hits") == 1 and page.count("<li>") >= 15
    assert len(many) == len(few) <= 6


def test_similar_solved_tickets_put_the_closest_first(client, login):
    agent = make_staff()
    right = make_ticket(
        subject="Kettle arrived with a cracked lid",
        body="The kettle lid is cracked and water leaks from the kettle.",
        status=Status.SOLVED,
    )
    make_ticket(subject="Kettle colour", body="Can I get the kettle in red?", status=Status.CLOSED)
    make_ticket(subject="Cracked phone screen", body="The screen is cracked.", status=Status.SOLVED)
    still_open = make_ticket(subject="Kettle lid cracked", body="lid cracked kettle leaks")
    merged_away = make_ticket(subject="Cracked kettle lid leaks", body="kettle lid cracked leaks")
    keeper = make_ticket(subject="Other")
    service.merge(merged_away, keeper, actor=agent)
    ticket = make_ticket(subject="Cracked lid on my new kettle", body="My kettle leaks, the lid is cracked.")
    search.apply_pending_jobs()
    similar = similar_solved_tickets(ticket)
    numbers = [s.number for s in similar]
    assert numbers[0] == right.number
    assert still_open.number not in numbers and merged_away.number not in numbers
    assert ticket.number not in numbers and len(numbers) <= 5
    login(agent)
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "تذاكر محلولة مشابهة" in page  # the panel, filled in after the page has loaded
    assert f'hx-get="/agent/tickets/{ticket.number}/similar"' in page
    assert f"/agent/tickets/{right.number}" not in page
    panel = client.get(f"/agent/tickets/{ticket.number}/similar", headers={"HX-Request": "true"})
    fragment = panel.get_data(as_text=True)
    assert f"/agent/tickets/{right.number}" in fragment and "<html" not in fragment
    without_js = client.get(f"/agent/tickets/{ticket.number}/similar").get_data(as_text=True)
    assert "<html" in without_js and f"/agent/tickets/{right.number}" in without_js


def test_a_ticket_not_yet_indexed_is_compared_by_its_subject(app):
    right = make_ticket(subject="Invoice missing VAT number", status=Status.SOLVED)
    search.apply_pending_jobs()
    ticket = make_ticket(subject="VAT number missing from invoice")
    assert [s.number for s in similar_solved_tickets(ticket)] == [right.number]


def test_article_search_uses_the_index_with_stemming_and_drafts_left_out(client, login):
    for slug, title, locale, status in (
        ("track", "Tracking your parcel", "en", ArticleStatus.PUBLISHED),
        ("draft", "Tracking draft", "en", ArticleStatus.DRAFT),
        ("tatabbu", "تتبع الطرود", "ar", ArticleStatus.PUBLISHED),
    ):
        db.session.add(Article(slug=slug, locale=locale, title=title, body_md="", status=status))
    db.session.commit()
    search.apply_pending_jobs()
    login(make_staff())
    fragment = client.get("/agent/articles?q=tracked&lang=en", headers={"HX-Request": "true"})
    fragment = fragment.get_data(as_text=True)
    assert "Tracking your parcel" in fragment and "Tracking draft" not in fragment
    assert "تتبع الطرود" in client.get("/agent/articles?q=الطرد").get_data(as_text=True)


def test_article_search_in_the_customers_language_finds_it_by_the_other_versions_words(client, login):
    """An agent types English for an Arabic-speaking customer: the Arabic version of the article
    the English words match is found, and no English article is offered."""
    english = Article(
        slug="track", locale="en", title="Tracking your parcel", body_md="", status=ArticleStatus.PUBLISHED
    )
    db.session.add(english)
    db.session.flush()
    db.session.add_all(
        [
            Article(
                slug="tatabbu",
                locale="ar",
                title="متابعة الطرود",
                translation_of_id=english.id,
                body_md="",
                status=ArticleStatus.PUBLISHED,
            ),
            Article(slug="gift", locale="en", title="Gift cards", body_md="", status=ArticleStatus.PUBLISHED),
        ]
    )
    db.session.commit()
    search.apply_pending_jobs()
    login(make_staff())
    arabic = client.get("/agent/articles?q=tracking&lang=ar", headers={"HX-Request": "true"})
    assert "متابعة الطرود" in arabic.get_data(as_text=True)
    assert "Tracking your parcel" not in arabic.get_data(as_text=True)
    english_page = client.get("/agent/articles?q=tracking&lang=en").get_data(as_text=True)  # without JS
    assert "Tracking your parcel" in english_page and "متابعة الطرود" not in english_page
    assert '<option value="en" lang="en" selected>' in english_page
    assert '<html lang="ar" dir="rtl">' in english_page  # the page stays in the agent's language
    # Without a language, the agent's own (Arabic here).
    assert "متابعة الطرود" in client.get("/agent/articles?q=tracking").get_data(as_text=True)
    unknown = client.get("/agent/articles?q=tracking&lang=fr")
    assert unknown.status_code == 400 and "لا توجد مقالات بهذه اللغة" in unknown.get_data(as_text=True)


def test_the_ticket_pages_article_search_is_in_the_language_the_customer_wrote(client, login):
    """The language of the customer's latest message, not of their profile (an Arabic speaker may
    write in English); a message of a few words is read with the subject."""
    login(make_staff())
    for profile, subject, body, written in (
        ("ar", "Card declined", "I tried to pay three times and the bank declined it.", "en"),
        ("en", "الدفع ما مشى", "حاولت ادفع بالبطاقة وطلع لي ان العملية مرفوضة", "ar"),
        ("ar", "Refund", "ok?", "en"),
    ):
        ticket = make_ticket(customer=make_customer(language=profile), subject=subject, body=body)
        page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
        assert f'<option value="{written}" lang="{written}" selected>' in page, (subject, written)
        assert "change from:#article-lang" in page


def test_search_page_and_similar_panel_render_in_english(client, login):
    ticket = make_ticket(subject="Late delivery")
    search.apply_pending_jobs()
    login(make_staff())
    client.submit("/language", {"language": "en"})
    page = client.get("/agent/search?q=nothing+here").get_data(as_text=True)
    assert 'dir="ltr"' in page and "Search tickets" in page and "No ticket matches that search." in page
    page = client.get(f"/agent/tickets/{ticket.number}/similar").get_data(as_text=True)
    assert "Similar solved tickets" in page and "None found." in page and "Back to the ticket" in page
    assert "Search tickets" in client.get("/agent").get_data(as_text=True)


def test_similar_solved_tickets_follow_the_index_when_it_changes(app):
    ticket = make_ticket(subject="Blender jug cracked", body="The blender jug has a crack.")
    search.apply_pending_jobs()
    assert similar_solved_tickets(ticket) == []
    assert similar_solved_tickets(ticket) == []  # the same answer, from memory this time
    solved = make_ticket(subject="Cracked blender jug", body="blender jug crack", status=Status.SOLVED)
    search.apply_pending_jobs()
    assert [s.number for s in similar_solved_tickets(ticket)] == [solved.number]
    service.change_status(solved, Status.OPEN, actor=None)
    search.apply_pending_jobs()
    assert similar_solved_tickets(ticket) == []


def test_similar_tickets_ignore_words_found_in_much_of_the_index(app, monkeypatch):
    """A word in most tickets says little about likeness and costs a scan of all of them (the
    words path, used where there are no vectors: by meaning, all three are about a parcel)."""
    from helpdesk.tickets import search_index

    app.config["SEARCH_EMBEDDINGS"] = False
    monkeypatch.setattr(search_index, "SIMILAR_ALWAYS_KEPT", 2)  # tiny index: cap at 2 documents
    make_ticket(subject="Parcel delayed by the courier", status=Status.SOLVED)
    make_ticket(subject="Parcel refund", status=Status.SOLVED)
    kettle = make_ticket(subject="Kettle cracked", status=Status.SOLVED)
    ticket = make_ticket(subject="Parcel with a cracked kettle")
    search.apply_pending_jobs()
    assert [s.number for s in similar_solved_tickets(ticket)] == [kettle.number]
    monkeypatch.setattr(search_index, "SIMILAR_ALWAYS_KEPT", 50)
    search_index._similar_cache.clear()
    assert len(similar_solved_tickets(ticket)) == 3  # every word counts in a small helpdesk


def test_a_paraphrased_ticket_finds_its_solved_twin_by_meaning(app):
    """No distinctive word in common: only the meaning says these two are the same problem."""
    twin = make_ticket(
        subject="Refund not received",
        body="I sent the jacket back two weeks ago and the money is still not on my card.",
        status=Status.SOLVED,
    )
    for subject, body, status in (
        ("Change my password", "I forgot my password and cannot log in.", Status.SOLVED),
        ("Blender colour", "Do you have this blender in red?", Status.SOLVED),
        ("Invoice for my company", "Please add our VAT number to the bill.", Status.CLOSED),
    ):
        make_ticket(subject=subject, body=body, status=status)
    ticket = make_ticket(
        subject="Where is my reimbursement?",
        body="Returned a coat last month, still waiting to be paid back.",
    )
    search.apply_pending_jobs()
    assert [s.number for s in similar_solved_tickets(ticket)][:1] == [twin.number]


def test_a_ticket_in_dialect_finds_its_solved_twin_written_in_msa(app):
    twin = make_ticket(
        subject="لم يصل المبلغ المسترد",
        body="أعدت المنتج قبل أسبوعين ولم يصل المبلغ إلى بطاقتي",
        status=Status.SOLVED,
    )
    make_ticket(subject="نسيت كلمة المرور", body="لا أستطيع تسجيل الدخول إلى حسابي", status=Status.SOLVED)
    make_ticket(subject="الطلب تأخر", body="طلبت قبل عشرة أيام ولم يصل الطلب حتى الآن", status=Status.SOLVED)
    make_ticket(subject="فاتورة ضريبية", body="أحتاج فاتورة فيها الرقم الضريبي لشركتي", status=Status.CLOSED)
    ticket = make_ticket(subject="فلوسي ما رجعت", body="رجعت الجاكيت من اسبوعين وللحين ما وصلني شي")
    search.apply_pending_jobs()
    assert [s.number for s in similar_solved_tickets(ticket)][:1] == [twin.number]
