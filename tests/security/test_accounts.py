"""Accounts: who may open which accounts, enterprise accounts, first-login password change, resets,
throttling, idle sessions, menus per role, secrets in production."""
from __future__ import annotations

import re

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.helpers import FormClient, field_errors, login, visible_text

from . import factory


def _client(app, username, password=factory.PASSWORD):
    client = FormClient(app.test_client())
    login(client, username, password)
    return client


@pytest.fixture
def chain(db_app):
    """江苏 → 常州 → 新北区 (and 武进区, a sibling county) with an administrator each."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        province = factory.make_row(svc, "organisation", {"name": "江苏省应急管理厅", "region": "32", "level": "province",
                                                          "department": "emergency"})
        city = factory.make_row(svc, "organisation", {"name": "常州市应急管理局", "region": "3204", "level": "city",
                                                      "department": "emergency", "parent": province})
        county = factory.make_row(svc, "organisation", {"name": "新北区应急管理局", "region": "320411",
                                                        "level": "county", "department": "emergency", "parent": city})
        sibling = factory.make_row(svc, "organisation", {"name": "武进区应急管理局", "region": "320412",
                                                         "level": "county", "department": "emergency", "parent": city})
        ids = {"province": province.id, "city": city.id, "county": county.id, "sibling": sibling.id}
        users = {level: factory.make_user(db_app, "org_admin", org).username
                 for level, org in (("city", city), ("county", county))}
    return {"orgs": ids, "users": users}


def _add_account(client, username, org_id, role):
    return client.post_form("/accounts/add", {"username": username, "first_name": "测试", "mobile": "",
                                              "organisation": str(org_id), "role": role})


class _Account:
    def __init__(self, user):
        self.organisation_id, self.must_change_password = user.organisation_id, user.must_change_password
        self.enterprise_key, self.roles = user.enterprise_key, [r.name for r in user.roles]
        self.password = user.password  # what is stored: a hash or a mark, never a first password itself


def _user(app, username):
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        return _Account(user) if user is not None else None


def test_an_administrator_opens_inspectors_of_its_level_and_administrators_one_level_down(db_app, chain):
    orgs, county, city = chain["orgs"], _client(db_app, chain["users"]["county"]), _client(db_app, chain["users"]["city"])
    response = _add_account(county, "xb_checker", orgs["county"], "inspector")
    assert response.status_code == 302
    created = _user(db_app, "xb_checker")
    assert created.organisation_id == orgs["county"] and created.must_change_password
    assert created.roles == ["inspector"]
    # a county may not open an administrator of its own level, nor anything in the neighbouring county
    html = _add_account(county, "xb_boss", orgs["county"], "org_admin").get_data(as_text=True)
    assert field_errors(html, "role") == ["不是有效的选项。"]  # the role is not even offered
    html = _add_account(county, "wj_checker", orgs["sibling"], "inspector").get_data(as_text=True)
    assert field_errors(html, "organisation") == ["不是有效的选项。"]
    assert _user(db_app, "xb_boss") is None and _user(db_app, "wj_checker") is None
    # the city opens the administrators of its counties
    assert _add_account(city, "wj_admin", orgs["sibling"], "org_admin").status_code == 302
    listed = visible_text(county.get("/accounts/").get_data(as_text=True))
    assert "xb_checker" in listed and "wj_admin" not in listed


def test_an_enterprise_gets_its_account_and_changes_the_first_password(db_app, chain):
    county = _client(db_app, chain["users"]["county"])
    code = factory.make_uscc()
    response = county.post_form("/r/enterprise/add", {
        "name": "常州新北测试化工有限公司", "uscc": code, "enterprise_type": "hc_use", "region": factory.HOME_TOWNSHIP,
        "address": "春江街道1号", "legal_representative": "王伟", "department": "emergency", "status": "producing"})
    assert response.status_code == 302
    account = _user(db_app, code)
    assert account is not None and account.enterprise_key == code and account.must_change_password
    # the regulator reads the first password on the enterprise's page and tells the enterprise; it cannot be
    # worked out from the code
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row_id = svc.session.scalar(select(svc.models["enterprise"].id).where(svc.models["enterprise"].uscc == code)
                                    .execution_options(include_all_rows=True))
    page = county.get(f"/r/enterprise/show/{row_id}").get_data(as_text=True)
    # the account has no password until the regulator issues one; nobody can sign in meanwhile
    assert "尚无密码" in visible_text(re.search(r'id="account-first-password".*?</div>', page, re.S).group(0))
    assert not re.search(r"Aq@\w{12}", page)
    guesser = FormClient(db_app.test_client())
    guesser.post_form("/login/", {"username": code, "password": f"Aq@{code[-6:]}"})  # the old rule
    assert "/login/" in guesser.get("/r/enterprise/list/").headers["Location"]  # not signed in
    issued = county.post_form(f"/accounts/enterprise/{row_id}/reset", {}, page_url=f"/r/enterprise/show/{row_id}",
                              follow_redirects=True)
    first = re.search(r"重置为 (Aq@\w{12})", visible_text(issued.get_data(as_text=True))).group(1)
    # shown once: the page says until when it is valid, never the password again, and only a hash is stored
    again = county.get(f"/r/enterprise/show/{row_id}").get_data(as_text=True)
    assert first not in again and "有效期至" in visible_text(again)
    assert first not in _user(db_app, code).password and _user(db_app, code).password.startswith("!first$")
    enterprise = FormClient(db_app.test_client())
    login(enterprise, code, first)
    # every page leads to the password form until a new password is chosen
    assert enterprise.get("/r/enterprise/list/").headers["Location"].endswith("/account/password")
    weak = enterprise.post_form("/account/password", {"current": first, "new": "abcdefgh",
                                                      "confirm": "abcdefgh"})
    assert "须包含小写字母、大写字母、数字、符号中的至少三种" in field_errors(weak.get_data(as_text=True), "new")[0]
    done = enterprise.post_form("/account/password", {"current": first, "new": "Changzhou#2024",
                                                      "confirm": "Changzhou#2024"})
    assert done.status_code == 302
    text = visible_text(enterprise.get("/r/enterprise/list/").get_data(as_text=True))
    assert "常州新北测试化工有限公司" in text and "共 1 条" in text
    # once chosen, the regulator no longer sees a password
    assert "account-first-password" not in county.get(f"/r/enterprise/show/{row_id}").get_data(as_text=True)


def test_a_regulator_resets_an_enterprise_password(db_app, chain):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        row_id, code = row.id, row.uscc
        factory.make_user(db_app, "enterprise_user", enterprise_key=code)
    county = _client(db_app, chain["users"]["county"])
    assert "重置企业账号密码" in visible_text(county.get(f"/r/enterprise/show/{row_id}").get_data(as_text=True))
    reset = county.post_form(f"/accounts/enterprise/{row_id}/reset", {}, page_url=f"/r/enterprise/show/{row_id}",
                             follow_redirects=True)
    told = re.search(r"重置为 (Aq@\w{12})", visible_text(reset.get_data(as_text=True))).group(1)
    account = _user(db_app, code)
    assert account.must_change_password
    fresh = FormClient(db_app.test_client())
    login(fresh, code, told)
    # a regulator of another county may not
    with db_app.app_context():
        other = factory.make_user(db_app, "regulator", factory.make_org(svc, region="320412")).username
    outsider = _client(db_app, other)
    assert outsider.post_form(f"/accounts/enterprise/{row_id}/reset", {}, page_url="/account/password").status_code == 403


def _reasons(db_app, username: str) -> list[str]:
    log = db_app.extensions["safety"].models.engine["LoginLog"]
    with db_app.app_context():
        entries = db_app.extensions["safety"].session.execute(
            select(log.reason, log.ip).where(log.username == username).order_by(log.id)).all()
    assert all(e.ip == "127.0.0.1" for e in entries)
    return [e.reason for e in entries]


def _captcha(client: FormClient) -> str:
    image = client.get("/login/captcha.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data[:4] == b"\x89PNG"
    with client.client.session_transaction() as session:
        return session["_captcha"]


def test_repeated_failures_ask_for_a_captcha_and_a_wait_never_a_lock(db_app, chain):
    username = chain["users"]["county"]
    client = FormClient(db_app.test_client())
    for _ in range(3):
        client.post_form("/login/", {"username": username, "password": "wrong-Pass-1"})
    # the right password alone no longer opens the account: the page now shows the captcha
    page = client.post_form("/login/", {"username": username, "password": factory.PASSWORD}, follow_redirects=True)
    assert "请输入图片中的字符后登录此账号" in visible_text(page.get_data(as_text=True))
    assert 'name="captcha"' in page.get_data(as_text=True)
    assert client.get("/r/enterprise/list/").status_code == 302  # still not signed in
    # a wrong captcha is refused without counting as a password failure
    _captcha(client)
    client.post_form("/login/", {"username": username, "password": factory.PASSWORD, "captcha": "XXXX"})
    # the right captcha during the wait after the last failure: asked to wait, not let in
    answer = _captcha(client)
    page = client.post_form("/login/", {"username": username, "password": factory.PASSWORD, "captcha": answer},
                            follow_redirects=True)
    assert re.search(r"请 \d+ 秒后再试", visible_text(page.get_data(as_text=True)))
    assert _reasons(db_app, username) == ["password"] * 3 + ["captcha", "captcha", "wait"]
    with db_app.app_context():
        user = db_app.appbuilder.sm.find_user(username=username)
        assert user.fail_login_count == 3
        user.locked_until = datetime.now() - timedelta(seconds=1)  # the wait is over (time moved, not slept)
        db_app.appbuilder.sm.session.commit()
    answer = _captcha(client)
    page = client.post_form("/login/", {"username": username, "password": factory.PASSWORD, "captcha": answer})
    assert page.status_code == 302 and client.get("/r/enterprise/list/").status_code == 200
    with db_app.app_context():
        user = db_app.appbuilder.sm.find_user(username=username)
        assert user.fail_login_count == 0 and user.locked_until is None


def test_failed_logins_are_limited_per_address_but_successes_are_not(db_app, chain):
    configured = db_app.config["LOGIN_FAILURE_RATE_LIMIT"]
    db_app.config["LOGIN_FAILURE_RATE_LIMIT"] = "3 per hour"
    try:
        for _ in range(4):  # successful logins from the same office address do not count
            login(FormClient(db_app.test_client()), chain["users"]["county"], factory.PASSWORD)
        client = FormClient(db_app.test_client())
        answers = [client.post_form("/login/", {"username": f"nobody-{n}", "password": "wrong-Pass-1"}).status_code
                   for n in range(4)]
        assert answers == [302, 302, 302, 429]
    finally:
        db_app.config["LOGIN_FAILURE_RATE_LIMIT"] = configured
        db_app.appbuilder.sm.limiter.reset()


def test_idle_sessions_end(db_app, chain):
    client = _client(db_app, chain["users"]["county"])
    with client.client.session_transaction() as session:
        session["_seen"] = datetime.now().timestamp() - 31 * 60
    response = client.get("/r/enterprise/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_menus_follow_the_role(db_app, chain):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        inspector = factory.make_user(db_app, "inspector", factory.make_org(svc)).username
        row = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        code = row.uscc
        factory.make_user(db_app, "enterprise_user", enterprise_key=code)
    admin_menu = visible_text(_client(db_app, chain["users"]["county"]).get("/").get_data(as_text=True))
    inspector_menu = visible_text(_client(db_app, inspector).get("/").get_data(as_text=True))
    enterprise_menu = visible_text(_client(db_app, code).get("/").get_data(as_text=True))
    assert "账号管理" in admin_menu and "操作日志" in admin_menu
    assert "账号管理" not in inspector_menu and "生产经营单位" in inspector_menu and "监管单位" in inspector_menu
    assert "系统管理" not in enterprise_menu and "监管单位" not in enterprise_menu and "生产经营单位" in enterprise_menu
    assert "用户列表" not in admin_menu  # FAB's own user screens stay with the system administrator


def test_production_refuses_the_default_secret_key():
    from app import create_app
    from config import ProductionConfig
    with pytest.raises(SystemExit, match="default SECRET_KEY"):
        create_app(ProductionConfig, SQLALCHEMY_DATABASE_URI="sqlite://")


@pytest.mark.browser
def test_first_login_in_the_browser(db_app, chain, page):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency",
                                                   "name": "常州首登测试有限公司"})
        code = row.uscc
    page.goto(page.base_url + "/login/")
    page.fill("#username", code)
    first = factory.first_password(db_app, code)
    page.fill("#password", first)
    page.click("[type=submit]")
    page.wait_for_url("**/account/password")
    expect(page.locator("#must-change")).to_be_visible()
    page.goto(page.base_url + "/r/enterprise/list/")  # any other page sends it back
    page.wait_for_url("**/account/password")
    page.fill("#current", first)
    page.fill("#new", "Qiye@First2024")
    page.fill("#confirm", "Qiye@First2024")
    page.click("#change-password")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/r/enterprise/list/")
    expect(page.locator(".register-table tbody tr")).to_have_count(1)
    expect(page.locator(".register-table")).to_contain_text("常州首登测试有限公司")


def test_a_regulator_issues_the_first_passwords_of_its_new_enterprises_in_a_workbook(db_app, chain):
    import io

    from openpyxl import load_workbook
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        waiting = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency",
                                                       "name": "常州待发密码化工有限公司"}).uscc
        chosen = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency",
                                                      "name": "常州已改密码化工有限公司"}).uscc
        elsewhere = factory.make_row(svc, "enterprise", {"region": "320412001", "department": "emergency",
                                                         "name": "武进邻区化工有限公司"}).uscc
    first = factory.first_password(db_app, chosen)
    _client(db_app, chosen, first).post_form(
        "/account/password", {"current": first, "new": "Changzhou#2024", "confirm": "Changzhou#2024"})

    county = _client(db_app, chain["users"]["county"])
    listing = county.get("/r/enterprise/list/").get_data(as_text=True)
    link = re.search(r'<form method="post" action="([^"]+)"[^>]*>\s*<input[^>]*>\s*<button[^>]*id="first-passwords"',
                     listing).group(1)
    response = county.post_form(link, {}, page_url="/r/enterprise/list/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ("企业名称", "登录名", "初始密码", "有效期至") and len(rows) == 2
    name, login_name, password, valid_until = rows[1]
    assert (name, login_name) == ("常州待发密码化工有限公司", waiting) and re.fullmatch(r"Aq@\w{12}", password)
    assert datetime.strptime(valid_until, "%Y-%m-%d %H:%M") > datetime.now() + timedelta(days=13)
    assert elsewhere not in str(rows) and chosen not in str(rows)
    # a first password still valid is not issued again: the second workbook is empty
    again = county.post_form(link, {}, page_url="/r/enterprise/list/")
    assert [tuple(r) for r in load_workbook(io.BytesIO(again.data)).active.iter_rows(values_only=True)][1:] == []

    # the password in the workbook opens the account, once changed the enterprise neither sees the button nor
    # gets the file
    own = _client(db_app, waiting, password)
    own.post_form("/account/password", {"current": password, "new": "Xinbei#2024x", "confirm": "Xinbei#2024x"})
    assert "first-passwords" not in own.get("/r/enterprise/list/").get_data(as_text=True)
    refused = own.post_form(link, {}, page_url="/account/password")
    assert refused.status_code == 403 and b"Aq@" not in refused.data


def test_a_first_password_expires(db_app, chain, monkeypatch):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        code = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"}).uscc
    monkeypatch.setitem(db_app.config, "FIRST_PASSWORD_DAYS", -1)  # issued two weeks and a day ago, say
    stale = factory.first_password(db_app, code)
    client = FormClient(db_app.test_client())
    page = client.post_form("/login/", {"username": code, "password": stale}, follow_redirects=True)
    assert "初始密码已过期" in visible_text(page.get_data(as_text=True))
    assert "/login/" in client.get("/r/enterprise/list/").headers["Location"]  # not signed in
    # whoever does not know the password is not told anything about it
    wrong = FormClient(db_app.test_client()).post_form("/login/", {"username": code, "password": "Aq@wrong"},
                                                       follow_redirects=True)
    assert "初始密码已过期" not in visible_text(wrong.get_data(as_text=True))
    monkeypatch.setitem(db_app.config, "FIRST_PASSWORD_DAYS", 14)
    _client(db_app, code, factory.first_password(db_app, code))  # a new one opens it
