"""The client address behind proxies: the login log and the public-form limit believe only TRUSTED_PROXIES hops."""
from __future__ import annotations

from sqlalchemy import select

from tests.helpers import FormClient
from tests.workflow.test_self_registration import _application


def _failed_login_ip(flask_app, username: str, forwarded: str) -> str:
    client = FormClient(flask_app.test_client())
    client.post_form("/login/", {"username": username, "password": "wrong-Pass-1"},
                     headers={"X-Forwarded-For": forwarded})
    log = flask_app.extensions["safety"].models.engine["LoginLog"]
    with flask_app.app_context():
        return flask_app.extensions["safety"].session.scalar(
            select(log.ip).where(log.username == username).order_by(log.id.desc()).limit(1))


def test_without_trusted_proxies_a_spoofed_header_is_not_recorded(db_app):
    assert db_app.config["TRUSTED_PROXIES"] == 0
    assert _failed_login_ip(db_app, "nobody-1", "203.0.113.7") == "127.0.0.1"


def test_with_one_trusted_proxy_its_forwarded_address_is_recorded(db_app):
    db_app.config["TRUSTED_PROXIES"] = 1
    try:
        # the client wrote the first address itself; the proxy appended the one it saw: only that one counts
        assert _failed_login_ip(db_app, "nobody-2", "198.51.100.1, 203.0.113.7") == "203.0.113.7"
    finally:
        db_app.config["TRUSTED_PROXIES"] = 0


def _send(flask_app, forwarded: str) -> int:
    return FormClient(flask_app.test_client()).post_form(
        "/public/enterprise_application", _application(), headers={"X-Forwarded-For": forwarded}).status_code


def test_the_public_form_limit_counts_per_real_address(db_app):
    configured = db_app.config["PUBLIC_FORM_RATE_LIMIT"]
    db_app.config["PUBLIC_FORM_RATE_LIMIT"] = "2 per hour"
    try:
        # no trusted proxy: changing the header does not give a sender a fresh bucket
        assert [_send(db_app, f"203.0.113.{n}") for n in range(3)] == [302, 302, 429]
        db_app.appbuilder.sm.limiter.reset()
        # one trusted proxy: two senders behind it no longer share one bucket
        db_app.config["TRUSTED_PROXIES"] = 1
        assert [_send(db_app, "203.0.113.10") for _ in range(3)] == [302, 302, 429]
        assert _send(db_app, "203.0.113.11") == 302
    finally:
        db_app.config["PUBLIC_FORM_RATE_LIMIT"] = configured
        db_app.config["TRUSTED_PROXIES"] = 0
        db_app.appbuilder.sm.limiter.reset()
