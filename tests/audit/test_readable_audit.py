"""修改记录 and 操作日志 as people read them: referenced rows by their label with the id, 新增/修改/删除 as the
operation, the display name of who did it, and account events (created, role, active, password reset and
change) in the operation log."""
from __future__ import annotations

import re

from tests.helpers import FormClient, login, visible_text
from tests.security import factory
from tests.workflow.helpers import client_for
from tests.workflow.test_hazard_flow import add_hazard, county, hazard_form  # noqa: F401 - the fixture


def _rename(app, username: str, name: str) -> None:
    sm = app.appbuilder.sm
    with app.app_context():
        user = sm.find_user(username=username)
        user.first_name = name
        sm.session.commit()


def _history(html: str) -> str:
    text = visible_text(html)
    return text[text.index("修改前"):]


def test_the_change_history_shows_labels_operations_and_names(db_app, county):  # noqa: F811
    _rename(db_app, county["enterprise"], "企业填报员 张三")
    company = client_for(db_app, county["enterprise"])
    hazard = add_hazard(company, county["enterprise_id"])
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        name = str(svc.session.get(svc.models["enterprise"], county["enterprise_id"],
                                   execution_options={"include_all_rows": True}))
    regulator = client_for(db_app, county["regulator"])
    history = _history(regulator.get(f"/r/hazard/show/{hazard}").get_data(as_text=True))
    assert f"企业名称 {name} (#{county['enterprise_id']})" in history
    assert f"企业填报员 张三 ({county['enterprise']})" in history
    assert "新增" in history and "创建时间" not in history
    assert not re.search(rf"企业名称 {county['enterprise_id']}\b", history)  # never the bare id


def test_the_operation_log_shows_labels_operations_and_names(admin, db_app, county):  # noqa: F811
    _rename(db_app, county["enterprise"], "企业填报员 张三")
    company = client_for(db_app, county["enterprise"])
    hazard = add_hazard(company, county["enterprise_id"])
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        hazard_title = str(svc.session.get(svc.models["hazard"], hazard, execution_options={"include_all_rows": True}))
        name = str(svc.session.get(svc.models["enterprise"], county["enterprise_id"],
                                   execution_options={"include_all_rows": True}))
    text = visible_text(admin.get("/audit/changes/?f.register=hazard").get_data(as_text=True))
    log = text[text.index("修改后"):]
    assert f"企业填报员 张三 ({county['enterprise']})" in log
    assert f"{hazard_title} (#{hazard})" in log and "新增" in log and "创建时间" not in log
    assert f"企业名称：{name} (#{county['enterprise_id']})" in log


def test_account_events_are_in_the_operation_log(admin, db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        org = factory.make_org(svc, region="320411")
        org_id, org_name = org.id, str(org)
    created = admin.post_form("/accounts/add", {"username": "wang_qiang", "first_name": "王强", "mobile": "",
                                                "organisation": str(org_id), "role": "inspector"},
                              follow_redirects=True)
    first = re.search(r"初始密码[：:]\s*(\S+?)[（(]", visible_text(created.get_data(as_text=True)))
    user_id = factory_user_id(db_app, "wang_qiang")
    reset = admin.post_form(f"/accounts/{user_id}/reset", {}, page_url="/accounts/", follow_redirects=True)
    told = re.search(r"重置为 (Aq@\w{12})", visible_text(reset.get_data(as_text=True))).group(1)
    admin.post_form(f"/accounts/{user_id}/toggle", {}, page_url="/accounts/")
    admin.post_form(f"/accounts/{user_id}/toggle", {}, page_url="/accounts/")
    # the owner changes the reset password
    owner = FormClient(db_app.test_client())
    login(owner, "wang_qiang", told)
    assert owner.post_form("/account/password", {"current": told, "new": "Wang#Qiang2024",
                                                 "confirm": "Wang#Qiang2024"}).status_code == 302
    text = visible_text(admin.get("/audit/changes/?f.register=account&size=50").get_data(as_text=True))
    log = text[text.index("修改后"):]
    assert "账号管理" in log and f"王强 (wang_qiang) (#{user_id})" in log
    assert "登录名：wang_qiang" in log and "角色：检查员" in log and f"所属单位：{org_name} (#{org_id})" in log
    assert "密码 重置为初始密码" in log and "密码 已设置新密码" in log
    assert "启用 是 否" in log and "启用 否 是" in log
    assert "新增" in log and "修改" in log
    assert first is not None or "wang_qiang" in log  # the creation message named the first password
    # no password or hash is ever written to the log
    assert told not in log and "pbkdf2" not in log and "scrypt" not in log


def factory_user_id(app, username: str) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=username).id


def test_an_operation_log_entry_shows_every_value_of_its_save_in_full(admin, db_app, county):  # noqa: F811
    """The list cuts a created record's values at 80 characters; the entry's page, opened from its time, shows
    each field on its own line in full, and a later save's fields before and after. An organisation's
    administrator opens only the entries of its own scope."""
    company = client_for(db_app, county["enterprise"])
    hazard = add_hazard(company, county["enterprise_id"])
    long_cause = "设备老化、" * 40 + "未按期检修"
    edited = company.post_form(f"/r/hazard/edit/{hazard}", hazard_form(county["enterprise_id"], cause=long_cause))
    assert edited.status_code == 302
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        name = str(svc.session.get(svc.models["enterprise"], county["enterprise_id"],
                                   execution_options={"include_all_rows": True}))
    html = admin.get(f"/audit/changes/?f.register=hazard&f.row_id={hazard}").get_data(as_text=True)
    assert long_cause not in visible_text(html)   # the list shows it cut short
    links = re.findall(r'<a href="(/audit/changes/\d+)" class="audit-entry-link">', html)
    assert len(links) >= 2
    pages = [admin.get(link) for link in links]
    assert all(p.status_code == 200 for p in pages)
    texts = [visible_text(p.get_data(as_text=True)) for p in pages]
    created = next(t for t in texts if "操作 新增" in t)
    assert f"企业名称 {name} (#{county['enterprise_id']})" in created   # a line a field: label, value
    assert f"(#{hazard})" in created
    changed = next(t for t in texts if "操作 修改" in t)
    assert long_cause in changed and "原因" in changed
    assert "返回操作日志" in changed
    # the record links to its page for a reader who may view the register
    assert f'href="/r/hazard/show/{hazard}"' in pages[0].get_data(as_text=True)
    assert admin.get("/audit/changes/999999999").status_code == 404
    # an organisation's administrator: the entries its list shows open, those of another county do not
    with db_app.app_context():
        away_admin = factory.make_user(db_app, "org_admin", factory.make_org(svc, region="211302")).username
    home_admin = client_for(db_app, county["admin"])
    with db_app.app_context():
        home_org = db_app.appbuilder.sm.find_user(username=county["admin"]).organisation_id
    assert home_admin.post_form("/accounts/add", {"username": "li_na", "first_name": "李娜", "mobile": "",
                                                  "organisation": str(home_org), "role": "inspector"},
                                page_url="/accounts/add").status_code in (200, 302)
    shown = re.findall(r'<a href="(/audit/changes/\d+)" class="audit-entry-link">',
                       home_admin.get("/audit/changes/?size=200").get_data(as_text=True))
    assert shown and all(home_admin.get(link).status_code == 200 for link in shown)
    away = client_for(db_app, away_admin)
    assert not set(shown) & set(re.findall(r'<a href="(/audit/changes/\d+)" class="audit-entry-link">',
                                           away.get("/audit/changes/?size=200").get_data(as_text=True)))
    assert all(away.get(link).status_code == 404 for link in shown + links)
