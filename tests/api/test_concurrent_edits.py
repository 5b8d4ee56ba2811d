"""Two people editing one row: the second save is refused with who changed it and when, the first change is kept
and the second person's input stays on the form; on the API, If-Match with the ETag of the GET."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tests.helpers import FormClient, login, visible_text
from tests.security import factory


def _hazard_form(enterprise_id: int, description: str) -> dict:
    today = date.today()
    return {"enterprise": str(enterprise_id), "description": description, "level": "general",
            "source": "inspection", "found_on": today.isoformat(),
            "rectify_by": (today + timedelta(days=10)).isoformat()}


def _stored(db_app, hazard_id: int):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["hazard"]
        return svc.session.execute(select(model.description, model.version).where(model.id == hazard_id)
                                   .execution_options(unscoped_reason="test")).one()


def _signed_in(db_app, username: str) -> FormClient:
    client = FormClient(db_app.test_client())
    login(client, username, factory.PASSWORD)
    return client


@pytest.fixture
def hazard_id(county, api_as) -> int:
    made = api_as(county["regulator"]).post("/api/v1/hazard/", json={
        **_hazard_form(county["enterprise_id"], "储罐区未设置围堰"), "enterprise": county["enterprise_id"]})
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def _form_version(html: str) -> str:
    return re.search(r'name="_version" value="(\d+)"', html).group(1)


def test_the_second_of_two_editors_is_told_who_saved_first_and_keeps_its_input(db_app, county, hazard_id):
    first, second = _signed_in(db_app, county["regulator"]), _signed_in(db_app, county["admin"])
    url = f"/r/hazard/edit/{hazard_id}"
    # both open the form
    seen_first = _form_version(first.get(url).get_data(as_text=True))
    seen_second = _form_version(second.get(url).get_data(as_text=True))
    assert seen_first == seen_second

    saved = first.post_form(url, {**_hazard_form(county["enterprise_id"], "围堰已列入整改计划"), "_version": seen_first})
    assert saved.status_code == 302
    refused = second.post_form(url, {**_hazard_form(county["enterprise_id"], "第二人的描述"), "_version": seen_second})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200
    alert = visible_text(re.search(r'<div class="alert alert-warning form-conflict".*?</div>', html, re.S).group(0))
    assert f"此记录已被 {county['regulator']}" in alert and "修改" in alert
    assert "第二人的描述" in html  # the second person's input is still on the form
    assert _stored(db_app, hazard_id)[0] == "围堰已列入整改计划"  # the first change was not overwritten

    # the form now carries the version the second person was told about: saving again replaces it knowingly
    told = _form_version(html)
    assert told != seen_second
    again = second.post_form(url, {**_hazard_form(county["enterprise_id"], "第二人的描述"), "_version": told})
    assert again.status_code == 302
    description, version = _stored(db_app, hazard_id)
    assert description == "第二人的描述" and str(version) == str(int(told) + 1)


def test_the_api_refuses_a_change_based_on_an_old_read(db_app, county, api_as, hazard_id):
    regulator, admin = api_as(county["regulator"]), api_as(county["admin"])
    read = regulator.get(f"/api/v1/hazard/{hazard_id}")
    etag = read.headers["ETag"]
    assert read.get_json()["version"] == int(etag.strip('"'))

    changed = admin.put(f"/api/v1/hazard/{hazard_id}", json={"description": "管理员先改"}, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    late = regulator.put(f"/api/v1/hazard/{hazard_id}", json={"description": "基于旧版本的修改"},
                         headers={"If-Match": etag})
    assert late.status_code == 412
    assert late.get_json()["error"] == "precondition_failed"
    assert _stored(db_app, hazard_id)[0] == "管理员先改"

    fresh = regulator.put(f"/api/v1/hazard/{hazard_id}", json={"description": "读过新版本后修改"},
                          headers={"If-Match": changed.headers["ETag"]})
    assert fresh.status_code == 200 and _stored(db_app, hazard_id)[0] == "读过新版本后修改"


def test_a_write_racing_another_is_refused_at_the_database(db_app, county, hazard_id):
    """Two sessions read version n; the first writes n+1; the second's UPDATE … WHERE version = n matches
    nothing and is refused, whoever wrote it (a form, the API, a script)."""
    svc = db_app.extensions["safety"]
    model = svc.models["hazard"]
    with db_app.app_context():
        engine = svc.session.get_bind()
        with Session(engine) as one, Session(engine) as two:
            opts = {"unscoped_reason": "test"}
            a = one.execute(select(model).where(model.id == hazard_id).execution_options(**opts)).scalar_one()
            b = two.execute(select(model).where(model.id == hazard_id).execution_options(**opts)).scalar_one()
            a.description = "甲先保存"
            one.commit()
            b.description = "乙后保存"
            with pytest.raises(StaleDataError):
                two.commit()
    assert _stored(db_app, hazard_id)[0] == "甲先保存"
