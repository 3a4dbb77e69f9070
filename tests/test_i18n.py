import re
from pathlib import Path

from babel.messages.pofile import read_po

from tests.factories import PASSWORD, make_staff

ROOT = Path(__file__).resolve().parents[1]


def html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.get_data(as_text=True)).group(0)


def test_arabic_is_the_default_and_pages_are_rtl(client):
    response = client.get("/")
    assert html_tag(response) == '<html lang="ar" dir="rtl">'
    assert "كيف يمكننا مساعدتك اليوم؟" in response.get_data(as_text=True)


def test_english_browsers_get_english_ltr(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert html_tag(response) == '<html lang="en" dir="ltr">'
    assert "How can we help you today?" in response.get_data(as_text=True)


def test_arabic_is_chosen_from_accept_language(client):
    response = client.get("/", headers={"Accept-Language": "fr-FR,ar-SA;q=0.8,en;q=0.5"})
    assert html_tag(response) == '<html lang="ar" dir="rtl">'


def test_language_switch_is_remembered_in_the_session(client):
    response = client.submit("/language", {"language": "en", "next": "/login"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    page = client.get("/", headers={"Accept-Language": "ar"})
    assert html_tag(page) == '<html lang="en" dir="ltr">'


def test_language_switch_is_saved_on_the_account(app, client, login):
    agent = make_staff()
    login(agent)
    client.submit("/language", {"language": "en"})
    assert agent.language == "en"
    # Another browser: after sign-in the account's language wins over the browser's.
    other_browser = app.test_client()
    response = other_browser.submit("/staff/login", {"email": agent.email, "password": PASSWORD})
    assert response.status_code == 302
    page = other_browser.get("/agent", headers={"Accept-Language": "ar"})
    assert html_tag(page) == '<html lang="en" dir="ltr">'


def test_unknown_language_is_refused(client):
    response = client.submit("/language", {"language": "xx"})
    assert response.status_code == 303
    assert html_tag(client.get("/")) == '<html lang="ar" dir="rtl">'


def test_every_message_has_an_arabic_translation():
    with open(ROOT / "translations/ar/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="ar")
    missing = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert missing == []
    assert fuzzy == []


def test_catalog_covers_every_string_in_code_and_templates():
    """Extract the strings now and compare with the catalog, so a new string can't skip translation."""
    from babel.messages.extract import extract_from_dir

    extracted = set()
    method_map = [("helpdesk/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    skipped = {"node_modules", "__pycache__", "tests", "bench", "migrations"}

    def wanted(path: str) -> bool:
        name = Path(path).name
        return not name.startswith(".") and name not in skipped

    for _file, _line, message, _comments, _ctx in extract_from_dir(
        ROOT, method_map=method_map, keywords=keywords, directory_filter=wanted
    ):
        extracted.add(message if isinstance(message, str) else message[0])
    with open(ROOT / "translations/ar/LC_MESSAGES/messages.po", "rb") as f:
        catalog_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert extracted - catalog_ids == set(), "run `make i18n-extract` and translate the new strings"


def test_stylesheet_uses_logical_properties_only():
    css = (ROOT / "helpdesk/static/css/helpdesk.css").read_text()
    physical = re.findall(
        r"(?:margin|padding|border)-(?:left|right)\b|(?<![-\w])(?:left|right)\s*:|text-align:\s*(?:left|right)",
        css,
    )
    assert physical == []


def test_wtforms_own_messages_follow_the_request_language(app):
    """WTForms' catalogue is parsed once per language and process, and each request gets its own."""
    from werkzeug.datastructures import MultiDict

    from helpdesk.admin.forms import NewStaffForm

    for accept, required in (
        ("ar", "هذا الحقل مطلوب."),
        ("en", "This field is required."),
        ("ar", "هذا الحقل مطلوب."),
    ):
        with app.app_context(), app.test_request_context("/", headers={"Accept-Language": accept}):
            app.preprocess_request()
            form = NewStaffForm(formdata=MultiDict({"role": "nobody"}), meta={"csrf": False})
            assert not form.validate()
            assert form.name.errors == [required]
            assert form.role.errors == ["اختيار غير صحيح." if accept == "ar" else "Not a valid choice."]
