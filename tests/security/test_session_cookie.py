"""The session cookie is written only when the session changes. Re-sent with every response, a stylesheet, a
script or the site's icon answered after a language switch or a sign-out carried the cookie its request was sent
with, and the browser put the old session back (an English page came back in Chinese; a signed-out tab was signed
in again)."""
from __future__ import annotations

from tests.helpers import FormClient, login, visible_text

from . import factory

ASSETS = ("/static/css/app.css", "/static/img/favicon.svg", "/favicon.ico", "/gis_map/static/gis_map.js")


def sets_cookie(response) -> bool:
    return any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie"))


def test_assets_and_repeated_pages_leave_the_session_cookie_alone(db_app):
    with db_app.app_context():
        username = factory.make_user(db_app, "regulator", factory.make_org(db_app.extensions["safety"])).username
    client = FormClient(db_app.test_client())
    assert sets_cookie(login(client, username, factory.PASSWORD))   # signing in writes it
    client.get("/")
    for url in ASSETS:
        response = client.get(url)
        assert response.status_code in (200, 301), url
        assert not sets_cookie(response), url
    assert not sets_cookie(client.get("/"))   # the idle clock is written at most once a minute

    # the race itself: a stylesheet requested with the Chinese session is answered after the switch to English
    before = client.client.get_cookie("session").value
    assert sets_cookie(client.get("/lang/en"))
    after = client.client.get_cookie("session").value
    client.client.set_cookie("session", before)
    late = client.get("/static/css/app.css")
    assert not sets_cookie(late)   # nothing for the browser to put back
    client.client.set_cookie("session", after)
    assert "My account" in visible_text(client.get("/").get_data(as_text=True))

    # signed out, a late asset does not sign the browser in again
    signed_in = client.client.get_cookie("session").value
    client.get("/logout/")
    client.client.set_cookie("session", signed_in)
    assert not sets_cookie(client.get("/static/css/app.css"))
