"""Arabic, Persian and mixed Arabic/English mail written the way each client sends it, built here
with the stdlib: Gmail web and mobile, Outlook desktop and web, Apple Mail / iPhone, Yahoo and
Thunderbird, in RTL and LTR layouts, plain and HTML-only. Same expectation keys as
``corpus_expectations.py``; the corpus test measures them as the source ``own``."""

from __future__ import annotations

import itertools
import textwrap
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


# --- Every client, in Arabic, Persian and mixed Arabic/English, RTL and LTR, plain and HTML-only -----
#
# Markup and wording as the clients write them: Gmail's «gmail_quote» container with a «gmail_attr» line
# («… تمت كتابة ما يلي بواسطة Name <addr>:» in Arabic, and «بتاريخ … جاء من Name <addr>:» or «… كتب:» with
# Arabic-Indic digits from its Android app), Outlook's «divRplyFwdMsg» (web) or bordered header block
# (desktop) after a rule, with «من: / تم الإرسال: / إلى: / الموضوع:» in Arabic, Apple Mail's
# «blockquote type=cite» (the iPhone puts the attribution inside the quote and «Sent from my iPhone»
# above it), Yahoo's «yahoo_quoted» block (its plain part indents the quote without «>»), Thunderbird's
# «moz-cite-prefix» and bottom posting. RTL: the client's interface in the customer's language and
# «dir="rtl"»; LTR: an English interface and «dir="ltr"», the customer still writing in their language.

LANGUAGES = {
    # language: (new text in two lines, the quote we sent, our team's display name, subject)
    "ar": (["مرحباً،", "وصلني الطلب ناقصاً، أرجو إرسال القطعة الباقية."], OLD, "فريق الدعم", "طلبك رقم 5512"),
    "fa": (
        ["سلام،", "سفارش ناقص رسید، لطفاً قطعهٔ باقی‌مانده را بفرستید."],
        "سفارش شما ارسال شد و تا دو روز دیگر می‌رسد.",
        "پشتیبانی",
        "سفارش ۵۵۱۲",
    ),
    "mixed": (["Hi team,", "الطلب #5512 arrived damaged — أرجو الاستبدال."], OLD, "فريق الدعم", "Order 5512"),
}
ADDRESS = "support@helpdesk.example"
REPLY_PREFIX = {"ar": "رد: ", "fa": "پاسخ: ", "en": "Re: "}
RLE, PDF = "\u202b", "\u202c"


def _attribution(client: str, ui: str, name: str) -> str:
    """The line a client writes above the quote, in its interface language."""
    who = f"{name} <{ADDRESS}>"
    lines = {
        "gmail-web": {
            "ar": f"في الأحد، 22 نوفمبر 2026 في 10:15 ص تمت كتابة ما يلي بواسطة {who}:",
            "fa": f"در تاریخ یکشنبه ۲۲ نوامبر ۲۰۲۶ ساعت ۱۰:۱۵ {who} نوشت:",
            "en": f"On Sun, Nov 22, 2026 at 10:15 AM {who} wrote:",
        },
        "gmail-mobile": {
            "ar": f"بتاريخ ٢٢ نوفمبر ٢٠٢٦ ١٠:١٥ ص، جاء من {who}:",
            "fa": f"در تاریخ یکشنبه ۲۲ نوامبر ۲۰۲۶، {RLM}{who} نوشت:",
            "en": f"On Sun, 22 Nov 2026, 10:15 {name}, <{ADDRESS}> wrote:",
        },
        "apple-mail": {
            "ar": f"في 22{RLM}/11{RLM}/2026، الساعة 10:15 ص، كتب {who}:",
            "fa": f"در ۲۲ نوامبر ۲۰۲۶، ساعت ۱۰:۱۵، {who} نوشت:",
            "en": f"On 22 Nov 2026, at 10:15, {who} wrote:",
        },
        "yahoo": {
            "ar": f"في الأحد، 22 نوفمبر 2026، 10:15:00 ص GMT+3، كتب {who}:",
            "fa": f"در یکشنبه، ۲۲ نوامبر ۲۰۲۶، ۱۰:۱۵:۰۰ GMT+3، {who} نوشت:",
            "en": f"On Sunday, November 22, 2026, 10:15:00 AM GMT+3, {who} wrote:",
        },
        "thunderbird": {
            "ar": f"في 22/11/2026 10:15 ص، كتب {name}:",
            "fa": f"در ۲۲/۱۱/۲۰۲۶ ۱۰:۱۵، {name} نوشت:",
            "en": f"On 22/11/2026 10:15, {name} wrote:",
        },
    }
    lines["iphone"] = lines["apple-mail"]
    return lines[client][ui]


def _outlook_header(ui: str, name: str, subject: str) -> list[tuple[str, str]]:
    keys = {
        "ar": ("من", "تم الإرسال", "إلى", "الموضوع"),
        "fa": ("از", "ارسال شده", "به", "موضوع"),
        "en": ("From", "Sent", "To", "Subject"),
    }[ui]
    values = (f"{name} <{ADDRESS}>", "Sunday, November 22, 2026 10:15 AM", "Ahmed Ali", subject)
    return list(zip(keys, values, strict=True))


def _iphone_signature(ui: str) -> str:
    return {"ar": "أرسلت من الـ iPhone", "fa": "ارسال شده از iPhone من", "en": "Sent from my iPhone"}[ui]


def _plain(client: str, ui: str, new: list[str], quote: str, name: str, subject: str) -> str:
    text, attribution = "\n".join(new), _attribution(client, ui, name) if client[:7] != "outlook" else ""
    if ui != "en" and client.startswith("gmail"):
        attribution = f"{RLE}{attribution}{PDF}"
    if client.startswith("gmail"):  # Gmail wraps its plain part at 78 columns, the attribution too
        attribution = textwrap.fill(attribution, 76, break_long_words=False, break_on_hyphens=False)
        return f"{text}\n\n{attribution}\n\n> {quote}\n"
    if client.startswith("outlook"):
        header = "\n".join(f"{key}: {value}" for key, value in _outlook_header(ui, name, subject))
        return f"{text}\n\n{'_' * 32}\n{header}\n\n{quote}\n"
    if client == "iphone":
        return f"{text}\n\n{_iphone_signature(ui)}\n\n> {attribution}\n> \n> {quote}\n"
    if client == "apple-mail":
        return f"{text}\n\n> {attribution}\n> \n> {quote}\n"
    if client == "yahoo":
        return f"{text}\n\n    {attribution}  \n \n {quote}\n"
    return f"{attribution}\n> {quote}\n\n{text}\n"  # Thunderbird: bottom posting


def _html(client: str, ui: str, new: list[str], quote: str, name: str, subject: str) -> str:
    direction = "ltr" if ui == "en" else "rtl"
    lines = "".join(f'<div dir="{direction}">{line}</div>' for line in new)
    who = (
        _attribution(client, ui, name).replace("<", "&lt;").replace(">", "&gt;")
        if client[:7] != "outlook"
        else ""
    )
    side = "left" if direction == "ltr" else "right"
    if client.startswith("gmail"):
        return (
            f'{lines}<br><div class="gmail_quote gmail_quote_container"><div dir="{direction}" '
            f'class="gmail_attr">{who}<br></div><blockquote class="gmail_quote" style="margin:0px 0.8ex;'
            f'border-{side}:1px solid rgb(204,204,204);padding-{side}:1ex"><div dir="{direction}">{quote}'
            "</div></blockquote></div>"
        )
    header = "<br>".join(f"<b>{key}:</b> {value}" for key, value in _outlook_header(ui, name, subject))
    header = header.replace(f"<{ADDRESS}>", f"&lt;{ADDRESS}&gt;")
    if client == "outlook-web":
        return (
            f'<div dir="{direction}">{lines}</div><div id="appendonsend"></div>'
            '<hr style="display:inline-block;width:98%" tabindex="-1">'
            f'<div id="divRplyFwdMsg" dir="{direction}">'
            f'<font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">{header}</font>'
            f'<div>&nbsp;</div></div><div dir="{direction}">{quote}</div>'
        )
    if client == "outlook-desktop":
        paragraphs = "".join(f'<p class="MsoNormal" dir="{direction.upper()}">{line}</p>' for line in new)
        return (
            f'<div class="WordSection1">{paragraphs}<p class="MsoNormal">&nbsp;</p><div>'
            '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
            f'<p class="MsoNormal" dir="{direction.upper()}">{header}</p></div></div>'
            f'<p class="MsoNormal">&nbsp;</p><p class="MsoNormal">{quote}</p></div>'
        )
    if client == "iphone":
        return (
            f'{lines}<div dir="{direction}"><br id="lineBreakAtBeginningOfSignature"><div dir="{direction}">'
            f'{_iphone_signature(ui)}</div><div dir="{direction}"><br><blockquote type="cite">{who}<br><br>'
            f'</blockquote></div><blockquote type="cite"><div dir="{direction}">{quote}</div>'
            "</blockquote></div>"
        )
    if client == "apple-mail":
        return (
            f'{lines}<div><br><blockquote type="cite"><div>{who}</div><br class="Apple-interchange-newline">'
            f'<div><div dir="{direction}">{quote}</div></div></blockquote></div><br>'
        )
    if client == "yahoo":
        return (
            f'<div class="ydp1f2e3d4cyahoo-style-wrap">{lines}</div>'
            '<div id="yahoo_quoted_4410" class="yahoo_quoted">'
            '<div style="font-family:Helvetica, Arial, sans-serif;font-size:13px;color:#26282a;">'
            f"<div>{who}</div>"
            f'<div><br></div><div><br></div><div><div dir="{direction}">{quote}</div></div></div></div>'
        )
    return (  # Thunderbird, bottom posting
        f'<div class="moz-cite-prefix">{who}<br></div><blockquote type="cite" cite="mid:1@helpdesk.example">'
        f'<div dir="{direction}">{quote}</div></blockquote><br>{lines}'
    )


CLIENTS = (
    "gmail-web",
    "gmail-mobile",
    "outlook-desktop",
    "outlook-web",
    "apple-mail",
    "iphone",
    "yahoo",
    "thunderbird",
)


def client_matrix() -> dict[str, tuple[bytes, dict]]:
    """One reply per client × language × layout × format, each with its expectations."""
    messages = {}
    for client, language, layout, form in itertools.product(
        CLIENTS, LANGUAGES, ("rtl", "ltr"), ("plain", "html")
    ):
        new, quote, name, subject = LANGUAGES[language]
        ui = "en" if layout == "ltr" else ("fa" if language == "fa" else "ar")
        full_subject = REPLY_PREFIX[ui] + subject
        sender = "علی رضایی <ali@example.ir>" if language == "fa" else ""
        if form == "plain":
            raw = build(full_subject, _plain(client, ui, new, quote, name, subject), sender=sender)
            shown = "\n".join(new)
        else:
            raw = build(full_subject, html=_html(client, ui, new, quote, name, subject), sender=sender)
            shown = "\n\n".join(new)  # each line its own <div>: a paragraph each on the page
        expected = dict(subject=subject, exact=shown, hidden=[quote, name])
        if client == "iphone":
            expected["hidden"].append(_iphone_signature(ui))
        messages[f"own/{client}-{language}-{layout}-{form}.eml"] = (raw, expected)
    return messages


OWN_MAIL.update(client_matrix())
