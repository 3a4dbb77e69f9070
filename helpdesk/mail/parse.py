"""Turn raw email bytes into what the helpdesk needs: addresses, subject, text, HTML, files.

Stdlib ``email`` with ``policy.default``. Mail in the wild is often broken, so every step has a
fallback: a header that does not parse is read raw, a body in an unknown or undeclared charset is
decoded as UTF-8 or else Windows-1256 (the usual Arabic legacy charset) with bad bytes replaced.
Parsing never raises for bad content; only :class:`UnreadableEmail` for input that is not mail at all.
"""

from __future__ import annotations

import codecs
import mimetypes
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import HeaderParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr
from functools import lru_cache
from html.parser import HTMLParser

from helpdesk.tickets.attachments import IncomingFile, safe_filename

MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
# Reply and forward prefixes as clients write them, in every language seen: «Re», «AW»/«Antwort»
# (German), «SV»/«VS» (Nordic), «WG» (German forward), «TR» (French), «RV»/«ENC» (Spanish, Portuguese),
# Arabic «رد»/«ر»/«إعادة توجيه», Persian «پاسخ», Chinese; repeated, nested, counted («Re[2]») or with
# direction marks.
_PREFIX_GAP = r"[\s\u200e\u200f]*"
REPLY_PREFIX_RE = re.compile(
    rf"^{_PREFIX_GAP}(?:(?:re|aw|antw|antwort|sv|svar|vs|odp|ynt|res|rif|r|fw|fwd|wg|tr|rv|enc|doorst|vb|vl|"
    rf"رد|الرد|ر|إعادة توجيه|إعادة التوجيه|تحويل|توجيه|پاسخ|回复|答复|转发){_PREFIX_GAP}"
    rf"(?:\[\d+\]|\(\d+\))?{_PREFIX_GAP}[:：]{_PREFIX_GAP})+",
    re.IGNORECASE,
)


# A forward, not a reply: «Fwd:», «FW:», «WG:» (German), «TR:» (French), «RV:» (Spanish), Arabic.
FORWARD_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|antwort|رد|ر)\s*(?:\[\d+\])?\s*[:：]\s*)*"
    r"(?:fwd?|wg|tr|rv|doorst|enc|إعادة توجيه|تحويل|توجيه)\s*(?:\[\d+\])?\s*[:：]",
    re.IGNORECASE,
)


class UnreadableEmail(ValueError):
    """The bytes are not an email message (empty, or no headers at all)."""


@dataclass
class DroppedFile:
    filename: str
    size: int


@dataclass
class DeliveryReport:
    """What a bounce (DSN, ``multipart/report``) says: which of our messages failed, for whom, why."""

    original_message_id: str | None
    recipients: list[str]
    status: str | None
    diagnostic: str | None


@dataclass
class ParsedEmail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    from_name: str
    from_address: str | None
    to: list[str]
    cc: list[str]
    headers: dict[str, str]  # lower-cased names of the headers loop protection looks at
    text: str
    html: str | None
    text_from_html: bool = False  # there was no plain part: ``text`` was made from ``html``
    files: list[IncomingFile] = field(default_factory=list)
    dropped: list[DroppedFile] = field(default_factory=list)
    report: DeliveryReport | None = None
    sender_problem: str | None = None  # why there is no ``from_address``, for the failed-mail list

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, most direct first."""
        ids = list(self.in_reply_to)
        ids += [r for r in reversed(self.references) if r not in ids]
        return ids


class _RememberingPolicy(EmailPolicy):
    """``policy.default`` that parses each header value once: the stdlib parses a header again on
    every access, and taking a message apart reads its Content-Type alone a dozen times."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        return _parsed_header(name, value)


PARSING_POLICY = _RememberingPolicy()


@lru_cache(maxsize=1024)
def _parsed_header(name: str, value: str):
    return EmailPolicy.header_fetch_parse(PARSING_POLICY, name, value)


def parse_email(raw: bytes, *, max_attachment_bytes: int) -> ParsedEmail:
    if not raw or not raw.strip():
        raise UnreadableEmail("empty message")
    msg = message_from_bytes(raw, policy=PARSING_POLICY)
    if not msg.keys():
        raise UnreadableEmail("no headers found")
    # Headers that need no decoding are read raw: the header registry re-parses on every access.
    raw = _raw_headers(msg)
    from_name, from_address = _sender(msg, raw)
    text_part, html_part = _body_parts(msg)
    text = _decode_text(text_part) if text_part is not None else ""
    html = _decode_text(html_part) if html_part is not None else None
    text_from_html = not text.strip() and bool(html)
    if text_from_html:
        text = html_to_text(html)
    parsed = ParsedEmail(
        message_id=_first_message_id(raw.get("message-id", "")),
        in_reply_to=MESSAGE_ID_RE.findall(raw.get("in-reply-to", "")),
        references=MESSAGE_ID_RE.findall(raw.get("references", "")),
        subject=" ".join(header(msg, "Subject").split()) if "subject" in raw else "",
        from_name=from_name,
        from_address=from_address,
        to=_addresses(raw, "to") + _addresses(raw, "delivered-to"),
        cc=_addresses(raw, "cc"),
        headers={name: raw[name] for name in LOOP_HEADERS if name in raw},
        text=normalise_newlines(text),
        html=html,
        text_from_html=text_from_html,
    )
    if from_address is None:
        parsed.sender_problem = (
            f"the sender address in From ({raw['from'][:200]}) is not a usable address"
            if raw.get("from")
            else "the message has no sender address"
        )
    _collect_files(msg, parsed, skip={id(text_part), id(html_part)}, limit=max_attachment_bytes)
    if msg.get_content_type() == "multipart/report":
        parsed.report = _delivery_report(msg)
    return parsed


LOOP_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "return-path",
)


def _raw_headers(msg: EmailMessage) -> dict[str, str]:
    """The first value of each header, unfolded, undecoded (8-bit bytes replaced)."""
    found: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key not in found:
            text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            found[key] = " ".join(text.split())
    return found


def header(msg: EmailMessage, name: str) -> str:
    """A header as text with RFC 2047 words decoded; a header that does not parse is decoded raw."""
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # malformed headers: the header registry can raise on odd input
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return _decode_raw_header(str(raw))
        return ""


def _decode_raw_header(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw)))
    except Exception:
        return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _first_message_id(value: str) -> str | None:
    found = MESSAGE_ID_RE.findall(value)
    if found:
        return found[0][:998]
    value = value.strip()
    return f"<{value}>"[:998] if value and " " not in value else None


ADDRESS_RE = re.compile(r"[^\s<>\"'@,;:()\[\]]+@[^\s<>\"'@,;:()\[\]]+\.[^\s<>\"'@,;:()\[\]]+")
# «user@host» without a dot: redacted test mail and intranet hosts. Taken only from a From header that
# parses cleanly into one address, so that a mangled header still falls through to the search below.
DOTLESS_ADDRESS_RE = re.compile(r"[^\s<>\"'@,;:()\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _sender(msg: EmailMessage, raw: dict[str, str]) -> tuple[str, str | None]:
    """(display name, address) of the author; a broken header still yields its address and name."""
    for name in ("From", "Sender", "Reply-To", "Return-Path"):
        try:
            value = msg.get(name)
            addresses = getattr(value, "addresses", None)
            spec = (addresses[0].addr_spec or "") if addresses else ""
            sound = name == "From" and len(addresses) == 1 and not getattr(value, "defects", ())
            if addresses and (ADDRESS_RE.fullmatch(spec) or (sound and DOTLESS_ADDRESS_RE.fullmatch(spec))):
                display = _display_name(raw.get(name.lower(), ""), addresses[0].display_name.strip())
                # «a@b.example <a@b.example>»: the address again is no name (the customer gets a better one).
                return ("" if display.lower() == spec.strip().lower() else display), spec.strip().lower()
        except Exception:  # fall through to the forgiving reading below
            pass
        raw = header(msg, name)
        display, address = parseaddr(raw)
        if not ADDRESS_RE.fullmatch(address or ""):
            found = ADDRESS_RE.search(raw)
            if found is None:
                continue
            address, display = found.group(0), raw[: raw.find(found.group(0))]
        display = display.split("<", 1)[0].strip().strip("\"' ")
        return display, address.strip().lower()
    return "", None


_ADJACENT_ENCODED_WORDS = re.compile(r"\?=\s+=\?")


def _display_name(raw: str, parsed: str) -> str:
    """The display name as RFC 2047 and RFC 822 read it, where the header registry does not: the
    space between two encoded words is not part of the name («=?…?Hans_B=C4KO?= =?…?Sch=F6nland?=»
    is «Hans BÄKOSchönland»), and an old-style comment («marc@example.com (Marc Smith)») is a name.
    ``raw`` is the header as received, unfolded."""
    if parsed:
        if " " not in parsed or not _ADJACENT_ENCODED_WORDS.search(raw):
            return parsed
        return _decode_raw_header(raw.rsplit("<", 1)[0]).strip().strip("\"' ") or parsed
    comment = parseaddr(raw)[0]
    return _decode_raw_header(comment).strip() if comment else ""


def _addresses(raw: dict[str, str], name: str) -> list[str]:
    return [addr.lower() for _n, addr in getaddresses([raw[name]]) if "@" in addr] if name in raw else []


def _body_parts(msg: EmailMessage) -> tuple[EmailMessage | None, EmailMessage | None]:
    """The plain and the HTML body, the way a mail client chooses them."""
    if not msg.is_multipart():  # the common case, without get_body's repeated header parsing
        content_type = msg.get_content_type()
        if msg.get_content_disposition() == "attachment":
            return None, None
        return (msg if content_type == "text/plain" else None), (msg if content_type == "text/html" else None)
    try:
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
    except Exception:
        return None, None
    if msg.get_content_type() == "multipart/report":  # a bounce: its first part is the human text
        parts = list(msg.iter_parts())
        text = parts[0] if parts and parts[0].get_content_maintype() == "text" else text
    return text, html


def _decode_text(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    return decode_bytes(payload, part.get_content_charset())


def decode_bytes(data: bytes, charset: str | None) -> str:
    """The declared charset when the bytes are valid in it, else UTF-8 when they are valid UTF-8 (a
    mislabelled body), else the declared charset with bad bytes replaced. Undeclared 8-bit (or
    'us-ascii' that isn't) is UTF-8, else Windows-1256, the usual Arabic legacy charset."""
    charset = (charset or "").strip().lower()
    if charset in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        charset = ""
    if charset:
        try:
            codec = codecs.lookup(charset).name
        except LookupError:
            codec = ""
        if codec:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
            if codec not in ("utf-8", "utf-16", "utf-32") and not codec.startswith(("utf-16", "utf-32")):
                # Mislabelled (e.g. «gb2312» on UTF-8, as some mass mailers send): the valid reading wins.
                try:
                    return data.decode("utf-8")
                except UnicodeDecodeError:
                    pass
            return data.decode(codec, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1256", "replace")


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _leaf_parts(part: EmailMessage):
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            yield from _leaf_parts(sub)
    else:
        yield part


def _collect_files(msg: EmailMessage, parsed: ParsedEmail, *, skip: set[int], limit: int) -> None:
    extra_text = []
    for number, part in enumerate(_leaf_parts(msg), start=1):
        if id(part) in skip:
            continue
        filename = _filename(part)
        disposition = part.get_content_disposition()
        content_type = part.get_content_type()
        if content_type in ("text/plain", "text/html") and not filename and disposition != "attachment":
            if content_type == "text/plain":  # Apple Mail puts text between attachments
                extra_text.append(_decode_text(part))
            continue
        data = _part_bytes(part)
        if data is None:
            continue
        content_id = (part.get("Content-ID") or "").strip().strip("<>") or None
        name = safe_filename(filename or _default_name(part, number))
        if len(data) > limit:
            parsed.dropped.append(DroppedFile(name, len(data)))
            continue
        parsed.files.append(
            IncomingFile(
                filename=name,
                content_type=content_type,
                data=data,
                content_id=content_id[:255] if content_id else None,
                is_inline=disposition == "inline" or (content_id is not None and disposition is None),
            )
        )
    if extra_text:
        parsed.text = normalise_newlines("\n\n".join([parsed.text, *extra_text]).strip())


def _filename(part: EmailMessage) -> str | None:
    try:
        return part.get_filename()
    except Exception:
        return None


def _part_bytes(part: EmailMessage) -> bytes | None:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        if isinstance(inner, list):
            return b"".join(m.as_bytes(policy=policy.SMTP) for m in inner)
        return inner.encode("utf-8", "surrogateescape") if isinstance(inner, str) else None
    try:
        return part.get_payload(decode=True)
    except Exception:
        return None


def _default_name(part: EmailMessage, number: int) -> str:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        return "forwarded-message.eml"
    if content_type in ("message/delivery-status", "message/global-delivery-status"):
        return "delivery-status.txt"
    if content_type in ("text/rfc822-headers", "message/rfc822-headers"):
        return "original-headers.txt"
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"part-{number}{extension}"


def _delivery_report(msg: EmailMessage) -> DeliveryReport:
    original_id = None
    recipients: list[str] = []
    status = diagnostic = None
    for part in _leaf_parts(msg):
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            original = _original_headers(part)
            if original is not None:
                original_id = original_id or _first_message_id(header(original, "Message-ID"))
        elif content_type in ("message/delivery-status", "message/global-delivery-status"):
            fields = _status_fields(part)
            for name, value in fields:
                if name == "final-recipient":
                    recipients.append(value.split(";")[-1].strip())
                elif name == "status" and status is None:
                    status = value
                elif name == "diagnostic-code" and diagnostic is None:
                    diagnostic = value.split(";", 1)[-1].strip()
    return DeliveryReport(original_id, recipients, status, diagnostic)


def _original_headers(part: EmailMessage) -> EmailMessage | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return payload[0]
    data = _part_bytes(part)
    if not data:
        return None
    return HeaderParser(policy=policy.default).parsestr(decode_bytes(data, "utf-8"))


def _status_fields(part: EmailMessage) -> list[tuple[str, str]]:
    blocks = part.get_payload()
    fields = []
    if isinstance(blocks, list):
        for block in blocks:
            fields += [(k.lower(), str(v)) for k, v in block.items()]
    else:
        for line in decode_bytes(_part_bytes(part) or b"", "utf-8").splitlines():
            name, sep, value = line.partition(":")
            if sep:
                fields.append((name.strip().lower(), value.strip()))
    return fields


def clean_subject(subject: str) -> str:
    """The subject without reply/forward prefixes (English and Arabic clients)."""
    return REPLY_PREFIX_RE.sub("", subject).strip()


# --- HTML to readable text --------------------------------------------------------------------

_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "table",
    "tr",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "hr",
}
_SKIP_TAGS = {"script", "style", "head", "title", "template"}
_VOID_TAGS = {"br", "hr", "img", "input", "meta", "link", "wbr"}


# Where clients put the quoted message in HTML: elements that hold the quote, and elements after
# which everything is the quote (Outlook's header block and its separators).
_QUOTE_CLASSES = {"gmail_quote", "gmail_extra", "moz-cite-prefix", "yahoo_quoted", "domino-section"}
_QUOTE_IDS = {"yahoo_quoted", "mail-editor-reference-message-container"}
_QUOTE_REST_IDS = {"divrplyfwdmsg", "appendonsend", "stopspelling", "outlookmessageheader"}
_QUOTE_REST_CLASSES = {"outlookmessageheader"}


def _is_quote_container(tag: str, attrs: dict) -> bool:
    classes = set((attrs.get("class") or "").lower().split())
    if tag == "blockquote" and (attrs.get("type") or "").lower() == "cite":
        return True
    return bool(classes & _QUOTE_CLASSES) or (attrs.get("id") or "").lower() in _QUOTE_IDS


def _starts_quoted_rest(tag: str, attrs: dict) -> bool:
    classes = set((attrs.get("class") or "").lower().split())
    if (attrs.get("id") or "").lower() in _QUOTE_REST_IDS or classes & _QUOTE_REST_CLASSES:
        return True
    style = (attrs.get("style") or "").lower().replace(" ", "")
    # Outlook desktop: the quoted header sits in a div with a thin top border and nothing else.
    return tag == "div" and "border:none" in style and "border-top:solid" in style


class _TextExtractor(HTMLParser):
    def __init__(self, *, without_quotes: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.pre = 0
        self.without_quotes = without_quotes
        self.quote_tag: str | None = None
        self.quote_depth = 0
        self.rest_is_quote = False

    def _in_quote(self, tag: str, attrs: list, *, starting: bool) -> bool:
        """Track quote containers; True while inside one (or after Outlook's quoted header)."""
        if not self.without_quotes or self.rest_is_quote:
            return self.rest_is_quote
        if self.quote_tag is not None:
            if tag == self.quote_tag:
                self.quote_depth += 1 if starting else -1
                if self.quote_depth == 0:
                    self.quote_tag = None
            return True
        if starting:
            found = dict(attrs)
            if _starts_quoted_rest(tag, found):
                self.rest_is_quote = True
                return True
            if _is_quote_container(tag, found) and tag not in _VOID_TAGS:
                self.quote_tag, self.quote_depth = tag, 1
                return True
        return False

    def handle_starttag(self, tag, attrs):
        if self._in_quote(tag, attrs, starting=True):
            return
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag == "p" else "\n")
            if tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self._in_quote(tag, [], starting=False):
            return
        if tag in _SKIP_TAGS:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)

    def handle_data(self, data):
        if self.skipping or self.quote_tag is not None or self.rest_is_quote:
            return
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str, *, without_quotes: bool = False) -> str:
    """Readable plain text from an HTML mail body: paragraphs and line breaks kept, markup dropped;
    ``without_quotes`` leaves out the quoted message in the containers mail clients put it in."""
    extractor = _TextExtractor(without_quotes=without_quotes)
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # HTMLParser is forgiving; this is for truly pathological input
        return re.sub(r"<[^>]+>", " ", html)
    text = "".join(extractor.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
