"""催报 from 填报情况 (single and bulk reminders to the enterprises that have not reported this cycle, audited) and
a regulator's read-only view as an enterprise (查看企业端: scoped, bannered, every write refused, audited)."""
from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from tests.helpers import visible_text
from tests.security import factory
from tests.workflow.helpers import alerts, client_for, inbox

PAGE = f"/frequency/self_inspection_reporting/{factory.HOME_TOWNSHIP}"


def _audit(app, action):
    svc = app.extensions["safety"]
    with app.app_context():
        AuditLog = svc.models.engine["AuditLog"]
        return [(r.row_id, r.field, r.username, json.loads(r.new_value)) for r in svc.session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def _cycle(app):
    svc = app.extensions["safety"]
    today = date.today()
    with app.app_context():
        home = factory.make_org(svc)

        def enterprise(name, cycle="monthly"):
            return factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency",
                                                        "status": "producing", "report_cycle": cycle,
                                                        "report_status": "normal", "name": name})

        done, late, silent = enterprise("常州按时上报化工有限公司"), enterprise("常州逾期上报化工有限公司"), \
            enterprise("常州从未上报化工有限公司", "quarterly")
        factory.make_row(svc, "self_inspection_report", {"enterprise": done, "period": "本月",
                                                         "reported_on": today - timedelta(days=3)})
        factory.make_row(svc, "self_inspection_report", {"enterprise": late, "period": "上上月",
                                                         "reported_on": today - timedelta(days=70)})
        return {"regulator": factory.make_user(app, "regulator", home).username,
                "away": factory.make_user(app, "regulator", factory.make_org(svc, region="211302")).username,
                "done": factory.make_user(app, "enterprise_user", enterprise_key=done.uscc).username,
                "late": factory.make_user(app, "enterprise_user", enterprise_key=late.uscc).username,
                "silent": factory.make_user(app, "enterprise_user", enterprise_key=silent.uscc).username,
                "ids": {"done": done.id, "late": late.id, "silent": silent.id}}


def test_single_and_bulk_reminders_reach_only_those_who_have_not_reported(db_app):
    c = _cycle(db_app)
    regulator = client_for(db_app, c["regulator"])
    page = regulator.get(PAGE).get_data(as_text=True)
    assert "常州逾期上报化工有限公司" in visible_text(page) and "催报" in visible_text(page)

    # one reminder, from the row's button
    response = regulator.post_form(f"{PAGE}/remind", {"one": str(c["ids"]["late"])}, page_url=PAGE)
    assert response.status_code == 302
    assert "已向 1 家企业发送催报" in alerts(regulator.get(PAGE).get_data(as_text=True))
    assert "请按查报周期上报隐患排查情况：常州逾期上报化工有限公司" in inbox(client_for(db_app, c["late"]))
    assert "请按查报周期上报隐患排查情况" not in inbox(client_for(db_app, c["silent"]))

    # all of the township: the one who reported in time is left out; the one reminded today is not told twice
    regulator.post_form(f"{PAGE}/remind", {"all": "1"}, page_url=PAGE)
    assert inbox(client_for(db_app, c["late"])).count("请按查报周期上报隐患排查情况") == 1
    assert "请按查报周期上报隐患排查情况：常州从未上报化工有限公司" in inbox(client_for(db_app, c["silent"]))
    assert "请按查报周期上报隐患排查情况" not in inbox(client_for(db_app, c["done"]))
    # an id sent by hand for an enterprise that did report is ignored
    regulator.post_form(f"{PAGE}/remind", {"subject": str(c["ids"]["done"])}, page_url=PAGE)
    assert "请按查报周期上报隐患排查情况" not in inbox(client_for(db_app, c["done"]))

    logged = _audit(db_app, "remind")
    assert [(row, field) for row, field, _, _ in logged] == [
        (c["ids"]["late"], "self_inspection_reporting"), (c["ids"]["late"], "self_inspection_reporting"),
        (c["ids"]["silent"], "self_inspection_reporting")]
    assert logged[0][2] == c["regulator"] and logged[0][3] == {"told": [c["late"]]}
    assert logged[1][3] == {"told": []}
    # the page says when each was last reminded
    assert date.today().isoformat() in visible_text(regulator.get(PAGE).get_data(as_text=True))

    # another county's regulator reminds nobody here; an enterprise may not remind
    away = client_for(db_app, c["away"])
    away.post_form(f"{PAGE}/remind", {"all": "1"}, page_url="/workflow/inbox")
    assert len(_audit(db_app, "remind")) == 3
    company = client_for(db_app, c["late"])
    assert company.post_form(f"{PAGE}/remind", {"all": "1"}, page_url="/workflow/inbox").status_code == 403


def test_a_regulator_views_as_an_enterprise_read_only_and_leaves(db_app, county):
    svc = db_app.extensions["safety"]
    admin = client_for(db_app, county["admin"])
    eid = county["enterprise_id"]
    show = admin.get(f"/r/enterprise/show/{eid}").get_data(as_text=True)
    assert "查看企业端" in visible_text(show)

    response = admin.post_form(f"/view-as/{eid}", {}, page_url=f"/r/enterprise/show/{eid}")
    assert response.status_code == 302
    home = admin.get("/").get_data(as_text=True)
    assert 'id="view-as-banner"' in home and county["enterprise_name"] in visible_text(home)
    # the enterprise's scope: its own row, not the other enterprise's; its menu (no account screens)
    assert admin.get(f"/r/enterprise/show/{eid}").status_code == 200
    assert admin.get(f"/r/enterprise/show/{county['other_id']}").status_code == 403
    listing = visible_text(admin.get("/r/enterprise/list/").get_data(as_text=True))
    assert county["enterprise_name"] in listing
    # every write refused: a form, a REST call, a transition, marking messages read
    edit = admin.get(f"/r/enterprise/edit/{eid}")
    assert edit.status_code in (200, 403)
    with db_app.app_context():
        before = svc.session.execute(select(svc.models["enterprise"].name).where(
            svc.models["enterprise"].id == eid).execution_options(unscoped_reason="test")).scalar_one()
    for url, data in ((f"/r/enterprise/edit/{eid}", {"name": "被改名的企业"}),
                      ("/r/self_inspection_report/add", {"enterprise": str(eid), "period": "本月",
                                                          "reported_on": date.today().isoformat()}),
                      ("/workflow/inbox/read", {})):
        assert admin.post_form(url, data, page_url="/workflow/inbox").status_code == 403
    assert admin.client.put(f"/api/v1/enterprise/{eid}", json={"name": "被改名的企业"}).status_code in (401, 403)
    with db_app.app_context():
        after = svc.session.execute(select(svc.models["enterprise"].name).where(
            svc.models["enterprise"].id == eid).execution_options(unscoped_reason="test")).scalar_one()
        Report = svc.models["self_inspection_report"]
        assert after == before and svc.session.execute(select(Report.id).execution_options(
            unscoped_reason="test")).first() is None

    # one click to leave: back on the enterprise's page as the regulator, writes allowed again
    response = admin.post_form("/view-as/stop", {}, page_url="/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/enterprise/show/{eid}")
    page = admin.get(f"/r/enterprise/show/{county['other_id']}").get_data(as_text=True)
    assert 'id="view-as-banner"' not in page and "查看企业端" in visible_text(page)
    logged = _audit(db_app, "view_as")
    assert [(row, field, user) for row, field, user, _ in logged] == [
        (eid, "start", county["admin"]), (eid, "stop", county["admin"])]
    assert logged[0][3] == {"account": county["enterprise"]}


def test_view_as_only_for_regulators_within_their_scope(db_app, county):
    eid = county["enterprise_id"]
    away = client_for(db_app, county["away"])
    assert away.post_form(f"/view-as/{eid}", {}, page_url="/workflow/inbox").status_code in (403, 404)
    company = client_for(db_app, county["enterprise"])
    assert "查看企业端" not in visible_text(company.get(f"/r/enterprise/show/{eid}").get_data(as_text=True))
    assert company.post_form(f"/view-as/{county['other_id']}", {}, page_url="/workflow/inbox").status_code == 403
    assert _audit(db_app, "view_as") == []
