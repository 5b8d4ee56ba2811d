"""预警 with a real Celery worker: a warning appears when its date passes (the day is moved through TODAY_FILE,
never slept), disappears when its cause is fixed (the recheck a user's change queues), is closed by a regulator
with a reason that stays in its history, and is seen only in the scope of the row it is about."""
from __future__ import annotations

import base64
import re
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Worker, truncate_registers
from tests.helpers import visible_text
from tests.security import factory
from tests.workflow.helpers import client_for, inbox


@pytest.fixture
def day(worker_app, tmp_path):
    """The day of the web process and of the worker: write an ISO date into the file."""
    path = tmp_path / "today.txt"
    path.write_text("2026-06-01")
    worker_app.config["TODAY_FILE"] = str(path)
    yield path
    worker_app.config["TODAY_FILE"] = None


@pytest.fixture
def dated_worker(worker_app, day):
    worker = Worker(Path(worker_app.config["UPLOAD_FOLDER"]), TODAY_FILE=str(day))
    yield worker
    worker.stop()


def warnings_of(app, **where) -> list:
    svc = app.extensions["safety"]
    Warning = svc.models.engine["Warning"]
    with app.app_context():
        found = list(svc.session.scalars(select(Warning).filter_by(**where).order_by(Warning.id)))
        svc.session.expunge_all()
        return found


def listed(client, query: str = "") -> list[tuple[int, str]]:
    """(warning id, row text) of the rows of the warning list page."""
    html = client.get(f"/warnings/?{query}").get_data(as_text=True)
    return [(int(i), visible_text(body)) for i, body in
            re.findall(r'<tr class="warning-row" data-id="(\d+)"[^>]*>(.*?)</tr>', html, re.S)]


def until(check, timeout: float = 60):
    """Wait for the worker to have run a queued task (its effect, polled in the database)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("the worker did not do it in time")


def test_a_warning_appears_when_its_date_passes_and_goes_when_fixed_or_closed(worker_app, day, dated_worker):
    truncate_registers(worker_app)
    svc = worker_app.extensions["safety"]
    with worker_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="211302")
        ours = factory.make_row(svc, "enterprise", {"name": "常州新北华锦化工有限公司", "region": factory.HOME_TOWNSHIP,
                                                    "department": "emergency"})
        theirs = factory.make_row(svc, "enterprise", {"name": "朝阳双塔宏达燃气有限公司",
                                                      "region": factory.AWAY_TOWNSHIP, "department": "emergency"})
        cert = factory.make_row(svc, "enterprise_certificate", {
            "certificate_name": "危险化学品经营许可证", "certificate_number": "苏常危化经字〔2023〕0087号",
            "issued_on": date(2023, 6, 20), "expires_on": date(2026, 6, 20)}, parent_id=ours.id)
        factory.make_row(svc, "enterprise_certificate", {
            "certificate_name": "安全生产许可证", "certificate_number": "辽朝安许〔2023〕0012号",
            "issued_on": date(2023, 6, 10), "expires_on": date(2026, 6, 10)}, parent_id=theirs.id)
        hazard = factory.make_row(svc, "hazard", {"enterprise": ours, "description": "甲类仓库未设置可燃气体报警装置",
                                                  "found_on": date(2026, 5, 20), "rectify_by": date(2026, 6, 15)})
        regulator = factory.make_user(worker_app, "regulator", home).username
        stranger = factory.make_user(worker_app, "regulator", away).username
        company = factory.make_user(worker_app, "enterprise_user", enterprise_key=ours.uscc).username
        cert_id, hazard_id = cert.id, hazard.id
    scan = worker_app.extensions["celery"].tasks["warnings.scan"]

    # 1 June: both certificates expire within 30 days; the hazard's deadline is still ahead
    scan.delay().get(timeout=60)
    [expiring] = warnings_of(worker_app, rule="certificate_expiring", row_id=cert_id)
    assert expiring.state == "open" and expiring.cause == "2026-06-20" and expiring.level == "warning"
    assert not warnings_of(worker_app, rule="hazard_overdue")
    mine = client_for(worker_app, regulator)
    rows = listed(mine)
    assert [i for i, _ in rows] == [expiring.id]  # the other county's certificate is not in this county's list
    assert "预警 企业证书即将到期 企业证书 常州新北华锦化工有限公司 · 危险化学品经营许可证 2026-06-20 剩余 19 天" in rows[0][1]
    assert len(listed(client_for(worker_app, stranger))) == 1  # its own county's certificate only

    # 21 June: the certificate has expired (the expiring warning resolves itself), the hazard is overdue
    day.write_text("2026-06-21")
    scan.delay().get(timeout=60)
    assert warnings_of(worker_app, id=expiring.id)[0].state == "resolved"
    [expired] = warnings_of(worker_app, rule="certificate_expired", row_id=cert_id)
    [overdue] = warnings_of(worker_app, rule="hazard_overdue", row_id=hazard_id)
    assert expired.level == "alarm" and overdue.state == "open"
    assert "【告警】隐患整改超期：已逾期6天（整改期限）：甲类仓库未设置可燃气体报警装置" in inbox(client_for(worker_app, company))
    assert "【告警】企业证书已过期：已逾期1天（有效期至）" in inbox(mine)
    english = client_for(worker_app, regulator)
    english.get("/lang/en")
    text = " ".join(t for _, t in listed(english)) + " "
    assert "Overdue by 1 day " in text and "Overdue by 6 days" in text and "day(s)" not in text, text
    assert "overdue by 1 day (" in inbox(english) and "day(s)" not in inbox(english)
    home_page = visible_text(mine.get("/").get_data(as_text=True))
    assert re.search(r"预警\s+告警\s+2\s+预警\s+0\s+提示\s+0", home_page), home_page[:400]
    # the enterprise sees its own warnings, not the other county's
    assert {i for i, _ in listed(client_for(worker_app, company))} == {expired.id, overdue.id}

    # the cause fixed: the regulator moves the deadline (REST API); the recheck queued after the commit resolves it
    auth = base64.b64encode(f"{regulator}:{factory.PASSWORD}".encode()).decode()
    put = mine.client.put(f"/api/v1/hazard/{hazard_id}", json={"rectify_by": "2026-07-31"},
                          headers={"Authorization": f"Basic {auth}"})
    assert put.status_code == 200, put.get_data(as_text=True)
    until(lambda: warnings_of(worker_app, id=overdue.id)[0].state == "resolved")
    assert overdue.id not in {i for i, _ in listed(mine)}

    # closed by a regulator with a reason: not by another county, not by the enterprise, not without a reason
    token = mine.csrf_token("/warnings/")
    other = client_for(worker_app, stranger)
    assert other.post(f"/warnings/{expired.id}/close", data={
        "reason": "越权关闭", "csrf_token": other.csrf_token("/warnings/")}).status_code == 404
    refused = client_for(worker_app, company)
    assert refused.post(f"/warnings/{expired.id}/close", data={
        "reason": "自行关闭", "csrf_token": refused.csrf_token("/workflow/inbox")}).status_code == 403
    mine.post(f"/warnings/{expired.id}/close", data={"reason": "", "csrf_token": token})
    assert warnings_of(worker_app, id=expired.id)[0].state == "open"
    mine.post(f"/warnings/{expired.id}/close", data={"reason": "企业已停止经营，许可证注销手续办理中",
                                                     "csrf_token": token})
    closed = warnings_of(worker_app, id=expired.id)[0]
    assert closed.state == "closed" and closed.reason == "企业已停止经营，许可证注销手续办理中"
    assert closed.closed_by_id is not None and closed.ended_at is not None
    # kept in the history: the closed list shows who closed it and why; the next scan does not open it again
    scan.delay().get(timeout=60)
    assert [w.state for w in warnings_of(worker_app, rule="certificate_expired", row_id=cert_id)] == ["closed"]
    history = dict(listed(mine, "state=closed"))
    assert "企业已停止经营，许可证注销手续办理中" in history[expired.id]
    assert not listed(mine, "state=open&register=enterprise_certificate")
