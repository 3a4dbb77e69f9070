"""Language choice: the user's saved language, then the session's, then Accept-Language, then Arabic."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from babel import dates, support
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_datetime, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.i18n import messages_path
from wtforms.validators import Length

RTL_LANGUAGES = {"ar"}


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


_NAMED_FORMATS = ("short", "medium", "long", "full")


def format_local_datetime(value: datetime, format: str = "medium") -> str:
    """``flask_babel.format_datetime`` for the named formats, with the patterns looked up once per
    request and locale: a queue or ticket page formats a hundred dates or more."""
    if format not in _NAMED_FORMATS or not isinstance(value, datetime) or not has_request_context():
        return format_datetime(value, format)
    locale, zone = get_locale(), get_timezone()  # per locale: emails use force_locale mid-request
    patterns = g.setdefault("_datetime_patterns", {})
    found = patterns.get((format, locale, zone))
    if found is None:
        found = patterns[(format, locale, zone)] = (
            dates.get_datetime_format(format, locale=locale).replace("'", ""),
            dates.get_time_format(format, locale=locale),
            dates.get_date_format(format, locale=locale),
        )
    joined, time_pattern, date_pattern = found
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    text = joined.replace("{0}", time_pattern.apply(local, locale))
    return text.replace("{1}", date_pattern.apply(local, locale))


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
