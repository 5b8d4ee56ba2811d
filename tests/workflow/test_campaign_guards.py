"""The campaign guards declared in the shipped YAML, tried as the levels' own accounts on every path: a copy
received from above cannot be deleted (deletable), an enterprise list is frozen while its task is submitted,
approved or closed (frozen_while), finished rows leave 我的待办 (todo: false), and a county opens, read only, the
task its copy came from (reveals)."""
from __future__ import annotations

import base64
import io
import re
from datetime import date, timedelta

import openpyxl

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import visible_text
from tests.security import factory

from .campaign import _rows, _task_of, province  # noqa: F401 (province is a fixture)
from .helpers import PDF, alerts, buttons, client_for, state_of, stored, take


def _api(client, username, password=factory.PASSWORD):
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {auth}"}


def _issue_down(db_app, province, register="cp_task", county_issues=True):
    """The province issues a task, the city issues its copy; the county (新北区) issues its own when asked.
    Returns the ids of the province's, the city's and 新北区's tasks."""
    p = province["people"]
    js, cz, xb = (client_for(db_app, p[k]) for k in ("js", "cz", "xb"))
    js.post_form(f"/r/{register}/add", {"title": "2026年度专项任务", "year": "2026", "region": "32",
                                        "deadline": (date.today() + timedelta(days=30)).isoformat()})
    root = _rows(db_app, register)[0].id
    take(js, register, root, "issue")
    city = _task_of(db_app, register, province["orgs"]["cz"]).id
    take(cz, register, city, "issue")
    county = _task_of(db_app, register, province["orgs"]["xb"]).id
    if county_issues:
        take(xb, register, county, "issue")
    return root, city, county


def _verified_and_submitted(db_app, province, task_register="cp_task", list_register="cp_enterprise"):
    """新北区 confirms its list and submits it upward; returns (its task id, its list's ids)."""
    xb = client_for(db_app, province["people"]["xb"])
    _root, _city, county = _issue_down(db_app, province, task_register)
    listed = [r.id for r in _rows(db_app, list_register, task_id=county)]
    for row_id in listed:
        take(xb, list_register, row_id, "confirm")
    take(xb, task_register, county, "submit", files=[("上报（盖章）.pdf", PDF)])
    assert state_of(db_app, task_register, county) == "submitted"
    return county, listed


# ---------------------------------------------------------------- deletable

def test_a_received_copy_cannot_be_deleted_on_any_path(db_app, province, admin):
    p = province["people"]
    xb = client_for(db_app, p["xb"])
    root, city, county = _issue_down(db_app, province, county_issues=False)
    assert state_of(db_app, "cp_task", county) == "received"
    delete_url = f"/r/cp_task/delete/{county}"

    # no delete button, neither on the copy's page nor on its line of the list
    assert delete_url not in xb.get(f"/r/cp_task/show/{county}").get_data(as_text=True)
    assert delete_url not in xb.get("/r/cp_task/list/").get_data(as_text=True)

    # the URL posted by hand: refused with the reason, the copy stays
    page = xb.post_form(delete_url, {}, page_url="/workflow/inbox", follow_redirects=True)
    assert "上级下发的任务副本不能删除" in alerts(page.get_data(as_text=True))
    assert stored(db_app, "cp_task", county) is not None

    # the REST API: a JSON refusal, the copy stays
    response = xb.client.delete(f"/api/v1/cp_task/{county}", headers=_api(xb, p["xb"]))
    assert response.status_code == 409 and "上级下发的任务副本不能删除" in response.get_json()["message"]
    assert stored(db_app, "cp_task", county) is not None

    # the administrator is held by the same rule (it is the data's, not a role's)
    page = admin.post_form(delete_url, {}, page_url="/workflow/inbox", follow_redirects=True)
    assert "上级下发的任务副本不能删除" in alerts(page.get_data(as_text=True))
    assert admin.client.delete(f"/api/v1/cp_task/{county}", headers=_api(admin, "admin", ADMIN_PASSWORD)
                               ).status_code == 409
    assert stored(db_app, "cp_task", county) is not None

    # an issued task is not deleted either (its copies below depend on it), whoever made it
    js = client_for(db_app, p["js"])
    page = js.post_form(f"/r/cp_task/delete/{root}", {}, page_url="/workflow/inbox", follow_redirects=True)
    assert "已部署" in alerts(page.get_data(as_text=True)) and stored(db_app, "cp_task", root) is not None

    # a task made at this level by mistake, not yet issued, is deleted as before
    js.post_form("/r/cp_task/add", {"title": "误建的任务", "year": "2026", "region": "32",
                                    "deadline": date.today().isoformat()})
    mistake = next(r.id for r in _rows(db_app, "cp_task") if r.title == "误建的任务")
    assert f"/r/cp_task/delete/{mistake}" in js.get(f"/r/cp_task/show/{mistake}").get_data(as_text=True)
    assert js.post_form(f"/r/cp_task/delete/{mistake}", {}, page_url="/workflow/inbox").status_code == 302
    assert stored(db_app, "cp_task", mistake) is None
    assert city  # the city's copy is untouched by all of this
    assert [r.id for r in _rows(db_app, "cp_task", parent_task_id=city)] != []


def test_a_verified_enterprise_row_is_not_deleted(db_app, province):
    xb = client_for(db_app, province["people"]["xb"])
    _root, _city, county = _issue_down(db_app, province)
    first, second = (r.id for r in _rows(db_app, "cp_enterprise", task_id=county))
    take(xb, "cp_enterprise", first, "confirm")
    listing = xb.get(f"/r/cp_enterprise/list/?f.task={county}").get_data(as_text=True)
    assert f"/r/cp_enterprise/delete/{first}" not in listing and f"/r/cp_enterprise/delete/{second}" in listing
    response = xb.client.delete(f"/api/v1/cp_enterprise/{first}", headers=_api(xb, province["people"]["xb"]))
    assert response.status_code == 409 and "已核实（是）" in response.get_json()["message"]
    assert stored(db_app, "cp_enterprise", first) is not None


# ---------------------------------------------------------------- frozen_while

def test_an_enterprise_list_is_frozen_while_its_task_is_submitted_or_approved(db_app, province):
    p = province["people"]
    xb, cz = client_for(db_app, p["xb"]), client_for(db_app, p["cz"])
    county, listed = _verified_and_submitted(db_app, province)
    row_id = listed[0]
    reason = "所属任务已上报、审核通过或办结，企业名单不能再更改"

    def still_confirmed():
        assert state_of(db_app, "cp_enterprise", row_id) == "confirmed"

    # the page: 重新核实 greyed with the reason, no edit button
    page = xb.get(f"/r/cp_enterprise/show/{row_id}").get_data(as_text=True)
    assert buttons(page) == [] and reason in visible_text(page)
    assert re.search(r'workflow-blocked" disabled title="' + reason, page)
    assert f"/r/cp_enterprise/edit/{row_id}" not in page
    # the button's URL posted anyway, the API's transition
    assert reason in alerts(take(xb, "cp_enterprise", row_id, "reopen", comment="再核一次").get_data(as_text=True))
    response = xb.client.post(f"/api/v1/cp_enterprise/{row_id}/transitions/reopen", json={"comment": "再核一次"},
                              headers=_api(xb, p["xb"]))
    assert response.status_code == 409 and reason in response.get_json()["message"]
    assert [t["name"] for t in xb.client.get(f"/api/v1/cp_enterprise/{row_id}/transitions",
                                             headers=_api(xb, p["xb"])).get_json()["available"]] == []
    still_confirmed()

    # a new enterprise on the submitted list: the form, the API and the import refuse it, nothing is written
    target = stored(db_app, "enterprise", province["enterprises"]["xb_closed"])
    form = {"task": str(county), "enterprise": str(target.id), "enterprise_name": target.name,
            "region": target.region}
    page = xb.post_form("/r/cp_enterprise/add", form, follow_redirects=True).get_data(as_text=True)
    assert reason in alerts(page)
    response = xb.client.post("/api/v1/cp_enterprise/", json=form, headers=_api(xb, p["xb"]))
    assert response.status_code == 409 and reason in response.get_json()["message"]
    page = _import(xb, {"所属任务": f"#{county}", "企业": f"#{target.id}", "企业名称": target.name,
                        "所属区域": "江苏省/常州市/新北区/春江街道"})
    assert reason in page
    assert len(_rows(db_app, "cp_enterprise", task_id=county)) == len(listed)

    # sent back: the list is the county's again, 重新核实 is offered
    take(cz, "cp_task", county, "send_back", comment="请复核名单")
    assert "reopen" in buttons(xb.get(f"/r/cp_enterprise/show/{row_id}").get_data(as_text=True))
    take(xb, "cp_task", county, "submit", files=[("上报（补充）.pdf", PDF)])
    take(cz, "cp_task", county, "approve")

    # approved: frozen again; the row's own state (已核实) already refuses edits (frozen_while edits: the fixture)
    page = xb.get(f"/r/cp_enterprise/show/{row_id}").get_data(as_text=True)
    assert reason in visible_text(page) and f"/r/cp_enterprise/edit/{row_id}" not in page
    before = stored(db_app, "cp_enterprise", row_id)
    xb.post_form(f"/r/cp_enterprise/edit/{row_id}", {"task": str(county), "enterprise": str(before.enterprise_id),
                                                     "enterprise_name": "改过的名称", "region": before.region},
                 page_url="/workflow/inbox")
    assert stored(db_app, "cp_enterprise", row_id).enterprise_name == before.enterprise_name
    assert reason in alerts(take(xb, "cp_enterprise", row_id, "reopen", comment="再核一次").get_data(as_text=True))
    still_confirmed()


def test_a_gas_check_is_frozen_once_its_task_is_submitted(db_app, province):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        for key in ("xb_a", "xb_b"):
            svc.session.get(svc.models["enterprise"], province["enterprises"][key]).department = "housing"
        svc.session.commit()
    p = province["people"]
    xb = client_for(db_app, p["xb"])
    county, listed = _verified_and_submitted(db_app, province, "gas_task", "gas_check")
    assert len(listed) == 2
    page = take(xb, "gas_check", listed[0], "reopen", comment="再核一次").get_data(as_text=True)
    assert "所属任务已上报、审核通过或办结" in alerts(page)
    assert state_of(db_app, "gas_check", listed[0]) == "confirmed"


def _import(client, values):
    """Upload a one-row cp_enterprise workbook filled by column title; the job page's text."""
    template = client.get("/r/cp_enterprise/template").data
    wb = openpyxl.load_workbook(io.BytesIO(template))
    sheet = wb.worksheets[1]
    header = next(r for r in sheet.iter_rows(values_only=True) if any(c for c in r if c))
    sheet.append([values.get(str(title or "").strip("* ").rstrip("*"), None) for title in header])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    response = client.post_form("/r/cp_enterprise/import", {"file": (buffer, "名单.xlsx"), "mode": "insert"},
                                page_url="/r/cp_enterprise/import", content_type="multipart/form-data")
    assert response.status_code == 302
    return visible_text(client.get(response.headers["Location"]).get_data(as_text=True))


# ---------------------------------------------------------------- todo: false

def test_finished_rows_leave_the_to_do_list(db_app, province):
    xb = client_for(db_app, province["people"]["xb"])
    _root, _city, county = _issue_down(db_app, province)
    first, second = (r.id for r in _rows(db_app, "cp_enterprise", task_id=county))
    names = {i: stored(db_app, "cp_enterprise", i).enterprise_name for i in (first, second)}

    def todo():
        return xb.get("/workflow/todo").get_data(as_text=True)

    assert names[first] in todo() and names[second] in todo()
    take(xb, "cp_enterprise", first, "confirm")
    page = todo()
    # 重新核实 is still possible on the confirmed row, yet it waits for nobody
    assert "reopen" in buttons(xb.get(f"/r/cp_enterprise/show/{first}").get_data(as_text=True))
    assert names[first] not in page and names[second] in page
    take(xb, "cp_enterprise", second, "exclude", comment="已关闭", files=[("证明.pdf", PDF)])
    assert 'id="todo-cp_enterprise"' not in todo()


# ---------------------------------------------------------------- reveals

def test_a_county_opens_the_task_it_received_from_read_only(db_app, province):
    p = province["people"]
    xb, zl = client_for(db_app, p["xb"]), client_for(db_app, p["zl"])
    root, city, county = _issue_down(db_app, province, county_issues=False)
    city_title = stored(db_app, "cp_task", city).title

    # 上级任务 on the county's copy: the city's task, as a link
    page = xb.get(f"/r/cp_task/show/{county}").get_data(as_text=True)
    assert re.search(rf'<a href="/r/cp_task/show/{city}">{re.escape(city_title)}</a>', page)
    # it opens, with nothing to press, edit or delete
    page = xb.get(f"/r/cp_task/show/{city}").get_data(as_text=True)
    assert city_title in visible_text(page) and buttons(page) == []
    assert f"/r/cp_task/edit/{city}" not in page and f"/r/cp_task/delete/{city}" not in page
    assert "workflow-blocked" not in page
    api = xb.client.get(f"/api/v1/cp_task/{city}", headers=_api(xb, p["xb"]))
    assert api.status_code == 200 and api.get_json()["title"] == city_title

    # read only on every path
    before = stored(db_app, "cp_task", city)
    assert xb.post_form(f"/r/cp_task/edit/{city}", {"title": "改", "year": "2026", "region": "3204",
                                                    "deadline": date.today().isoformat()},
                        page_url="/workflow/inbox").status_code == 403
    assert xb.client.put(f"/api/v1/cp_task/{city}", json={"requirements": "改"},
                         headers=_api(xb, p["xb"])).status_code == 403
    assert xb.client.delete(f"/api/v1/cp_task/{city}", headers=_api(xb, p["xb"])).status_code == 403
    assert "只能查看" in alerts(take(xb, "cp_task", city, "submit", files=[("x.pdf", PDF)]).get_data(as_text=True))
    after = stored(db_app, "cp_task", city)
    assert (after.requirements, after.state) == (before.requirements, before.state)
    # nothing new is attached to it either: an enterprise added to the city's list is refused
    target = stored(db_app, "enterprise", province["enterprises"]["xb_a"])
    form = {"task": str(city), "enterprise": str(target.id), "enterprise_name": target.name, "region": target.region}
    assert xb.post_form("/r/cp_enterprise/add", form).status_code == 403
    assert xb.client.post("/api/v1/cp_enterprise/", json=form, headers=_api(xb, p["xb"])).status_code == 403
    assert _rows(db_app, "cp_enterprise", task_id=city, enterprise_id=target.id) == []
    # the to-do list stays the county's own
    todo = xb.get("/workflow/todo").get_data(as_text=True)
    assert f"/r/cp_task/show/{county}" in todo and f"/r/cp_task/show/{city}" not in todo

    # only the task directly above, and only for the organisation that received from it
    assert xb.get(f"/r/cp_task/show/{root}").status_code == 403
    assert xb.client.get(f"/api/v1/cp_task/{root}", headers=_api(xb, p["xb"])).status_code in (403, 404)
    assert zl.get(f"/r/cp_task/show/{county}").status_code == 403
