"""Bodies in the charset they really are in, and senders the way redacted test mail writes them."""

from helpdesk.mail import inbound
from helpdesk.mail.parse import decode_bytes, parse_email

ARABIC = "مرحباً، أريد استرجاع المبلغ."


def _mail(body: bytes, charset: str | None, sender: str = "Ahmed <ahmed@example.sa>") -> bytes:
    content_type = f"text/plain; charset={charset}" if charset else "text/plain"
    head = (
        f"From: {sender}\r\nTo: support@helpdesk.example\r\nSubject: test\r\nContent-Type: {content_type}\r\n"
    )
    return head.encode() + b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body


def test_body_labelled_gb2312_but_written_in_utf8_reads_as_utf8():
    text = "我公司可代开各类增值税发票"
    assert decode_bytes(text.encode("utf-8"), "gb2312") == text


def test_body_valid_in_its_label_keeps_its_label():
    assert decode_bytes("代开发票".encode("gb2312"), "gb2312") == "代开发票"
    assert decode_bytes("Grüße".encode("latin-1"), "iso-8859-1") == "Grüße"


def test_windows_1256_and_iso_8859_6_arabic():
    assert decode_bytes(ARABIC.encode("cp1256"), "windows-1256") == ARABIC
    plain = "طلب رقم 4410 متاخر"  # ISO-8859-6 has no tanween
    assert decode_bytes(plain.encode("iso-8859-6"), "iso-8859-6") == plain
    assert decode_bytes(ARABIC.encode("cp1256"), None) == ARABIC


def test_mislabelled_body_reads_without_replacement_characters():
    parsed = parse_email(_mail(ARABIC.encode("utf-8"), "gb2312"), max_attachment_bytes=1000)
    assert parsed.text.strip() == ARABIC


def test_sender_without_a_dot_in_the_domain_is_accepted_when_the_header_is_sound(app):
    result = inbound.ingest(_mail(b"hello", "utf-8", sender="Martin von Wittich <redacted@redacted>"))
    assert result.action == "created", result.error


def test_unusable_sender_is_named_in_the_failure_reason(app):
    result = inbound.ingest(_mail(b"hello", "utf-8", sender="Nobody <not an address>"))
    assert result.action == "failed"
    assert "From (Nobody <not an address>) is not a usable address" in result.error


def _sender_of(sender: str) -> tuple[str, str | None]:
    parsed = parse_email(_mail(b"hello", "utf-8", sender=sender), max_attachment_bytes=1000)
    return parsed.from_name, parsed.from_address


def test_space_between_two_encoded_words_is_not_part_of_the_name():
    # RFC 2047 §6.2, as in zammad's mail006: the two words join without a space.
    sender = "=?Windows-1252?Q?Hans_B=C4KO?= =?iso-8859-15?q?Sch=F6nland?= <me@bogen.net>"
    assert _sender_of(sender) == ("Hans BÄKOSchönland", "me@bogen.net")
    assert _sender_of("=?utf-8?q?Ahmed_Ali?= <ahmed@example.sa>") == ("Ahmed Ali", "ahmed@example.sa")


def test_name_in_an_old_style_comment_is_the_display_name():
    assert _sender_of("marc.smith@example.com (Marc Smith)") == ("Marc Smith", "marc.smith@example.com")


def test_address_written_again_as_the_name_is_no_name():
    assert _sender_of("sales@shop.example <sales@shop.example>") == ("", "sales@shop.example")
