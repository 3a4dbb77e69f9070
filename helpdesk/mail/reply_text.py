"""The new part of a reply, without the quoted history and the signature, for display.

mail-parser-reply knows the English (and European) clients; Arabic Gmail and Outlook write their
quote headers in Arabic («في … كتب …:», «من: … أرسل: … الموضوع: …»), which it does not know, so
those are cut first by our own rules. The full body is always kept on the message; this is display.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

# Gmail (ar): «في الأحد، 22 نوفمبر 2026 في 10:15 ص، أحمد <a@example.com> كتب:», possibly wrapped.
_GMAIL_AR = re.compile(r"^[ \t>]*في\s[^\n]{0,300}(?:\n[^\n]{0,300})?كتبت?\s*:\s*$", re.MULTILINE)
# Outlook (ar): a «من:» line with, within the next lines, «أرسل:» / «تاريخ الإرسال:» / «الموضوع:» / «إلى:».
_OUTLOOK_AR = re.compile(
    r"^[ \t>*]*(?:_{5,}\s*\n[ \t>*]*)?من\s*:[^\n]*\n(?:[^\n]*\n){0,3}?"
    r"[ \t>*]*(?:أرسل|أرسلت|تاريخ الإرسال|التاريخ|الموضوع|إلى)\s*:",
    re.MULTILINE,
)
_ORIGINAL_MESSAGE_AR = re.compile(
    r"^[ \t>]*-{2,}\s*(?:الرسالة الأصلية|رسالة محولة)\s*-{2,}\s*$", re.MULTILINE
)
# Mobile signatures: «أرسلت من جهاز iPhone الخاص بي», «مرسل من جوال Samsung» …
_SENT_FROM_AR = re.compile(
    r"^[ \t]*(?:أُ?رسلت?|مرسلة?|تم الإرسال|تم إرساله)\s+(?:من|عبر|بواسطة)\s[^\n]{0,80}$", re.MULTILINE
)

# Mobile signatures in English that the library misses: «Sent from my Samsung Galaxy smartphone.»
_SENT_FROM_EN = re.compile(
    r"^[ \t]*(?:Sent from my|Sent from Mail for|Get Outlook for)\s[^\n]{0,80}$", re.MULTILINE
)
# The RFC 3676 signature separator, «-- » alone on a line.
_SIGNATURE_SEPARATOR = re.compile(r"^-- ?$", re.MULTILINE)

_parser = EmailReplyParser(languages=["en", "de", "fr"])


def strip_quoted_reply(text: str) -> str:
    """Text with quoted history and signature removed; the whole text if stripping would leave nothing."""
    if not text or not text.strip():
        return ""
    cut = len(text)
    for pattern in (
        _GMAIL_AR,
        _OUTLOOK_AR,
        _ORIGINAL_MESSAGE_AR,
        _SENT_FROM_AR,
        _SENT_FROM_EN,
        _SIGNATURE_SEPARATOR,
    ):
        match = pattern.search(text)
        if match is not None and match.start() < cut:
            cut = match.start()
    latest = text[:cut]
    try:
        stripped = _parser.parse_reply(latest) if latest.strip() else ""
    except Exception:  # a third-party regex engine on hostile input: fall back to our own cut
        stripped = latest
    stripped = (stripped or "").strip()
    return stripped or latest.strip() or text.strip()
