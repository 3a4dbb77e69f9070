"""What the agent sees of a message: new text only, and never less than what is new."""

from helpdesk.mail.reply_text import strip_quoted_reply, visible_text

OLD = "> Your order has shipped.\n> Tracking: TRK-1\n"


def test_top_posted_reply_hides_the_quote_and_its_attribution():
    text = f"Thanks!\n\nOn Sun, Nov 22, 2026 at 10:15 AM Support <s@helpdesk.example> wrote:\n{OLD}"
    assert strip_quoted_reply(text) == "Thanks!"


def test_reply_whose_new_text_follows_the_quote_keeps_it():
    text = f"On 22/11/2026 10:15, Support wrote:\n{OLD}\nIt has not arrived yet."
    assert strip_quoted_reply(text) == "It has not arrived yet."


def test_interleaved_reply_keeps_every_answer_and_hides_the_quotes():
    text = "> What is the order number?\n\n5512\n\n> And the address?\n\nJeddah, Al Rawdah"
    assert strip_quoted_reply(text) == "5512\n\nJeddah, Al Rawdah"


def test_forward_keeps_the_forwarded_message_visible():
    text = (
        "See below\n\n---------- Forwarded message ---------\nFrom: Shop <shop@x.example>\n\nTotal due: 450"
    )
    assert "Total due: 450" in visible_text(text, subject="Fwd: invoice")
    assert "Total due: 450" in visible_text(text, subject="invoice")  # the marker alone says so


def test_arabic_forward_keeps_the_forwarded_message_visible():
    text = "انظروا أدناه\n\n---------- رسالة محولة ---------\nمن: المتجر <shop@x.example>\n\nالمبلغ 450"
    assert "المبلغ 450" in visible_text(text, subject="إعادة توجيه: فاتورة")


def test_stripping_that_would_leave_nothing_shows_the_whole_text():
    text = f"On Sun, Nov 22, 2026 at 10:15 AM Support <s@helpdesk.example> wrote:\n{OLD}"
    assert strip_quoted_reply(text) == text.strip()


def test_stripping_that_would_leave_only_a_greeting_shows_the_whole_text():
    for greeting in ("Hi Dan,", "مرحباً أحمد،", "أهلًا أستاذ خالد،", "أهلاً سارة،"):
        text = f"{greeting}\n\nOn Sun, Nov 22, 2026 at 10:15 AM Support <s@helpdesk.example> wrote:\n{OLD}"
        assert strip_quoted_reply(text) == text.strip()


def test_arabic_attribution_with_direction_marks_and_a_wrapped_address():
    rlm = "\u200f"
    text = (
        f"تم، شكراً\n\n{rlm}في الأحد، 22 نوفمبر 2026 في 10:15 ص، الدعم <\ns@helpdesk.example> كتب:{rlm}\n{OLD}"
    )
    assert strip_quoted_reply(text) == "تم، شكراً"


def test_outlook_blocks_in_arabic_german_french_and_russian():
    blocks = [
        "من: الدعم\nتم الإرسال: الأحد\nإلى: أحمد\nالموضوع: طلبك",
        "-----الرسالة الأصلية-----\nمن: الدعم\nأرسل: الأحد",
        "Von: Support\nGesendet: Sonntag\nAn: Ahmed\nBetreff: Bestellung",
        "De : Support\nEnvoyé : dimanche\nÀ : Ahmed\nObjet : Commande",
        "От: Поддержка\nОтправлено: воскресенье\nКому: Ахмед\nТема: Заказ",
    ]
    for block in blocks:
        assert strip_quoted_reply(f"New text here\n\n{block}\n\nOld text") == "New text here"


def test_mobile_signatures_are_hidden():
    for signature in ("Sent from my iPhone", "أرسلت من الـ iPhone", "Get Outlook for Android"):
        assert strip_quoted_reply(f"Okay, thanks\n\n{signature}") == "Okay, thanks"


def test_a_route_written_like_headers_is_the_customers_text():
    for route in ("From: Jeddah\nTo: Riyadh", "من: جدة\nإلى: الرياض"):
        text = f"Please change the delivery.\n{route}\nThe parcel is 3 kg."
        assert strip_quoted_reply(text) == text


def test_mailing_list_footer_under_a_rule_is_hidden():
    footer = "\n\n______________\nriak-users mailing list\nriak-users@lists.example\n"
    assert strip_quoted_reply("Oh thanks." + footer) == "Oh thanks."
    assert strip_quoted_reply(f"On Sun, Nov 22, 2026, Support wrote:\n{OLD}\nIt came." + footer) == "It came."


def test_rule_with_more_text_below_is_the_customers_text():
    text = "Order list:\n______________\n" + "\n".join(f"item {n}" for n in range(6))
    assert strip_quoted_reply(text) == text


def test_gmail_arabic_attributions_as_gmail_writes_them():
    web = "في الأحد، 22 نوفمبر 2026 في 10:15 ص تمت كتابة ما يلي بواسطة الدعم <s@helpdesk.example>:"
    android = "بتاريخ ٢٢ نوفمبر ٢٠٢٦ ١٠:١٥ ص، جاء من الدعم\n<s@helpdesk.example>:"
    for attribution in (web, f"\u202b{web}\u202c", android):
        assert strip_quoted_reply(f"وصل الطلب، شكراً.\n\n{attribution}\n\n{OLD}") == "وصل الطلب، شكراً."


def test_persian_phone_signature_is_hidden():
    assert strip_quoted_reply("سفارش رسید.\n\nارسال شده از iPhone من") == "سفارش رسید."


def test_came_from_in_the_customers_own_words_is_not_an_attribution():
    text = "الطلب 5512 جاء من المستودع الخطأ، والقطع كالتالي:\nقطعة 1\nقطعة 2"
    assert strip_quoted_reply(text) == text


def test_customers_own_line_about_what_someone_wrote_is_not_an_attribution():
    text = "الشحنة متأخرة.\nكتب لي المندوب يوم 5 ما يلي:\nستصل غداً\nلكنها لم تصل."
    assert strip_quoted_reply(text) == text
