"""Arabic, Persian and mixed Arabic/English mail written the way each client sends it, built here
with the stdlib: Gmail web and mobile, Outlook desktop and web, Apple Mail / iPhone, Yahoo and
Thunderbird, in RTL and LTR layouts, plain and HTML-only. Same expectation keys as
``corpus_expectations.py``; the corpus test measures them as the source ``own``."""

from __future__ import annotations

from email.message import EmailMessage

RLM = "\u200f"
SUPPORT = "فريق الدعم <support@helpdesk.example>"
OLD = "نعتذر عن التأخير، سيصل الطلب خلال يومين."


def build(subject: str, text: str | None = None, html: str | None = None, sender: str = "") -> bytes:
    """A message as a client sends it: plain, HTML-only, or both as multipart/alternative."""
    msg = EmailMessage()
    msg["From"] = sender or "أحمد علي <ahmed@example.sa>"
    msg["To"] = "support@helpdesk.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash((subject, text, html)))}@own.example>"
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    else:
        msg.set_content(html or "", subtype="html")
    return msg.as_bytes()


OWN_MAIL: dict[str, tuple[bytes, dict]] = {
    "own/ar-gmail-web-rtl.eml": (
        build(
            "رد: طلبك رقم 5512",
            f"شكراً، وصلني الطلب اليوم.\n\n{RLM}في الأحد، 22 نوفمبر 2026 في 10:15 ص{RLM}، "
            f"{SUPPORT} كتب:{RLM}\n\n> {OLD}\n",
            f'<div dir="rtl">شكراً، وصلني الطلب اليوم.</div><br><div class="gmail_quote"><div dir="rtl" '
            f'class="gmail_attr">في الأحد، 22 نوفمبر 2026 في 10:15 ص، {SUPPORT} كتب:<br></div>'
            f'<blockquote class="gmail_quote">{OLD}</blockquote></div>',
        ),
        dict(subject="طلبك رقم 5512", exact="شكراً، وصلني الطلب اليوم.", hidden=[OLD, "كتب:"]),
    ),
    "own/ar-gmail-wrapped-no-weekday.eml": (
        build(
            "Re: طلبك رقم 5512",
            "هل يمكن تغيير العنوان؟\n\nفي 22 نوفمبر 2026 في 10:15 ص، فريق الدعم <\n"
            f"support@helpdesk.example> كتب:\n\n> {OLD}\n",
        ),
        dict(
            subject="طلبك رقم 5512", exact="هل يمكن تغيير العنوان؟", hidden=[OLD, "support@helpdesk.example"]
        ),
    ),
    "own/ar-gmail-mobile-indic-digits.eml": (
        build(
            "ر: الفاتورة",
            f"تمام، شكراً لكم\n\nفي الاثنين، ٢٣ نوفمبر ٢٠٢٦ ٩:٠٠ ص {SUPPORT}\nكتب:\n\n> {OLD}\n> \n",
        ),
        dict(subject="الفاتورة", exact="تمام، شكراً لكم", hidden=[OLD, "كتب:"]),
    ),
    "own/ar-outlook-desktop.eml": (
        build(
            "RE: طلبك رقم 5512",
            "هل يمكن إرسال الفاتورة أيضاً؟\n\n________________________________\n"
            f"من: {SUPPORT}\nتم الإرسال: الأحد، 22 نوفمبر 2026 10:15 ص\nإلى: أحمد علي\n"
            f"الموضوع: طلبك رقم 5512\n\n{OLD}\n",
        ),
        dict(subject="طلبك رقم 5512", exact="هل يمكن إرسال الفاتورة أيضاً؟", hidden=[OLD, "تم الإرسال:"]),
    ),
    "own/ar-outlook-original-message.eml": (
        build(
            "رد: رد: طلبك رقم 5512",
            "أرجو الإسراع، شكراً.\n\n-----الرسالة الأصلية-----\n"
            f"من: {SUPPORT}\nأرسل: الأحد 22 نوفمبر 2026 10:15\nإلى: أحمد علي\nالموضوع: طلبك\n\n{OLD}\n",
        ),
        dict(subject="طلبك رقم 5512", exact="أرجو الإسراع، شكراً.", hidden=[OLD, "الرسالة الأصلية"]),
    ),
    "own/ar-outlook-web-html-only.eml": (
        build(
            "RE: طلبك رقم 5512",
            html='<div dir="rtl"><p>وصلت الشحنة ناقصة قطعة.</p></div>'
            '<hr style="display:inline-block;width:98%">'
            f'<div id="divRplyFwdMsg" dir="rtl"><b>من:</b> {SUPPORT}<br><b>تم الإرسال:</b> الأحد 22 نوفمبر'
            f"<br><b>الموضوع:</b> طلبك</div><div>{OLD}</div>",
        ),
        dict(subject="طلبك رقم 5512", exact="وصلت الشحنة ناقصة قطعة.", hidden=[OLD]),
    ),
    "own/ar-outlook-english-ui-ltr.eml": (
        build(
            "RE: Order 5512",
            "Please cancel it / أرجو الإلغاء\n\nFrom: Support <support@helpdesk.example>\n"
            f"Sent: Sunday, November 22, 2026 10:15 AM\nTo: Ahmed Ali\nSubject: Order 5512\n\n{OLD}\n",
        ),
        dict(subject="Order 5512", exact="Please cancel it / أرجو الإلغاء", hidden=[OLD]),
    ),
    "own/ar-iphone.eml": (
        build(
            "Re: الطلب 7781",
            "نعم، العنوان صحيح.\n\nأرسلت من الـ iPhone\n\n"
            f"> في {RLM}22{RLM}/11{RLM}/2026، الساعة {RLM}10:15 ص،"
            f" كتب فريق الدعم <support@helpdesk.example>:\n> \n> {OLD}\n",
        ),
        dict(subject="الطلب 7781", exact="نعم، العنوان صحيح.", hidden=["أرسلت من الـ iPhone", OLD]),
    ),
    "own/ar-apple-mail-html-only.eml": (
        build(
            "Re: الطلب 7781",
            html=f'<div dir="rtl">سأكون في المنزل بعد العصر.</div><div><br><blockquote type="cite"><div>في 22'
            f" نوفمبر 2026، الساعة 10:15 ص، كتب {SUPPORT}:</div><div>{OLD}</div></blockquote></div>",
        ),
        dict(subject="الطلب 7781", exact="سأكون في المنزل بعد العصر.", hidden=[OLD]),
    ),
    "own/ar-thunderbird-bottom-posted.eml": (
        build(
            "Re: الطلب 7781",
            f"في 22/11/2026 10:15 ص، كتب فريق الدعم:\n> {OLD}\n\nلكن اليوم هو اليوم الثالث ولم يصل شيء.\n",
        ),
        dict(subject="الطلب 7781", exact="لكن اليوم هو اليوم الثالث ولم يصل شيء.", hidden=[OLD]),
    ),
    "own/ar-thunderbird-html-only.eml": (
        build(
            "Re: الطلب 7781",
            html=f'<div class="moz-cite-prefix">في 22/11/2026 10:15 ص، كتب فريق الدعم:<br></div><blockquote '
            f'type="cite" cite="mid:1@helpdesk.example">{OLD}</blockquote><p dir="rtl">ما زلت أنتظر.</p>',
        ),
        dict(subject="الطلب 7781", exact="ما زلت أنتظر.", hidden=[OLD]),
    ),
    "own/ar-yahoo-html-only.eml": (
        build(
            "Re: استرجاع",
            html=f'<div dir="rtl">أرسلت صورة الإيصال.</div><div id="yahoo_quoted_1" class="yahoo_quoted">'
            f"<div>في الأحد، 22 نوفمبر 2026، 10:15 ص، {SUPPORT} كتب:</div><div>{OLD}</div></div>",
        ),
        dict(subject="استرجاع", exact="أرسلت صورة الإيصال.", hidden=[OLD]),
    ),
    "own/ar-interleaved.eml": (
        build(
            "رد: أسئلة عن الطلب",
            f"في الأحد، 22 نوفمبر 2026 في 10:15 ص، {SUPPORT} كتب:\n> ما هو رقم الطلب؟\n\n5512\n\n"
            "> وما هو العنوان؟\n\nجدة، حي الروضة\n",
        ),
        dict(subject="أسئلة عن الطلب", new=["5512", "جدة، حي الروضة"], hidden=["ما هو رقم الطلب؟", "كتب:"]),
    ),
    "own/mixed-gmail-english-ui.eml": (
        build(
            "Re: Order 5512",
            "شكراً، received it today.\n\n"
            f"On Sun, Nov 22, 2026 at 10:15 AM Support <support@helpdesk.example> wrote:\n\n> {OLD}\n",
        ),
        dict(subject="Order 5512", exact="شكراً، received it today.", hidden=[OLD]),
    ),
    "own/fa-gmail-persian.eml": (
        build(
            "Re: سفارش ۵۵۱۲",
            "ممنون، سفارش رسید.\n\n"
            "در تاریخ یکشنبه ۲۲ نوامبر ۲۰۲۶، پشتیبانی <support@helpdesk.example> نوشت:\n\n"
            "> سفارش شما ارسال شد.\n",
        ),
        dict(subject="سفارش ۵۵۱۲", exact="ممنون، سفارش رسید.", hidden=["سفارش شما ارسال شد."]),
    ),
    "own/ar-forward-keeps-content.eml": (
        build(
            "إعادة توجيه: فاتورة الطلب 3301",
            "انظروا الفاتورة أدناه\n\n---------- رسالة محولة ---------\nمن: المتجر <shop@store.example>\n"
            "التاريخ: الأحد، 22 نوفمبر 2026\nالموضوع: فاتورة الطلب 3301\n\nالمبلغ المستحق 450 ريال.\n",
        ),
        dict(subject="فاتورة الطلب 3301", new=["انظروا الفاتورة أدناه", "المبلغ المستحق 450 ريال."]),
    ),
    "own/ar-greeting-only-shows-all.eml": (
        build(
            "رد: طلبك",
            f"مرحباً،\n\nفي الأحد، 22 نوفمبر 2026 في 10:15 ص، {SUPPORT} كتب:\n\n> {OLD}\n",
        ),
        dict(subject="طلبك", new=["مرحباً،", OLD]),
    ),
}
