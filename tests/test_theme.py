"""The brand (name, colour, logo) from settings, and the icons inline from the npm set."""

import re

import pytest

from helpdesk import create_app
from helpdesk.theme import contrast_text, icon
from tests.factories import make_staff


def _title_and_brand(page: str) -> tuple[str, str]:
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    brand = re.search(r'<a class="brand"[^>]*>(.*?)</a>', page, re.S).group(1)
    return title, brand


def test_default_brand_is_ours_in_the_pages_language(client):
    title, brand = _title_and_brand(client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True))
    assert "خدمة العملاء" in title and "خدمة العملاء" in brand
    assert "Helpdesk" not in title + brand  # no Latin product name on an Arabic page
    title, brand = _title_and_brand(client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "Helpdesk" in title and "Helpdesk" in brand


def test_configured_brand_names_colours_and_logos_every_page(app_config):
    app = create_app(
        {
            **app_config,
            "HELPDESK_NAME": "متجر النخبة",
            "HELPDESK_BRAND_COLOR": "#F2C94C",
            "HELPDESK_BRAND_LOGO": "/media/shop-logo.svg",
        }
    )
    client = app.test_client()
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    title, brand = _title_and_brand(page)
    assert "متجر النخبة" in title and "متجر النخبة" in brand
    assert 'src="/media/shop-logo.svg"' in brand
    assert '<meta name="theme-color" content="#f2c94c">' in page
    assert '<link rel="stylesheet" href="/brand.css">' in page
    css = client.get("/brand.css")
    assert css.mimetype == "text/css" and css.cache_control.max_age == 3600
    # A light brand colour gets dark text on its buttons.
    assert "--brand: #f2c94c; --brand-contrast: #111418;" in css.get_data(as_text=True)


def test_a_colour_that_is_not_hex_or_a_logo_from_elsewhere_is_refused_at_start(app_config):
    with pytest.raises(RuntimeError, match="HELPDESK_BRAND_COLOR"):
        create_app({**app_config, "HELPDESK_BRAND_COLOR": "red; } body { display: none"})
    with pytest.raises(RuntimeError, match="HELPDESK_BRAND_LOGO"):
        create_app({**app_config, "HELPDESK_BRAND_LOGO": "https://cdn.example/logo.svg"})


def test_brand_text_colour_reads_on_the_brand():
    assert contrast_text("#0b6b5d") == "#ffffff"
    assert contrast_text("#ffffff") == "#111418"


def test_icons_are_inline_decorative_svg_from_the_npm_set(client, login):
    svg = str(icon("inbox"))
    assert svg.startswith('<svg class="icon" aria-hidden="true" focusable="false"')
    assert "license" not in svg and 'width="24"' not in svg
    assert 'class="icon flip"' in str(icon("send", "flip"))
    with pytest.raises(LookupError):
        icon("../../etc/passwd")
    assert icon("not-copied-at-setup") == ""  # logged; the page still renders
    login(make_staff())
    page = client.get("/agent").get_data(as_text=True)
    assert page.count('<svg class="icon') >= 3 and "<use" not in page
