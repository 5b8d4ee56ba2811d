"""举报线索 (003): anyone reports through the public form, without an account; the regulator of the place and
industry accepts it and closes it with the result, or declines it with the reason; others never see it."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.helpers import FormClient, visible_text
from tests.security import factory

from .helpers import buttons, client_for, state_of, stored, take


def test_a_public_report_is_accepted_investigated_and_closed(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        regulator = factory.make_user(db_app, "regulator", home).username
        away = factory.make_user(db_app, "regulator", factory.make_org(svc, region="211302")).username

    public = FormClient(db_app.test_client())
    page = public.get("/public/public_report")
    assert page.status_code == 200 and "安全生产举报" in visible_text(page.get_data(as_text=True))
    # the page names itself and the report is sent as a report (public.submit), not as an application
    html = page.get_data(as_text=True)
    assert "<title>安全生产举报 - 安全生产监管平台</title>" in html
    assert re.search(r'<button[^>]*type="submit"[^>]*>.*?提交举报\s*</button>', html, re.S)
    assert "提交申请" not in visible_text(html)
    assert "提交申请" in visible_text(public.get("/public/enterprise_application").get_data(as_text=True))
    response = public.post_form("/public/public_report", {
        "subject": "春江镇某无证加油点", "region": factory.HOME_TOWNSHIP, "department": "emergency",
        "address": "常州市新北区春江镇圩塘路北侧空地", "content": "夜间用油罐车向摩托车加油，无任何消防器材",
        "state": "closed"})
    assert response.status_code == 302
    done = visible_text(public.get(response.headers["Location"]).get_data(as_text=True))
    assert "举报已提交" in done
    with db_app.app_context():
        model = svc.models["public_report"]
        report = svc.session.scalars(select(model.id).execution_options(include_all_rows=True)).one()
    assert state_of(db_app, "public_report", report) == "received"

    assert client_for(db_app, away).get(f"/r/public_report/show/{report}").status_code == 403
    home_client = client_for(db_app, regulator)
    assert "春江镇某无证加油点" in visible_text(home_client.get("/r/public_report/list/").get_data(as_text=True))
    assert buttons(home_client.get(f"/r/public_report/show/{report}").get_data(as_text=True)) == ["accept", "decline"]
    take(home_client, "public_report", report, "accept")
    assert state_of(db_app, "public_report", report) == "investigating"
    assert stored(db_app, "public_report", report).handled_by
    take(home_client, "public_report", report, "close")                 # no result: refused
    assert state_of(db_app, "public_report", report) == "investigating"
    take(home_client, "public_report", report, "close", comment="现场核实属实，已移交执法立案")
    assert state_of(db_app, "public_report", report) == "closed"
    assert stored(db_app, "public_report", report).closed_on
