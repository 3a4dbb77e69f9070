"""Every page names its icon, so browsers stop asking for a /favicon.ico that answered 404."""

import re

from tests.factories import make_staff


def test_pages_link_an_svg_icon_that_is_served(client, login):
    pages = ["/", "/login", "/kb/search?q=x"]
    for url in pages:
        page = client.get(url).get_data(as_text=True)
        link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
        assert link, url
    icon = client.get(link.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).lstrip().startswith("<svg")
    login(make_staff())
    assert link.group(1) in client.get("/agent").get_data(as_text=True)


def test_favicon_ico_leads_to_the_icon_instead_of_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/static/favicon.svg")
    assert client.get("/favicon.ico", follow_redirects=True).status_code == 200
