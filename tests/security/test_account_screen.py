"""账号管理 as the one account screen: FAB's user, role and permission screens lead to it and do nothing; the
system administrator opens any account (another administrator too), edits name, organisation and role, and
finds accounts by search and filters; an organisation's administrator is offered only what it may give."""
from __future__ import annotations

from sqlalchemy import select

from app.security.models import AppUser
from tests.helpers import FormClient, field_errors, login, visible_text

from . import factory


def _org(db_app, name: str, region: str) -> int:
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        return factory.make_row(svc, "organisation", {"name": name, "region": region, "level": "county",
                                                      "department": "emergency"}).id


def _account(db_app, username: str) -> tuple | None:
    with db_app.app_context():
        user = db_app.appbuilder.sm.session.scalars(select(AppUser).where(AppUser.username == username)).first()
        return None if user is None else (user.first_name, user.organisation_id, [r.name for r in user.roles],
                                          user.active)


def test_fab_screens_lead_to_accounts_and_change_nothing(admin, db_app):
    for url in ("/users/list/", "/users/add", "/roles/list/", "/permissions/list/", "/viewmenus/list/",
                "/permissionviews/list/"):
        response = admin.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/accounts/"), url
    token = admin.csrf_token("/accounts/add")
    sent = admin.post("/users/add", data={"csrf_token": token, "username": "fab_user", "first_name": "x",
                                          "last_name": "y", "email": "fab@example.invalid", "roles": "1",
                                          "password": "Abc#12345", "conf_password": "Abc#12345", "active": "y"})
    assert sent.status_code == 302 and _account(db_app, "fab_user") is None
    assert "用户权限" not in visible_text(admin.get("/").get_data(as_text=True))


def test_the_administrator_opens_edits_and_finds_accounts(admin, db_app):
    org = _org(db_app, "新北区应急管理局", "320411")
    other = _org(db_app, "武进区应急管理局", "320412")
    html = admin.post_form("/accounts/add", {"username": "xb_check", "first_name": "张三", "mobile": "",
                                             "organisation": "0", "role": "inspector"}).get_data(as_text=True)
    assert field_errors(html, "role") == ["请选择此账号的所属单位。"] and _account(db_app, "xb_check") is None
    assert admin.post_form("/accounts/add", {"username": "xb_check", "first_name": "张三", "mobile": "",
                                             "organisation": str(org), "role": "inspector"}).status_code == 302
    # another system administrator, who belongs to no organisation
    assert admin.post_form("/accounts/add", {"username": "second_admin", "first_name": "李四", "mobile": "",
                                             "organisation": "0", "role": "Admin"}).status_code == 302
    assert _account(db_app, "second_admin") == ("李四", None, ["Admin"], True)

    with db_app.app_context():
        user_id = db_app.appbuilder.sm.find_user(username="xb_check").id
    form = admin.get(f"/accounts/{user_id}/edit").get_data(as_text=True)
    assert "xb_check" in form and "检查员" in form and "监管人员" in form
    assert admin.post_form(f"/accounts/{user_id}/edit", {"username": "renamed", "first_name": "张三丰",
                                                         "organisation": str(other), "role": "regulator"}
                           ).status_code == 302
    assert _account(db_app, "xb_check") == ("张三丰", other, ["regulator"], True)  # the login stays

    listed = visible_text(admin.get("/accounts/?role=regulator").get_data(as_text=True))
    assert "xb_check" in listed and "监管人员" in listed and "second_admin" not in listed
    listed = visible_text(admin.get("/accounts/?q=李四").get_data(as_text=True))
    assert "second_admin" in listed and "系统管理员" in listed and "xb_check" not in listed
    admin.post_form(f"/accounts/{user_id}/toggle", {}, page_url="/accounts/")
    assert "xb_check" in visible_text(admin.get("/accounts/?active=0").get_data(as_text=True))
    assert "xb_check" not in visible_text(admin.get("/accounts/?active=1").get_data(as_text=True))


def test_an_organisation_administrator_is_offered_only_what_it_may_give(db_app):
    org = _org(db_app, "新北区应急管理局", "320411")
    other = _org(db_app, "武进区应急管理局", "320412")
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        model = svc.models["organisation"]
        county = factory.make_user(db_app, "org_admin", svc.session.get(model, org)).username
        outsider = factory.make_user(db_app, "inspector", svc.session.get(model, other)).id
    client = FormClient(db_app.test_client())
    login(client, county, factory.PASSWORD)
    form = client.get("/accounts/add").get_data(as_text=True)
    assert "系统管理员" not in form and "武进区应急管理局" not in form
    html = client.post_form("/accounts/add", {"username": "boss", "first_name": "x", "mobile": "",
                                              "organisation": str(org), "role": "Admin"}).get_data(as_text=True)
    assert field_errors(html, "role") == ["不是有效的选项。"] and _account(db_app, "boss") is None
    assert client.get(f"/accounts/{outsider}/edit").status_code == 403
    assert client.get("/users/list/").headers["Location"].endswith("/accounts/")
