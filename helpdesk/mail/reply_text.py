"""The new part of a message, for display: quoted history and signatures hidden, nothing new lost.

Mail clients mark quoted history in three ways, and each is read here in every language seen so far
(English, German, French, Spanish, Italian, Dutch, Scandinavian, Czech, Russian, Arabic, Persian):
an attribution line («On … wrote:», «Am … schrieb …:», «في … كتب …:»), possibly wrapped over
three lines; a header block («From: / Sent: / To: / Subject:», «من: / تم الإرسال: / إلى: /
الموضوع:»); or a separator («-----Original Message-----», «-----الرسالة الأصلية-----»). Lines
quoted with «>» are history wherever they are: text after them (bottom-posted and interleaved
replies) is the customer's and stays. (mail-parser-reply, used before, measured no better on the
corpus test and cut a customer's «From: Jeddah / To: Riyadh» as a header block: no longer used.)

What is new is never hidden: a forward shows the forwarded message (it is the customer's content),
and when stripping would leave nothing or only a greeting, the whole text is shown. The full body
is always kept on the message; this is display only.
"""

from __future__ import annotations

import re

from helpdesk.mail.parse import FORWARD_PREFIX_RE

# Direction marks (RLM, LRM, embeddings, isolates) that Arabic clients put around names and dates.
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")

_WROTE = (
    r"wrote|writes|schrieb|schreibt|a écrit|escribió|ha scritto|schreef|escreveu|skrev|kirjoitti|"
    r"napsal|napisał|написал|написала|пише|yazdı|كتب|كتبت|نوشت|"
    r"تمت\s+كتابة\s+ما\s+يلي\s+بواسطة"  # Gmail in Arabic: «في … تمت كتابة ما يلي بواسطة Name <addr>:»
)
# An attribution: one to three lines that end in a colon and name the verb, with a date or an address.
# Gmail's Android app in Arabic writes «بتاريخ … جاء من Name <addr>:»; «جاء من» («came from») alone is
# everyday Arabic, so it counts only after that opening word.
_ATTRIBUTION = re.compile(
    rf"^(?:.{{0,400}}(?<!\w)(?:{_WROTE})|بتاريخ\s.{{0,400}}(?<!\w)جاء\s+من)(?!\w).{{0,200}}:$",
    re.DOTALL | re.IGNORECASE,
)
_OPENER = re.compile(r"^[-* ]*(?:on|am|le|el|il|op|em|den|på|в|في|بتاريخ|در)\s", re.IGNORECASE)
# What makes such a line a client's and not the customer's own «كتب لي المندوب يوم 5 ما يلي:»: an
# address, the client's opening word, or the verb as the last word before the colon.
_ATTRIBUTION_HINT = re.compile(
    rf"@|^(?:on|am|le|el|il|op|em|den|på|в|في|بتاريخ|در)\s|(?<!\w)(?:{_WROTE})\s*:$", re.IGNORECASE
)

_FROM_KEYS = r"from|von|de|da|van|från|fra|od|от|من|از"
_OTHER_KEYS = (
    r"sent|date|to|cc|subject|gesendet|datum|an|kopie|betreff|envoyé|à|objet|enviado|enviada|fecha|"
    r"para|asunto|inviato|data|oggetto|a|verzonden|aan|onderwerp|skickat|till|ämne|sendt|til|emne|"
    r"отправлено|дата|кому|тема|копия|تم الإرسال|أرسل|أرسلت|تاريخ الإرسال|التاريخ|إلى|نسخة|الموضوع|"
    r"فرستاده شده|ارسال شده|ارسال‌شده|تاریخ|به|موضوع"
)
_HEADER_LINE = re.compile(
    rf"^[ \t>*]*(?:(?P<from>{_FROM_KEYS})|(?:{_OTHER_KEYS}))[ \t]*\*?[ \t]*:", re.IGNORECASE
)
_ORIGINAL_MESSAGE = re.compile(
    r"^[ \t>]*-{2,}[ \t]*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original|"
    r"messaggio originale|oorspronkelijk bericht|ursprungligt meddelande|исходное сообщение|"
    r"الرسالة الأصلية|رسالة أصلية|پیام اصلی)[ \t]*-{2,}[ \t]*$",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(
    r"^[ \t>]*(?:-{2,}[ \t]*(?:forwarded message|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|vidarebefordrat meddelande|"
    r"пересылаемое сообщение|пересланное сообщение|رسالة محولة|الرسالة المعاد توجيهها|"
    r"رسالة معاد توجيهها|پیام بازارسال شده)[ \t]*-{2,}|begin forwarded message:|"
    r"début du message réexpédié :?|anfang der weitergeleiteten nachricht:|بدء الرسالة المعاد توجيهها:)",
    re.IGNORECASE | re.MULTILINE,
)
# Signatures: the RFC 3676 separator «-- », and what phones and apps append.
_SIGNATURE = re.compile(
    r"^[ \t]*(?:--[ \t]?|__[ \t]?|"
    r"(?:sent from|sent with|sent via|get outlook for|envoyé de mon|von meinem|gesendet von|"
    r"enviado desde|inviato da|verzonden met|отправлено с)\s.{0,80}|"
    r"(?:أُ?رسلت?|مرسلة?|تم الإرسال|تم إرساله)\s+(?:من|عبر|بواسطة)\s.{0,80}|"
    r"(?:ارسال[ \u200c]?شده|فرستاده[ \u200c]?شده)\s+(?:از|با)\s.{0,80})$",
    re.IGNORECASE,
)
# A rule of underscores with a few short lines below it, to the end: a mailing list's or a company's
# footer («____ / riak-users mailing list / address / link»), as email-reply-parser reads it.
_FOOTER_RULE = re.compile(r"^[ \t]*_{2,}[ \t]*$")
_FOOTER_MAX_LINES = 4
_SEPARATOR_LINE = re.compile(r"^[ \t]*(?:[-_=—–*]{3,}|[-_][ _-]+)[ \t]*$")
# A greeting alone («Hi Dan,», «مرحباً أحمد،») is not a message: a salutation ends with a comma.
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hallo|liebe[rs]?|sehr geehrte[rs]?|"
    r"bonjour|salut|hola|ciao|مرحب[اًا]*|السلام عليكم|أهل[اًا]{1,2}|عزيزي|سلام)\b[^\n]{0,40}[,،]$",
    re.IGNORECASE,
)


def visible_text(text: str, *, subject: str = "", quoteless_html_text: str | None = None) -> str:
    """What an agent sees of an inbound message: ``strip_quoted_reply`` unless the mail is a forward.

    ``quoteless_html_text`` is the text of an HTML-only message with its quote containers
    (gmail_quote, blockquote type=cite, …) already removed; the text rules then apply to it.
    """
    if not text or not text.strip():
        return ""
    if is_forward(subject, text):
        return text.strip()
    if quoteless_html_text is not None and _says_something(quoteless_html_text):
        stripped = strip_quoted_reply(quoteless_html_text)
        return stripped if _says_something(stripped) else text.strip()
    return strip_quoted_reply(text)


def is_forward(subject: str, text: str) -> bool:
    """A forward's quoted message is the customer's content, to be read, not hidden."""
    return bool(FORWARD_PREFIX_RE.match(subject or "") or _FORWARD_MARKER.search(_unmarked(text)))


def strip_quoted_reply(text: str) -> str:
    """Text with quoted history and signature removed; the whole text if that would leave nothing new."""
    if not text or not text.strip():
        return ""
    lines = _unmarked(text).split("\n")
    quoted = _quoted_lines(lines)
    if quoted and _has_new_text_after(lines, quoted):
        # Bottom-posted or interleaved: keep everything the customer wrote, hide only the quotes.
        kept = [line for i, line in enumerate(lines) if i not in quoted]
        stripped = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", _trim(kept[: _first_cut(kept)]))
    else:
        first_quote = min(quoted, default=len(lines))
        stripped = _trim(lines[: min(first_quote, _first_cut(lines))])
    return stripped if _says_something(stripped) else text.strip()


def _unmarked(text: str) -> str:
    return _BIDI_MARKS.sub("", text.replace("\r\n", "\n").replace("\u00a0", " "))


def _is_quote_line(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attributions(lines: list[str]) -> dict[int, int]:
    """Attribution lines, as {first line: last line}. Found from the line ending in a colon, then
    widened upwards over a wrapped name or address («Corey Donohoe\n<reply@…>\nwrote:»)."""
    found: dict[int, int] = {}
    for end, line in enumerate(lines):
        if not line.rstrip().endswith(":") or _is_quote_line(line):
            continue
        start = None
        for size in (1, 2, 3):
            chunk = lines[end - size + 1 : end + 1] if end - size + 1 >= 0 else []
            if not chunk or any(not c.strip() or _is_quote_line(c) for c in chunk):
                break
            joined = " ".join(c.strip() for c in chunk).lstrip("-* ").strip()
            if _ATTRIBUTION.match(joined) and _ATTRIBUTION_HINT.search(joined):
                start = end - size + 1
                break
        if start is None:
            continue
        while start > 0 and end - start < 2 and _continues(lines[start - 1], lines[start]):
            start -= 1
        found[start] = end
    return found


def _continues(above: str, first: str) -> bool:
    """Whether ``above`` is the beginning of an attribution that ``first`` continues."""
    if not above.strip() or _is_quote_line(above):
        return False
    return (
        first.lstrip().startswith("<") or above.rstrip().endswith("<") or bool(_OPENER.match(above.strip()))
    )


def _quoted_lines(lines: list[str]) -> set[int]:
    """Indexes of «>» lines, of the attribution lines that introduce them, and of blanks between."""
    quoted = {i for i, line in enumerate(lines) if _is_quote_line(line)}
    for start, end in _attributions(lines).items():
        after = end + 1
        while after < len(lines) and not lines[after].strip():
            after += 1
        if after in quoted:
            quoted.update(range(start, after))
    return quoted


def _has_new_text_after(lines: list[str], quoted: set[int]) -> bool:
    """Whether the customer wrote below the first quote (other than a signature or another quote)."""
    attributions = _attributions(lines)
    for i in range(min(quoted) + 1, len(lines)):
        line = lines[i]
        if i in quoted or not line.strip():
            continue
        if _starts_footer(lines, i):
            return False
        if _SEPARATOR_LINE.match(line):
            continue
        return not (_SIGNATURE.match(line) or _starts_quote(lines, i, attributions))
    return False


def _starts_quote(lines: list[str], i: int, attributions: dict[int, int]) -> bool:
    return i in attributions or bool(_ORIGINAL_MESSAGE.match(lines[i]) or _header_block_at(lines, i))


def _header_block_at(lines: list[str], i: int) -> bool:
    """A quoted message's header block starts at ``i``: three header lines within seven, one a From.

    Three, not two: «From: Jeddah / To: Riyadh» (or «من: جدة / إلى: الرياض») is a customer's route."""
    first = _HEADER_LINE.match(lines[i])
    if first is None:
        return False
    keys = [first]
    for line in lines[i + 1 : i + 7]:
        match = _HEADER_LINE.match(line)
        if match is not None:
            keys.append(match)
    return len(keys) >= 3 and any(k.group("from") for k in keys)


def _first_cut(lines: list[str]) -> int:
    """Index of the first line where quoted history or a signature starts (top posting)."""
    attributions = _attributions(lines)
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line) or _starts_quote(lines, i, attributions) or _starts_footer(lines, i):
            return i
    return len(lines)


def _starts_footer(lines: list[str], i: int) -> bool:
    """A footer starts at ``i``: a rule of underscores, then at most a few short lines, no quote."""
    if not _FOOTER_RULE.match(lines[i]):
        return False
    rest = [line for line in lines[i + 1 :] if line.strip()]
    return 0 < len(rest) <= _FOOTER_MAX_LINES and not any(
        _is_quote_line(line) or len(line) > 100 for line in rest
    )


def _trim(lines: list[str]) -> str:
    """The lines as text, without trailing separator lines («-----», «_____») and blank lines."""
    while lines and (not lines[-1].strip() or _SEPARATOR_LINE.match(lines[-1])):
        lines = lines[:-1]
    return "\n".join(lines).strip()


def _says_something(text: str) -> bool:
    text = text.strip()
    return bool(text) and not _GREETING.match(text)
