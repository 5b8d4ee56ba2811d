"""The REST API as a client sees it: the forms' defaults, one JSON shape for every refusal (child rows as paths),
the same answer for a row outside the scope and a row that does not exist, messages in the account's language."""
from __future__ import annotations

import json
from datetime import date, timedelta

from flask import Response
from sqlalchemy import select

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import FormClient, login

from .conftest import ApiClient

REQUIRED = "此项为必填项。"


def _is_error(response: Response, status: int, code: str | None = None) -> dict:
    """The one error shape: JSON with error, message and fields, nothing else; never a Python repr."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error", "message", "fields"}
    assert isinstance(body["message"], str) and body["message"]
    assert all(isinstance(m, list) and all(isinstance(t, str) for t in m) for m in body["fields"].values())
    assert "{'" not in response.get_data(as_text=True) and "[l'" not in response.get_data(as_text=True)
    if code:
        assert body["error"] == code
    return body


def _hazard(enterprise_id: int | None = None, **override) -> dict:
    """A hazard as a regulator sends it (an enterprise account leaves out its own enterprise: it is set for it)."""
    return {**({"enterprise": enterprise_id} if enterprise_id else {}), "description": "甲类仓库未设置可燃气体报警装置",
            "rectify_by": (date.today() + timedelta(days=20)).isoformat(), **override}


def _first_code(db_app, dictionary: str) -> str:
    with db_app.test_request_context():
        return db_app.extensions["safety"].dictionaries.choices(dictionary)[0][0]


# ---------------------------------------------------------------- defaults, as the form applies them

def test_a_new_row_takes_the_field_defaults_the_form_shows(db_app, county, api_as):
    company = api_as(county["enterprise"])
    created = company.post("/api/v1/hazard/", json=_hazard(None))
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    assert (item["found_on"], item["level"], item["source"]) == (date.today().isoformat(), "general", "self_check")

    licence = company.post("/api/v1/licence_application/", json={
        "applicant_name": "王伟", "business_mode": ["other"], "chemical_scope": ["general"],
        "licence_type": _first_code(db_app, "licence_type")})
    assert licence.status_code == 201, licence.get_json()
    assert licence.get_json()["applied_on"] == date.today().isoformat()
    assert licence.get_json()["state"] == "draft"  # 保存 keeps a draft until 确认提交

    inspector = api_as(county["inspector"])
    inspection = inspector.post("/api/v1/inspection/", json={
        "title": "春季检查", "enterprise": county["enterprise_id"], "inspectors": "李明、张强",
        "items": [{"content": "油罐区设置防火堤"}, {"content": "可燃气体报警装置", "result": "fail",
                                                    "problem": "未安装"}]})
    assert inspection.status_code == 201, inspection.get_json()
    body = inspection.get_json()
    assert (body["inspected_on"], body["kind"]) == (date.today().isoformat(), "independent")
    assert [(i["content"], i["result"]) for i in body["items"]] == [("油罐区设置防火堤", None),
                                                                     ("可燃气体报警装置", "fail")]


def test_an_edit_keeps_what_it_leaves_out(db_app, county, api_as):
    inspector = api_as(county["inspector"])
    body = inspector.post("/api/v1/inspection/", json={
        "title": "春季检查", "enterprise": county["enterprise_id"], "inspectors": "李明",
        "inspected_on": "2026-03-02", "items": [{"content": "防火堤", "result": "fail", "problem": "开裂"}]}).get_json()
    first = body["items"][0]["id"]
    changed = inspector.put(f"/api/v1/inspection/{body['id']}", json={
        "conclusion": "限期整改", "items": [{"id": first, "problem": "多处开裂"}, {"content": "报警装置"}]})
    assert changed.status_code == 200, changed.get_json()
    item = changed.get_json()
    assert (item["inspected_on"], item["title"], item["conclusion"]) == ("2026-03-02", "春季检查", "限期整改")
    assert [(i["id"] == first, i["content"], i["result"], i["problem"]) for i in item["items"]] == [
        (True, "防火堤", "fail", "多处开裂"), (False, "报警装置", None, None)]


# ---------------------------------------------------------------- one error shape

def test_field_errors_are_paths_with_messages_in_the_users_language(db_app, county, api_as):
    company = api_as(county["enterprise"])
    body = _is_error(company.post("/api/v1/hazard/", json=_hazard(None, description=None,
                                                                  level="nonsense")), 422, "invalid")
    assert body["fields"]["description"] == [REQUIRED]
    assert set(body["fields"]) == {"description", "level"}
    assert body["message"] == "部分字段填写有误。"

    inspector = api_as(county["inspector"])
    body = _is_error(inspector.post("/api/v1/inspection/", json={
        "title": "春季检查", "enterprise": county["enterprise_id"], "inspectors": "李明",
        "items": [{"content": "防火堤"}, {"result": "fail"}]}), 422, "invalid")
    assert body["fields"] == {"items[1].content": [REQUIRED]}

    body = _is_error(company.post("/api/v1/hazard/", json=_hazard(None, description={"x": 1},
                                                                  state="done", colour="red")), 422, "invalid")
    assert set(body["fields"]) == {"description", "state", "colour"}
    _is_error(company.post("/api/v1/hazard/", data="enterprise=1"), 400, "bad_request")

    with db_app.app_context():
        user = db_app.appbuilder.sm.find_user(username=county["enterprise"])
        user.locale = "en"
        db_app.extensions["safety"].session.commit()
    body = _is_error(company.post("/api/v1/hazard/", json=_hazard(None, description=None)), 422)
    assert body["message"] == "Some fields are not valid." and body["fields"]["description"] == [
        "This field is required."]


def test_every_refusal_under_the_api_is_json(db_app, county, api_as):
    company = api_as(county["enterprise"])
    _is_error(db_app.test_client().get("/api/v1/hazard/"), 401, "unauthorized")
    _is_error(ApiClient(db_app, county["enterprise"], "wrong-password").get("/api/v1/hazard/"), 401)
    not_for_enterprises = next(s.name for s in db_app.extensions["safety"].registry.registers.values()
                               if not s.parent and not any("enterprise_user" in r.roles for r in s.access))
    _is_error(company.get(f"/api/v1/{not_for_enterprises}/"), 403, "forbidden")
    hazard = company.post("/api/v1/hazard/", json=_hazard(None)).get_json()["id"]
    _is_error(company.delete(f"/api/v1/hazard/{hazard}"), 403, "forbidden")  # its rule has no delete
    _is_error(company.get("/api/v1/no_such_register/"), 404, "not_found")
    _is_error(company.get("/api/v1/hazard/1/no/such/path"), 404, "not_found")
    _is_error(company.get("/api/elsewhere"), 404, "not_found")
    _is_error(company.patch(f"/api/v1/hazard/{hazard}", json={}), 405, "method_not_allowed")
    _is_error(company.post(f"/api/v1/hazard/{hazard}/transitions/no_such_step", json={}), 404, "not_found")
    body = _is_error(company.post(f"/api/v1/hazard/{hazard}/transitions/submit", json={}), 409,
                     "transition_refused")
    assert "至少" in body["message"]
    _is_error(company.put(f"/api/v1/hazard/{hazard}", json={"state": "rectified"}), 422, "invalid")
    admin = api_as("admin")
    body = _is_error(admin.delete(f"/api/v1/enterprise/{county['enterprise_id']}"), 409, "still_referenced")
    assert "隐患" in body["message"]

    session = FormClient(db_app.test_client())
    login(session, "admin", ADMIN_PASSWORD)
    _is_error(session.client.post("/api/v1/hazard/", json=_hazard(county["enterprise_id"])), 400, "csrf_invalid")
    _is_error(admin.get("/api/v1/hazard/?q=%00"), 400, "bad_request")


def test_an_error_raised_anywhere_in_the_api_is_json(db_app):
    from app.api.errors import _json_refusals, _unexpected
    with db_app.test_request_context("/api/v1/hazard/"):
        response = _unexpected(RuntimeError("boom"))
        assert response.status_code == 500 and response.get_json()["error"] == "server_error"
        assert "boom" not in response.get_data(as_text=True)
        html = Response("<html>too many</html>", status=429, mimetype="text/html", headers={"Retry-After": "60"})
        converted = _json_refusals(html)
        assert converted.status_code == 429 and converted.get_json()["error"] == "too_many_requests"
        assert converted.headers["Retry-After"] == "60"
    with db_app.test_request_context("/r/hazard/list/"):
        html = Response("<html>too many</html>", status=429, mimetype="text/html")
        assert _json_refusals(html) is html  # the pages keep their own error pages


# ---------------------------------------------------------------- 403 and 404 tell nothing about other rows

def test_a_row_outside_the_scope_and_a_missing_row_get_the_same_answer(db_app, county, api_as):
    regulator = api_as(county["regulator"])
    hazard = regulator.post("/api/v1/hazard/", json=_hazard(county["enterprise_id"])).get_json()["id"]
    away = api_as(county["away"])
    missing = hazard + 1000
    for method, suffix, payload in (("get", "", None), ("put", "", {"description": "改"}), ("get", "/transitions", None),
                                    ("post", "/transitions/confirm", {})):
        theirs = getattr(away, method)(f"/api/v1/hazard/{hazard}{suffix}", json=payload)
        nothing = getattr(away, method)(f"/api/v1/hazard/{missing}{suffix}", json=payload)
        assert (theirs.status_code, theirs.get_data()) == (nothing.status_code, nothing.get_data()), method + suffix
        _is_error(theirs, 404, "not_found")
    admin_of_away = api_as("admin")
    assert admin_of_away.get(f"/api/v1/hazard/{hazard}").status_code == 200
    with db_app.app_context():
        model = db_app.extensions["safety"].models["hazard"]
        row = db_app.extensions["safety"].session.execute(
            select(model.description).where(model.id == hazard).execution_options(include_all_rows=True)).scalar_one()
    assert row == "甲类仓库未设置可燃气体报警装置"
    assert json.loads(away.get(f"/api/v1/hazard/{hazard}").get_data())["message"] == "记录不存在或无权查看。"
