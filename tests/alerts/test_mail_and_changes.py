"""预警 inside one process (Celery inline): a user's change is rechecked at once after its commit, the system's own
writes wait for the scan, and a warning declared with `email: true` reaches a local SMTP server."""
from __future__ import annotations

import base64
import re
import socket
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.security import factory
from tests.workflow.helpers import client_for, inbox


def _warnings(app, rule: str) -> list:
    svc = app.extensions["safety"]
    Warning = svc.models.engine["Warning"]
    with app.app_context():
        found = list(svc.session.scalars(select(Warning).where(Warning.rule == rule).order_by(Warning.id)))
        svc.session.expunge_all()
        return found


def _county(app):
    svc = app.extensions["safety"]
    with app.app_context():
        home = factory.make_org(svc)
        enterprise = factory.make_row(svc, "enterprise", {"name": "常州新北恒泰精细化工有限公司",
                                                          "region": factory.HOME_TOWNSHIP, "department": "emergency"})
        regulator = factory.make_user(app, "regulator", home)
        company = factory.make_user(app, "enterprise_user", enterprise_key=enterprise.uscc)
        return enterprise.id, regulator.username, regulator.email, company.username


def test_a_users_change_is_rechecked_after_its_commit_the_systems_waits_for_the_scan(db_app):
    enterprise_id, regulator, _, company = _county(db_app)
    svc = db_app.extensions["safety"]
    with db_app.app_context():  # the system (demo data, the command line): no recheck
        factory.make_row(svc, "hazard", {"enterprise_id": enterprise_id, "description": "系统导入的逾期隐患",
                                         "found_on": date.today() - timedelta(days=20),
                                         "rectify_by": date.today() - timedelta(days=2)})
    assert _warnings(db_app, "hazard_overdue") == []
    # the enterprise records an overdue hazard itself: told at once, the list shows it
    auth = base64.b64encode(f"{company}:{factory.PASSWORD}".encode()).decode()
    client = client_for(db_app, company)
    added = client.client.post("/api/v1/hazard/", json={
        "description": "二号罐区防火堤破损", "found_on": (date.today() - timedelta(days=10)).isoformat(),
        "rectify_by": (date.today() - timedelta(days=3)).isoformat()}, headers={"Authorization": f"Basic {auth}"})
    assert added.status_code == 201, added.get_data(as_text=True)
    [opened] = _warnings(db_app, "hazard_overdue")
    assert opened.state == "open" and opened.row_id == added.get_json()["id"]
    assert "已逾期3天（整改期限）：二号罐区防火堤破损" in inbox(client)
    assert "二号罐区防火堤破损" in inbox(client_for(db_app, regulator))
    # the scan then finds the system's row too, and tells nobody twice
    with db_app.app_context():
        from app.workflow.warnings import scan_deadlines
        assert scan_deadlines() == 2  # the enterprise and the regulator, of the system's hazard
        assert scan_deadlines() == 0
    assert len(_warnings(db_app, "hazard_overdue")) == 2


@pytest.fixture
def smtp_server():
    """aiosmtpd's debugging server on a free local port, keeping what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    class Keep(MessageHandler):
        def __init__(self):
            super().__init__()
            self.received = []

        def handle_message(self, message):
            self.received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, handler
    controller.stop()


def test_an_expired_certificate_is_mailed_through_the_configured_server(db_app, smtp_server):
    controller, handler = smtp_server
    enterprise_id, regulator, address, _ = _county(db_app)
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        factory.make_row(svc, "enterprise_certificate", {
            "certificate_name": "危险化学品经营许可证", "certificate_number": "苏常危化经字〔2023〕0101号",
            "issued_on": date(2023, 3, 1), "expires_on": date(2026, 3, 1)}, parent_id=enterprise_id)
    db_app.config.update(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port,
                         MAIL_DEFAULT_SENDER="yujing@cz-yjj.example.cn", TODAY=date(2026, 3, 5))
    try:
        with db_app.app_context():
            from app.workflow.warnings import scan_deadlines
            assert scan_deadlines() >= 2
    finally:
        db_app.config.update(MAIL_SERVER=None, TODAY=None)
    from email.header import decode_header, make_header

    def subject(mail) -> str:
        return str(make_header(decode_header(mail["Subject"])))

    mails = {m["To"]: m for m in handler.received}
    assert address in mails
    mail = mails[address]
    assert subject(mail) == "【告警】企业证书已过期" and mail["From"] == "yujing@cz-yjj.example.cn"
    body = mail.get_payload(decode=True).decode("utf-8")
    assert "已逾期4天（有效期至）：常州新北恒泰精细化工有限公司 · 危险化学品经营许可证" in body
    # the inbox message of a certificate (a row edited inside its enterprise) opens the enterprise's page
    client = client_for(db_app, regulator)
    page = client.get("/workflow/inbox").get_data(as_text=True)
    message = re.search(r'href="(/workflow/inbox/\d+/open)">【告警】企业证书已过期', page)
    assert message, page
    assert client.get(message.group(1)).headers["Location"].endswith(f"/r/enterprise/show/{enterprise_id}")
    # the warnings that do not ask for e-mail (the expiring certificate's, the deadlines') send none
    assert all(subject(m) == "【告警】企业证书已过期" for m in handler.received)
