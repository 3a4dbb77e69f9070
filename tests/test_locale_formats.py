"""Numbers, amounts, shares, sizes and dates go through Babel: one style per language, Latin digits."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from helpdesk.i18n import (
    format_file_size,
    format_local_date,
    format_local_datetime,
    format_money,
    format_share,
)
from helpdesk.tickets.labels import describe_change
from helpdesk.tickets.models import MessageKind
from tests.factories import make_customer, make_order, make_staff, make_ticket

ARABIC_INDIC = re.compile("[\u0660-\u0669]")
US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


@pytest.fixture
def in_language(app):
    def use(language: str):
        context = app.test_request_context("/")
        context.push()
        force = force_locale(language)
        force.__enter__()
        return lambda: (force.__exit__(None, None, None), context.pop())

    return use


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ar", "3 ديسمبر 2026، 5:05 م"), ("en", "3 Dec 2026, 5:05 PM")],
)
def test_a_date_and_time_has_one_style_per_language_in_the_users_time_zone(in_language, language, expected):
    done = in_language(language)
    at = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)  # 17:05 in Riyadh
    assert format_local_datetime(at, "short") == format_local_datetime(at, "medium") == expected
    assert format_local_date(date(2026, 12, 3)) == expected.split("،")[0].split(",")[0]
    done()


def test_amounts_are_grouped_with_the_currency_the_language_writes(in_language):
    done = in_language("ar")
    amount = format_money(Decimal("12875.00"), "SAR")
    assert "12,875.00" in amount and "ر.س" in amount and "SAR" not in amount
    done()
    done = in_language("en")
    assert format_money(Decimal("12875.00"), "SAR") == "SAR\u00a012,875.00"
    done()


def test_shares_and_file_sizes_are_in_the_language(in_language):
    done = in_language("ar")
    assert format_share(41.9) == "41.9%"  # no space: "41.9 %" is not how either language writes it
    assert format_file_size(8900) == "8.9 كيلوبايت"
    done()
    done = in_language("en")
    assert format_share(41.9) == "41.9%"
    assert format_file_size(8900) == "8.9 kB"
    done()


def test_sla_event_shows_its_due_time_in_local_words_not_utc(in_language):
    done = in_language("en")
    text = describe_change(MessageKind.EVENT, "sla_breached", "resolution · due 2026-11-26 08:00 UTC")
    assert "UTC" not in text and "2026-11-26" not in text
    assert "26 Nov 2026, 11:00 AM" in text
    done()


def test_ticket_page_shows_the_amounts_and_dates_of_the_language(client, login):
    customer = make_customer()
    order = make_order(customer, total="12875.00", days_ago=3)
    ticket = make_ticket(customer=customer, order=order)
    login(make_staff())
    arabic = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "12875.00 SAR" not in arabic and "12,875.00" in arabic and "ر.س" in arabic
    assert not ARABIC_INDIC.search(arabic)
    english = client.get(f"/agent/tickets/{ticket.number}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert english.count("SAR\u00a012,875.00") >= 2  # the order and the lifetime value
    assert not US_DATE.search(english)


def test_the_arabic_catalog_writes_latin_digits_like_every_page():
    from tests.test_i18n import ROOT

    catalog = (ROOT / "translations/ar/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    assert ARABIC_INDIC.findall(catalog) == []


@pytest.mark.parametrize(
    ("language", "minutes", "words"),
    [
        ("ar", 95, "ساعة و35 دقيقة"),
        ("ar", 496 * 60, "496 ساعة"),
        ("ar", 180, "3 ساعات"),
        ("en", 95, "1 hour and 35 minutes"),
        ("en", 30, "30 minutes"),
    ],
)
def test_business_durations_are_words_with_plural_forms(in_language, language, minutes, words):
    from helpdesk.sla.badges import business_duration

    done = in_language(language)
    assert business_duration(minutes) == words
    done()
