"""A write checks only the references it changes: an inspector of one department edits a campaign check of an
enterprise of another department (which he cannot see) as long as the check keeps pointing to it."""
from __future__ import annotations

from tests.security import factory


def _check_of_another_department(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        housing = factory.make_org(svc, department="housing")
        inspector = factory.make_user(db_app, "inspector", housing).username
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        other = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        check = factory.make_row(svc, "gas_check", {"enterprise": enterprise, "region": factory.HOME_TOWNSHIP},
                                 organisation_id=housing.id)
        return inspector, check.id, enterprise.id, other.id


def test_an_edit_keeping_an_unseen_reference_is_saved(db_app, api_as):
    inspector, check_id, enterprise_id, other_id = _check_of_another_department(db_app)
    client = api_as(inspector)
    assert client.get(f"/api/v1/enterprise/{enterprise_id}").status_code == 404  # not his department's

    response = client.put(f"/api/v1/gas_check/{check_id}", json={"contact": "王伟"})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["contact"], response.get_json()["enterprise"]) == ("王伟", enterprise_id)

    # choosing an enterprise he cannot see is still refused, on the field
    moved = client.put(f"/api/v1/gas_check/{check_id}", json={"enterprise": other_id})
    assert moved.status_code == 422
    assert moved.get_json()["fields"] == {"enterprise": ["所选记录不存在或无权访问。"]}


def test_the_form_saves_an_edit_keeping_an_unseen_reference_and_refuses_choosing_one(db_app):
    from tests.security.test_writes import _client

    inspector, check_id, enterprise_id, other_id = _check_of_another_department(db_app)
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        check = svc.session.get(svc.models["gas_check"], check_id)
        form = {"task": str(check.task_id), "enterprise": str(enterprise_id), "enterprise_name": check.enterprise_name,
                "region": check.region, "contact": "李娜"}
    client = _client(db_app, inspector)
    response = client.post_form(f"/r/gas_check/edit/{check_id}", form)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with db_app.app_context():
        check = svc.session.get(svc.models["gas_check"], check_id)
        assert (check.contact, check.enterprise_id) == ("李娜", enterprise_id)

    refused = client.post_form(f"/r/gas_check/edit/{check_id}", {**form, "enterprise": str(other_id)})
    assert refused.status_code == 200 and "所选记录不存在或无权访问。" in refused.get_data(as_text=True)
    with db_app.app_context():
        assert svc.session.get(svc.models["gas_check"], check_id).enterprise_id == enterprise_id
