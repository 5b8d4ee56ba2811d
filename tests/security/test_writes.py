"""Writes are checked on the server with the same rule as reads, whatever path carries them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.security.actor import acting_as, actor_for
from app.security.policy import AccessDenied
from tests.helpers import FormClient, field_errors, login, visible_text

from . import factory
from .test_scope_matrix import scoped_app  # noqa: F401 - the fixture


def _client(app, username):
    client = FormClient(app.test_client())
    login(client, username, factory.PASSWORD)
    return client


def _enterprise(app, **anchors):
    svc = app.extensions["safety"]
    with app.app_context():
        row = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency",
                                                   **anchors})
        return row.id, row.uscc


def _stored(app, register, row_id):
    svc = app.extensions["safety"]
    model = svc.models[register]
    with app.app_context():
        return svc.session.execute(select(model).where(model.id == row_id)
                                   .execution_options(include_all_rows=True)).scalar_one_or_none()


@pytest.fixture
def county(db_app):
    """A county regulator (新北区, 应急) and its administrator."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        regulator = factory.make_user(db_app, "regulator", home).username
        admin = factory.make_user(db_app, "org_admin", home).username
    return {"regulator": regulator, "admin": admin}


def _form(row_id, app, **override):
    row = _stored(app, "enterprise", row_id)
    data = {"name": row.name, "uscc": row.uscc, "enterprise_type": row.enterprise_type, "region": row.region,
            "address": row.address, "legal_representative": row.legal_representative,
            "department": row.department, "status": row.status}
    data.update(override)
    return data


def _refused(response) -> bool:
    """Refused on the screen: 403, or the form shown again with the jurisdiction error on the region field."""
    return response.status_code == 403 or (
        response.status_code == 200 and "请在本辖区内选择" in visible_text(response.get_data(as_text=True)))


def test_moving_a_row_out_of_the_jurisdiction_is_refused(db_app, county):
    row_id, _ = _enterprise(db_app)
    client = _client(db_app, county["regulator"])
    response = client.post_form(f"/r/enterprise/edit/{row_id}", _form(row_id, db_app, region=factory.AWAY_TOWNSHIP))
    # the region picker's own check refuses it on the form; the write path would answer 403 behind it
    assert _refused(response)
    assert _stored(db_app, "enterprise", row_id).region == factory.HOME_TOWNSHIP


def test_adding_a_row_outside_the_jurisdiction_is_refused_on_the_screen_and_the_api(db_app, county):
    client = _client(db_app, county["admin"])
    data = _form(_enterprise(db_app)[0], db_app, region=factory.AWAY_TOWNSHIP, uscc=factory.make_uscc(), name="外地企业")
    assert _refused(client.post_form("/r/enterprise/add", data))
    import base64
    auth = {"Authorization": "Basic " + base64.b64encode(f"{county['admin']}:{factory.PASSWORD}".encode()).decode()}
    answer = client.client.post("/api/v1/enterprise/", json=data, headers=auth)
    # refused as a field error on region (the jurisdiction check of the region field), or by the write path
    assert answer.status_code == 403 or (answer.status_code == 422 and "region" in answer.get_json()["fields"])
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        names = svc.session.scalars(select(svc.models["enterprise"].name)
                                    .execution_options(include_all_rows=True)).all()
    assert "外地企业" not in names


def test_an_enterprise_account_cannot_change_its_own_classification(db_app):
    row_id, code = _enterprise(db_app)
    with db_app.app_context():
        factory.make_user(db_app, "enterprise_user", enterprise_key=code)
    client = _client(db_app, code)
    form_page = client.get(f"/r/enterprise/edit/{row_id}").get_data(as_text=True)
    # its name and address change through a correction the regulator reviews (enterprise_correction)
    assert 'name="uscc"' not in form_page and 'name="grade"' not in form_page and 'name="address"' not in form_page
    assert 'name="safety_manager"' in form_page
    address = _stored(db_app, "enterprise", row_id).address
    response = client.post_form(f"/r/enterprise/edit/{row_id}", _form(row_id, db_app, grade="A", uscc="13900000000",
                                                                       address="新地址1号", safety_manager="周明"))
    assert response.status_code == 302
    row = _stored(db_app, "enterprise", row_id)
    assert (row.grade, row.uscc, row.address, row.safety_manager) == (None, code, address, "周明")
    import base64
    auth = {"Authorization": "Basic " + base64.b64encode(f"{code}:{factory.PASSWORD}".encode()).decode()}
    refused = client.client.put(f"/api/v1/enterprise/{row_id}", json={"grade": "A"}, headers=auth)
    assert refused.status_code == 422 and refused.get_json()["fields"] == {"grade": ["此字段为只读。"]}


def test_reference_pickers_only_offer_and_accept_rows_in_scope(scoped_app):
    svc = scoped_app.extensions["safety"]
    with scoped_app.app_context():
        home = factory.make_org(svc)
        chief = factory.make_user(scoped_app, "chief", home).username
        near = factory.make_row(svc, "company", {"area": factory.HOME_TOWNSHIP, "title": "近处公司"}).id
        far = factory.make_row(svc, "company", {"area": factory.AWAY_TOWNSHIP, "title": "远处公司"}).id
    client = _client(scoped_app, chief)
    offered = {r["id"] for r in client.get("/r/company/lookup?q=公司").get_json()["results"]}
    assert near in offered and far not in offered
    html = client.post_form("/r/visit/add", {"company": str(far), "remark": "走访"}).get_data(as_text=True)
    assert field_errors(html, "company") == ["所选记录不存在或无权访问。"]
    assert client.post_form("/r/visit/add", {"company": str(near), "remark": "走访"}).status_code == 302


def test_the_flush_check_stands_without_any_screen(db_app, county):
    """The last line: an ORM write made as a regulator outside its jurisdiction is refused at flush."""
    row_id, _ = _enterprise(db_app, region=factory.AWAY_TOWNSHIP)
    svc = db_app.extensions["safety"]
    with db_app.test_request_context():
        user = db_app.appbuilder.sm.find_user(username=county["regulator"])
        with acting_as(actor_for(user)):
            row = svc.session.execute(select(svc.models["enterprise"]).where(svc.models["enterprise"].id == row_id)
                                      .execution_options(include_all_rows=True)).scalar_one()
            row.name = "改名"
            with pytest.raises(AccessDenied):
                svc.session.commit()
            svc.session.rollback()
            # and the read side: the same query without the escape hatch finds nothing
            from app.records import scoped_get
            assert scoped_get(svc.session, svc.models["enterprise"], row_id) is None
    assert _stored(db_app, "enterprise", row_id).name != "改名"


def test_hidden_fields_cannot_be_sorted_filtered_searched_or_read_in_the_history(scoped_app):
    svc = scoped_app.extensions["safety"]
    with scoped_app.app_context():
        home = factory.make_org(svc)
        viewer = factory.make_user(scoped_app, "viewer", home).username
        low = factory.make_row(svc, "company", {"area": factory.HOME_TOWNSHIP, "rating": "AAA", "title": "甲公司"})
        high = factory.make_row(svc, "company", {"area": factory.HOME_TOWNSHIP, "rating": "ZZZ", "title": "乙公司"})
        low.rating = "BBB"  # a change the history would show
        svc.session.commit()
        low_id, high_id = low.id, high.id
    client = _client(scoped_app, viewer)
    import re
    ids = lambda q: [int(i) for i in re.findall(r'<tr data-id="(\d+)"', client.get(f"/r/company/list/?{q}").get_data(as_text=True))]  # noqa: E731
    assert ids("sort=rating") == ids("sort=-rating")  # the sort on a hidden field is ignored
    page = client.get(f"/r/company/show/{low_id}").get_data(as_text=True)
    assert "BBB" not in page and "AAA" not in page
    item = client.client.get(f"/api/v1/company/{low_id}").get_json()
    assert "rating" not in item and item["title"] == "甲公司"
    assert {low_id, high_id} <= set(ids(""))


def test_an_account_that_must_change_its_password_cannot_use_the_api(db_app):
    import base64
    _, code = _enterprise(db_app)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{code}:{factory.first_password(db_app, code)}".encode()).decode()}
    response = db_app.test_client().get("/api/v1/enterprise/", headers=auth)
    assert response.status_code == 403 and "password" in response.get_json()["error"]


def test_a_corrected_enterprise_code_moves_its_account(db_app, county):
    row_id, code = _enterprise(db_app)
    client = _client(db_app, county["admin"])
    new_code = factory.make_uscc()
    assert client.post_form(f"/r/enterprise/edit/{row_id}", _form(row_id, db_app, uscc=new_code)).status_code == 302
    with db_app.app_context():
        sm = db_app.appbuilder.sm
        assert sm.find_user(username=code) is None
        assert sm.find_user(username=new_code).enterprise_key == new_code


def test_child_row_counts_are_enforced(admin, db_app):
    html = admin.post_form("/r/checklist/add", {"name": "加油站检查清单", "kind": "independent"}).get_data(as_text=True)
    assert field_errors(html, "items") == ["至少需要 1 行。"]
    admin.get("/lang/en")
    english = admin.post_form("/r/checklist/add", {"name": "加油站检查清单", "kind": "independent"})
    assert field_errors(english.get_data(as_text=True), "items") == ["At least 1 row is needed."]   # not "row(s)"
    admin.get("/lang/zh_Hans")
    ok = admin.post_form("/r/checklist/add", {"name": "加油站检查清单", "kind": "independent",
                                              "items-0-stage": "储存", "items-0-content": "油罐区设置防火堤"})
    assert ok.status_code == 302
