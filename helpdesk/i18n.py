"""Language choice (the user's saved language, then the session's, then Accept-Language, then Arabic)
and the one way pages write numbers, amounts, sizes and dates in it (Babel, Latin digits)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

from babel import Locale, dates, numbers, support
from babel.lists import format_list
from babel.units import format_unit
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.i18n import messages_path
from wtforms.validators import Length

RTL_LANGUAGES = {"ar"}
# Each language named in itself, as language pickers show them.
LANGUAGE_CHOICES = [("ar", "العربية"), ("en", "English")]
LANGUAGE_NAMES = dict(LANGUAGE_CHOICES)


def select_locale() -> str:
    """Outside a request (worker, CLI) the default; callers that write to a customer force theirs."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/") and request.blueprint != "api_pages":
        # Programs calling the API: the language they ask for, else English (never a session's).
        return browser_language(languages) or "en"
    user_language = getattr(current_user, "language", None) if current_user else None
    for choice in (user_language, session.get("lang")):
        if choice in languages:
            return choice
    return browser_language(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def browser_language(languages: tuple[str, ...]) -> str | None:
    """The highest-quality Accept-Language entry whose primary tag we speak (``ar-SA`` → ``ar``)."""
    for value, _quality in request.accept_languages:  # already sorted by quality
        primary = value.split("-")[0].split("_")[0].lower()
        if primary in languages:
            return primary
    return None


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def text_direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


class MaxLength(Length):
    """A form field's length limit with a message in both our languages (WTForms' own Arabic
    catalogue has no translation for most plural forms, so "200 characters" came out in English)."""

    def __init__(self, limit: int) -> None:
        super().__init__(max=limit, message=_l("Too long: %(length)d characters, at most %(max)d allowed."))


# One date style per language, the same on every page: the month in words, so "12/3/26" (March or
# December?) cannot happen, and Latin digits in Arabic too (see README "Digits in Arabic").
DATE_PATTERNS = {"ar": "d MMMM y", "en": "d MMM y"}
DATETIME_PATTERNS = {"ar": "d MMMM y، h:mm a", "en": "d MMM y, h:mm a"}


def _pattern(patterns: dict[str, str], locale: object) -> dates.DateTimePattern:
    language = str(getattr(locale, "language", locale) or "ar")
    return dates.parse_pattern(patterns.get(language, patterns["en"]))


def format_local_datetime(value: datetime, format: str = "medium") -> str:
    """A date and time in the user's time zone in the language's one style ("3 ديسمبر 2026، 2:05 م",
    "3 Dec 2026, 2:05 PM"); the named format is accepted for old callers and does not change it.
    The parsed pattern is kept per request and locale: a queue page formats a hundred dates or more."""
    if not isinstance(value, datetime):
        return format_local_date(value)
    locale, zone = get_locale() or Locale.parse("ar"), get_timezone()
    key = ("_datetime_pattern", str(locale))
    if has_request_context():
        found = g.setdefault("_datetime_patterns", {}).get(key)
        if found is None:
            found = g._datetime_patterns[key] = _pattern(DATETIME_PATTERNS, locale)
    else:
        found = _pattern(DATETIME_PATTERNS, locale)
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    return found.apply(local, locale)


def format_local_date(value: date) -> str:
    """A calendar day in the language's one style ("3 ديسمبر 2026", "3 Dec 2026")."""
    locale = get_locale() or Locale.parse("ar")
    return _pattern(DATE_PATTERNS, locale).apply(value, locale)


def format_money(amount: Decimal | float | int, currency: str) -> str:
    """An amount with its currency the language's way: "‏12,875.00 ر.س.‏", "SAR 12,875.00"."""
    text = numbers.format_currency(amount, currency, locale=get_locale() or "ar")
    return re.sub(r"^([A-Z]{3})(?=\d)", "\\1\u00a0", text)  # "SAR12" → "SAR 12" (CLDR spacing rule)


def format_number(value: float | int | Decimal, pattern: str | None = None) -> str:
    """A number with the language's grouping and decimal signs."""
    return numbers.format_decimal(value, pattern, locale=get_locale() or "ar")


def format_share(percent: float | Decimal) -> str:
    """A share given in percent (41.9) as the language writes it, one decimal: "41.9%"."""
    return numbers.format_percent(float(percent) / 100, "#,##0.0%", locale=get_locale() or "ar")


def format_file_size(size: int) -> str:
    """Bytes in words of the language ("8.9 كيلوبايت", "8.9 kB")."""
    locale = get_locale() or "ar"
    for unit, bytes_in in (("digital-megabyte", 1000**2), ("digital-kilobyte", 1000)):
        if size >= bytes_in:
            return format_unit(round(size / bytes_in, 1), unit, length="short", locale=locale)
    return format_unit(size, "digital-byte", length="short", locale=locale)


def format_word_list(items: list[str], clauses: bool = True) -> str:
    """Items joined as the language joins them. Clauses (what an automation did): "a, b, c" /
    "أ، وب، وج"; values inside a clause (``clauses=False``): "x, y, and z" / "x وy وz"."""
    return format_list(items, style="unit" if clauses else "standard", locale=get_locale() or "ar")


class _WtformsMessages:
    """WTForms' own messages ("Not a valid choice") in the request's language. Flask-WTF reads the
    catalogue file again on every request; this parses each language's once per process."""

    def ugettext(self, string: str) -> str:
        return _wtforms_catalogue(current_language()).ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(current_language()).ungettext(singular, plural, n)


@cache
def _wtforms_catalogue(language: str) -> support.Translations:
    return support.Translations.load(messages_path(), [language], domain="wtforms")


WTFORMS_MESSAGES = _WtformsMessages()


def use_cached_wtforms_messages() -> None:
    """A ``before_request`` hook: Flask-WTF takes the request's catalogue from this attribute."""
    request.wtforms_translations = WTFORMS_MESSAGES
