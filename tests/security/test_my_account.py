"""个人信息 for every account: a regulator and an enterprise open their own account from the user menu, change
their password there and sign in with the new one; FAB's own account pages lead to ours instead of a 403."""
from __future__ import annotations

from tests.helpers import FormClient, login, visible_text

from . import factory


def _signed_in(app, username, password=factory.PASSWORD):
    client = FormClient(app.test_client())
    login(client, username, password)
    return client


def _change_password_through_the_page(app, client, username):
    home = client.get("/").get_data(as_text=True)
    # the user menu leads to the account page and the password form
    assert 'href="/account/" id="nav-account"' in home and 'href="/account/password" id="nav-password"' in home
    page = client.get("/account/")
    assert page.status_code == 200
    assert 'href="/account/password"' in page.get_data(as_text=True)
    done = client.post_form("/account/password", {"current": factory.PASSWORD, "new": "Neues#Passwort9",
                                                  "confirm": "Neues#Passwort9"}, follow_redirects=True)
    text = visible_text(done.get_data(as_text=True))
    assert "密码已修改" in text and "个人中心" in text  # the user menu
    again = FormClient(app.test_client())
    assert again.post_form("/login/", {"username": username, "password": factory.PASSWORD}).headers.get(
        "Location", "").startswith("/login/")  # the old password no longer opens the account
    login(again, username, "Neues#Passwort9")
    return text


def test_a_regulator_sees_its_account_and_changes_its_password(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        org = factory.make_org(svc, region="320411")
        org_name = str(org)
        username = factory.make_user(db_app, "inspector", org).username
    client = _signed_in(db_app, username)
    # FAB's pages answered 403 to everyone but the administrator: now they lead to ours
    assert client.get("/users/userinfo/").headers["Location"].endswith("/account/")
    assert client.get("/resetmypassword/form").headers["Location"].endswith("/account/password")
    info = visible_text(client.get("/users/userinfo/", follow_redirects=True).get_data(as_text=True))
    assert f"登录名 {username}" in info and f"所属单位 {org_name}" in info and "角色 检查员" in info
    assert "上次登录" in info and "修改密码" in info
    after = _change_password_through_the_page(db_app, client, username)
    assert "密码修改时间 从未" not in after


def test_an_enterprise_sees_its_account_and_changes_its_password(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency",
                                                   "name": "常州个人信息测试化工有限公司"})
        code = row.uscc
        factory.make_user(db_app, "enterprise_user", enterprise_key=code)
    client = _signed_in(db_app, code)
    info = visible_text(client.get("/account/").get_data(as_text=True))
    assert f"登录名 {code}" in info and "企业名称 常州个人信息测试化工有限公司" in info
    assert client.get("/resetmypassword/form", follow_redirects=True).status_code == 200
    _change_password_through_the_page(db_app, client, code)


def test_the_administrator_gets_the_same_page(admin):
    assert admin.get("/users/userinfo/").headers["Location"].endswith("/account/")
    text = visible_text(admin.get("/account/").get_data(as_text=True))
    assert "登录名 admin" in text and "角色 系统管理员" in text and "修改密码" in text  # FAB's Admin role by its label
