"""The emergency-command registers (应急指挥) and their knowledge base through HTTP, as their roles: add, list, show,
edit; "see all, edit own organisation" on the form, the URL and the API; enterprise plans kept to their enterprise;
the plan filing workflow (备案); an expert import with a bad row; the demo rows on real places."""
from __future__ import annotations

import base64
import io
import itertools
import re
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.excel.test_import import _upload
from tests.excel.workbook import fill
from tests.helpers import FormClient, login, visible_text
from tests.security import factory
from tests.workflow.helpers import PDF, state_of, stored, take

SEE_ALL_EDIT_OWN = ["emergency_agency", "emergency_person", "committee_member", "expert_group", "expert",
                    "rescue_team", "equipment", "supply", "shelter", "camera", "support_agency"]
KNOWLEDGE = ["accident_case", "hazardous_process", "dangerous_goods"]
JURISDICTION = ["emergency_event", "emergency_plan"]
NEW_REGISTERS = SEE_ALL_EDIT_OWN + KNOWLEDGE + JURISDICTION
# a value each register's form accepts where the generic one would not (a pattern the generator cannot guess)
_NUMBERS = itertools.count(5000)  # every form its own values (unique fields, such as a mobile number)
SPECIAL = {("dangerous_goods", "hazard_class"): "6.1", ("dangerous_goods", "un_number"): "1230",
           ("emergency_plan", "review_due_on"): "2029-01-10"}


def _client(app: Any, username: str) -> FormClient:
    client = FormClient(app.test_client())
    login(client, username, factory.PASSWORD)
    return client


def _api(app: Any, username: str) -> tuple[Any, dict[str, str]]:
    token = base64.b64encode(f"{username}:{factory.PASSWORD}".encode()).decode()
    return app.test_client(), {"Authorization": f"Basic {token}"}


def _form_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "y" if value else ""
    return str(value)


def _form(app: Any, register: str, owner_org: Any, text: str) -> dict[str, str]:
    """A valid add form for ``register``: every field a user fills in, references to rows of ``owner_org``."""
    svc = app.extensions["safety"]
    spec = svc.registry.register(register)
    data: dict[str, str] = {}
    n = next(_NUMBERS)
    for field in spec.fields:
        if field.read_only or field.type in ("attachment", "image", "children") or field.name == "state":
            continue
        if (register, field.name) in SPECIAL:
            data[field.name] = SPECIAL[(register, field.name)]
        elif field.type == "reference":
            if field.required:
                with app.app_context():
                    data[field.name] = str(factory.make_row(svc, field.target, organisation_id=owner_org.id).id)
        elif field.type == "geo":
            data[f"{field.name}_lat"], data[f"{field.name}_lng"] = "31.8106", "119.9741"
        elif field.name == spec.title_field:
            data[field.name] = text
        elif field.required or field.required_when or field.type in ("date", "datetime"):
            with app.app_context():
                data[field.name] = _form_value(factory.value_for(svc, spec, field, n, {}))
    if register == "emergency_event":  # received after it occurred (a cross-field rule)
        data["occurred_at"], data["received_at"] = "2026-11-18T09:42", "2026-11-18T09:55"
    return data


@pytest.fixture
def orgs(db_app):
    """The city (常州) and the county below it (新北区), each with an administrator and a regulator; another
    county elsewhere (朝阳) with its administrator; an inspector of the county."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        city = factory.make_org(svc, region="3204")
        county = factory.make_row(svc, "organisation", {"region": "320411", "department": "emergency",
                                                        "level": "county", "parent": city})
        away = factory.make_org(svc, region="2113")
        people = {
            "city_admin": factory.make_user(db_app, "org_admin", city).username,
            "county_admin": factory.make_user(db_app, "org_admin", county).username,
            "county_regulator": factory.make_user(db_app, "regulator", county).username,
            "county_inspector": factory.make_user(db_app, "inspector", county).username,
            "away_admin": factory.make_user(db_app, "org_admin", away).username,
        }
        # plain ids: the rows outlive this session
        return {"city": factory_row(city.id), "county": factory_row(county.id), "away": factory_row(away.id),
                **people}


class factory_row:  # noqa: N801 - stands for a row: its id only
    def __init__(self, row_id: int):
        self.id = row_id


def _added_id(app: Any, register: str, title: str) -> int:
    svc = app.extensions["safety"]
    model = svc.models[register]
    spec = svc.registry.register(register)
    with app.app_context():
        return svc.session.scalar(select(model.id).where(getattr(model, spec.title_field) == title)
                                  .execution_options(include_all_rows=True))


@pytest.mark.parametrize("register", NEW_REGISTERS)
def test_add_list_show_edit_as_each_role(db_app, orgs, register):
    spec = db_app.extensions["safety"].registry.register(register)
    writers = [("county_admin", "org_admin")] + ([("county_regulator", "regulator")]
                                                 if any("regulator" in r.roles and "add" in r.action_set
                                                        for r in spec.access) else [])
    for number, (user, role) in enumerate(writers, start=1):
        client = _client(db_app, orgs[user])
        title = f"新北区测试{spec.label.zh}{number}"
        response = client.post_form(f"/r/{register}/add", _form(db_app, register, orgs["county"], title))
        assert response.status_code == 302, (role, visible_text(response.get_data(as_text=True))[-800:])
        row_id = _added_id(db_app, register, title)
        row = stored(db_app, register, row_id)
        assert row.organisation_id == orgs["county"].id  # the adding account's organisation owns the row
        assert title in visible_text(client.get(f"/r/{register}/list/").get_data(as_text=True))
        assert title in visible_text(client.get(f"/r/{register}/show/{row_id}").get_data(as_text=True))
        changed = f"{title}（已修改）"
        form = _form(db_app, register, orgs["county"], changed)
        response = client.post_form(f"/r/{register}/edit/{row_id}", form)
        assert response.status_code == 302, (role, visible_text(response.get_data(as_text=True))[-800:])
        assert getattr(stored(db_app, register, row_id), spec.title_field) == changed
    # a role that only reads: the county's inspector finds the row on the list and its page
    inspector = _client(db_app, orgs["county_inspector"])
    assert changed in visible_text(inspector.get(f"/r/{register}/list/").get_data(as_text=True))
    assert changed in visible_text(inspector.get(f"/r/{register}/show/{row_id}").get_data(as_text=True))
    assert inspector.get(f"/r/{register}/edit/{row_id}").status_code == 403


@pytest.mark.parametrize("register", SEE_ALL_EDIT_OWN + KNOWLEDGE)
def test_everyone_sees_all_but_another_organisation_cannot_change_it(db_app, orgs, register):
    svc = db_app.extensions["safety"]
    spec = svc.registry.register(register)
    county = _client(db_app, orgs["county_admin"])
    title = f"新北区自有{spec.label.zh}"
    assert county.post_form(f"/r/{register}/add", _form(db_app, register, orgs["county"], title)).status_code == 302
    row_id = _added_id(db_app, register, title)

    away = _client(db_app, orgs["away_admin"])  # 朝阳: far outside 新北区, sees the row all the same
    assert title in visible_text(away.get(f"/r/{register}/list/").get_data(as_text=True))
    page = away.get(f"/r/{register}/show/{row_id}").get_data(as_text=True)
    assert title in visible_text(page) and f"/r/{register}/edit/{row_id}" not in page  # no edit button offered
    # the URL: the edit form is not opened
    assert away.get(f"/r/{register}/edit/{row_id}").status_code == 403
    # the form: a posted edit (the token from a page it may open) is refused and nothing changes
    form = _form(db_app, register, orgs["away"], "朝阳改写的标题")
    refused = away.post_form(f"/r/{register}/edit/{row_id}", form, page_url=f"/r/{register}/list/")
    assert refused.status_code == 403
    assert away.post_form(f"/r/{register}/delete/{row_id}", {}, page_url=f"/r/{register}/list/").status_code == 403
    # the API: read, yes; change or delete, 403
    api, headers = _api(db_app, orgs["away_admin"])
    assert api.get(f"/api/v1/{register}/{row_id}", headers=headers).status_code == 200
    put = api.put(f"/api/v1/{register}/{row_id}", json={spec.title_field: "朝阳改写的标题"}, headers=headers)
    assert put.status_code == 403, put.get_data(as_text=True)
    assert api.delete(f"/api/v1/{register}/{row_id}", headers=headers).status_code == 403
    assert getattr(stored(db_app, register, row_id), spec.title_field) == title
    # while its own organisation changes it through the API
    api, headers = _api(db_app, orgs["county_admin"])
    own = api.put(f"/api/v1/{register}/{row_id}", json={spec.title_field: f"{title}2"}, headers=headers)
    assert own.status_code == 200, own.get_data(as_text=True)


def _enterprise_account(app: Any, region: str = factory.HOME_TOWNSHIP) -> tuple[Any, str]:
    svc = app.extensions["safety"]
    with app.app_context():
        company = factory.make_row(svc, "enterprise", {"region": region, "department": "emergency",
                                                       "uscc": factory.make_uscc()})
        factory.make_user(app, "enterprise_user", None, company.uscc)
        return company, company.uscc


def _plan_form(name: str, region: str = factory.HOME_TOWNSHIP) -> dict[str, Any]:
    return {"name": name, "plan_type": "comprehensive", "plan_level": "enterprise", "region": region,
            "plan_version": "V1.0", "issued_on": "2026-01-10", "document": (io.BytesIO(PDF), f"{name}.pdf")}


def _add_plan(client: FormClient, name: str) -> None:
    response = client.post_form("/r/emergency_plan/add", _plan_form(name), content_type="multipart/form-data")
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[-800:]


def test_an_enterprise_sees_only_its_own_plans(db_app, orgs):
    first, first_login = _enterprise_account(db_app)
    second, second_login = _enterprise_account(db_app)
    one, other = _client(db_app, first_login), _client(db_app, second_login)
    _add_plan(one, "甲企业综合应急预案")
    _add_plan(other, "乙企业综合应急预案")
    mine = _added_id(db_app, "emergency_plan", "甲企业综合应急预案")
    theirs = _added_id(db_app, "emergency_plan", "乙企业综合应急预案")
    assert stored(db_app, "emergency_plan", mine).enterprise_id == first.id  # filled in with its own enterprise
    listing = visible_text(one.get("/r/emergency_plan/list/").get_data(as_text=True))
    assert "甲企业综合应急预案" in listing and "乙企业综合应急预案" not in listing
    assert one.get(f"/r/emergency_plan/show/{theirs}").status_code in (403, 404)
    assert one.get(f"/r/emergency_plan/edit/{theirs}").status_code in (403, 404)
    api, headers = _api(db_app, first_login)
    assert api.get(f"/api/v1/emergency_plan/{theirs}", headers=headers).status_code == 404
    names = [r["name"] for r in api.get("/api/v1/emergency_plan/", headers=headers).get_json()["items"]]
    assert names == ["甲企业综合应急预案"]
    # the county regulator sees both plans of its jurisdiction
    county = visible_text(_client(db_app, orgs["county_regulator"]).get("/r/emergency_plan/list/")
                          .get_data(as_text=True))
    assert "甲企业综合应急预案" in county and "乙企业综合应急预案" in county


def test_an_enterprise_plan_is_submitted_returned_submitted_again_and_filed(db_app, orgs):
    company, company_login = _enterprise_account(db_app)
    enterprise = _client(db_app, company_login)
    _add_plan(enterprise, "丙企业危险化学品泄漏专项应急预案")
    plan = _added_id(db_app, "emergency_plan", "丙企业危险化学品泄漏专项应急预案")
    assert state_of(db_app, "emergency_plan", plan) == "draft"

    take(enterprise, "emergency_plan", plan, "submit")
    assert state_of(db_app, "emergency_plan", plan) == "submitted"
    assert stored(db_app, "emergency_plan", plan).submitted_on == date.today()
    # submitted: frozen for the enterprise
    assert enterprise.post_form(f"/r/emergency_plan/edit/{plan}", _plan_form("改名"), content_type="multipart/form-data",
                                page_url="/workflow/inbox").status_code in (200, 302, 403)
    assert stored(db_app, "emergency_plan", plan).name == "丙企业危险化学品泄漏专项应急预案"
    # the enterprise cannot file its own plan
    take(enterprise, "emergency_plan", plan, "file")
    assert state_of(db_app, "emergency_plan", plan) == "submitted"

    regulator = _client(db_app, orgs["county_regulator"])
    take(regulator, "emergency_plan", plan, "return", comment="缺少应急处置卡")
    row = stored(db_app, "emergency_plan", plan)
    assert row.state == "returned" and row.review_comment == "缺少应急处置卡"
    assert "缺少应急处置卡" in visible_text(enterprise.get(f"/r/emergency_plan/show/{plan}").get_data(as_text=True))

    take(enterprise, "emergency_plan", plan, "submit")
    take(regulator, "emergency_plan", plan, "file")
    row = stored(db_app, "emergency_plan", plan)
    assert row.state == "filed" and row.filed_on == date.today() and row.filing_authority
    page = visible_text(enterprise.get(f"/r/emergency_plan/show/{plan}").get_data(as_text=True))
    assert "已备案" in page
    # a filed plan is kept
    assert enterprise.post_form(f"/r/emergency_plan/delete/{plan}", {},
                                page_url="/workflow/inbox").status_code in (302, 403)
    assert stored(db_app, "emergency_plan", plan) is not None


def test_an_organisation_plan_is_filed_by_the_organisation_above(db_app, orgs):
    county = _client(db_app, orgs["county_admin"])
    form = _plan_form("新北区生产安全事故应急预案", region="320411")
    form["plan_level"] = "county"
    assert county.post_form("/r/emergency_plan/add", form, content_type="multipart/form-data").status_code == 302
    plan = _added_id(db_app, "emergency_plan", "新北区生产安全事故应急预案")
    take(county, "emergency_plan", plan, "submit_own")
    assert state_of(db_app, "emergency_plan", plan) == "submitted"
    take(county, "emergency_plan", plan, "file_own")  # not its own filing
    assert state_of(db_app, "emergency_plan", plan) == "submitted"
    take(_client(db_app, orgs["city_admin"]), "emergency_plan", plan, "file_own")
    assert state_of(db_app, "emergency_plan", plan) == "filed"


def test_a_plans_region_follows_its_enterprise_and_an_organisations_plan_chooses_it(db_app, orgs):
    company, login_key = _enterprise_account(db_app, region="320411004")
    enterprise_client = _client(db_app, login_key)
    # a region typed for an enterprise's plan is not kept: its enterprise's region is (its regulator files it)
    form = _plan_form("丁企业专项应急预案", region="320412001")
    assert enterprise_client.post_form("/r/emergency_plan/add", form,
                                       content_type="multipart/form-data").status_code == 302
    assert stored(db_app, "emergency_plan", _added_id(db_app, "emergency_plan", "丁企业专项应急预案")).region \
        == "320411004"
    # an organisation's own plan has no enterprise: its region must be chosen, and the choice is kept
    county = _client(db_app, orgs["county_admin"])
    form = _plan_form("新北区危化品事故专项应急预案", region="")
    form["plan_level"] = "county"
    refused = county.post_form("/r/emergency_plan/add", form, content_type="multipart/form-data")
    assert refused.status_code == 200 and "此项为必填项" in visible_text(refused.get_data(as_text=True))
    form = _plan_form("新北区危化品事故专项应急预案", region="320411")
    form["plan_level"] = "county"
    assert county.post_form("/r/emergency_plan/add", form, content_type="multipart/form-data").status_code == 302
    assert stored(db_app, "emergency_plan",
                  _added_id(db_app, "emergency_plan", "新北区危化品事故专项应急预案")).region == "320411"


def test_an_expert_import_reports_the_bad_row_and_column_and_writes_nothing(db_app, orgs):
    import openpyxl

    county = _client(db_app, orgs["county_regulator"])
    template = county.get("/r/expert/template")
    assert template.status_code == 200
    header = [str(c.value).lstrip("*") for c in openpyxl.load_workbook(io.BytesIO(template.data)).worksheets[1][1]]
    assert header[:5] == ["专家姓名", "专业领域", "职称", "联系电话", "工作单位"]

    def line(name: str, mobile: str) -> list[Any]:
        values = {"专家姓名": name, "专业领域": "危险化学品", "职称": "正高级", "联系电话": mobile, "工作单位": "常州大学",
                  "所在地区": "江苏省/常州市/新北区", "经度": 119.9640, "纬度": 31.8210}  # a point: two columns
        return [values.get(column) for column in header]

    rows = [line("陈建国", "13961120001"), line("朱丽华", "1396112"), line("蒋伟", "13961120003")]
    _, page = _upload(county, "expert", fill(template.data, rows), name="专家.xlsx")
    assert "未写入任何数据" in page
    assert re.search(r"\b3 联系电话 ", page), page[-1500:]  # row 3 of the sheet, column 联系电话
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        assert svc.session.scalar(select(func.count()).select_from(svc.models["expert"])
                                  .execution_options(include_all_rows=True)) == 0

    # corrected, the file goes in, owned by the importing organisation
    rows[1] = line("朱丽华", "13961120002")
    _, page = _upload(county, "expert", fill(template.data, rows), name="专家.xlsx")
    assert "新增 3 条" in page
    with db_app.app_context():
        model = svc.models["expert"]
        experts = svc.session.scalars(select(model).execution_options(include_all_rows=True)).all()
        assert {e.organisation_id for e in experts} == {orgs["county"].id}
        assert {round(float(e.location_lat), 4) for e in experts} == {31.8210}


def test_the_demo_has_emergency_rows_on_real_places(db_app):
    runner = db_app.test_cli_runner()
    for command in (["demo", "load"], ["demo", "workflows"]):
        done = runner.invoke(args=command)
        assert done.exit_code == 0, done.output
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        for register in NEW_REGISTERS:
            model = svc.models[register]
            rows = svc.session.scalars(select(model).execution_options(include_all_rows=True)).all()
            assert rows, f"no demo rows in {register}"
            spec = svc.registry.register(register)
            if "location" in spec.field_map:
                # 常州 and around it (the demo's places), WGS-84
                placed = [r for r in rows if r.location_lat is not None]
                assert placed and all(31.6 < float(r.location_lat) < 32.1 and 119.8 < float(r.location_lng) < 120.1
                                      for r in placed), register
        processes = svc.session.scalars(select(svc.models["hazardous_process"].name)).all()
        assert len(processes) == 18 and "硝化工艺" in processes
        plans = svc.models["emergency_plan"]
        states = dict(svc.session.execute(select(plans.state, func.count()).group_by(plans.state)
                                          .execution_options(include_all_rows=True)).all())
        assert states == {"filed": 2, "submitted": 1, "returned": 1, "draft": 1}
        event = svc.session.scalar(select(svc.models["emergency_event"])
                                   .where(svc.models["emergency_event"].title.like("%甲苯泄漏%")))
        assert [r.kind for r in sorted(event.reports, key=lambda r: r.reported_at)] == ["first", "follow_up", "final"]
