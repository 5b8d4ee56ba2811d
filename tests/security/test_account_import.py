"""账号批量导入 and 账号统计: an administrator fills the template (its drop-downs hold exactly the organisations it
manages and the roles it may give), a file with mistakes is refused row by row and column by column in Chinese with
nothing created, a correct one creates every account with a first password shown once that signs in; the statistics
count the accounts of the organisations it manages, and no other county's."""
from __future__ import annotations

import io
import re

import openpyxl

from tests.helpers import FormClient, login, visible_text
from tests.security import factory


def _client(app, username, password=factory.PASSWORD):
    client = FormClient(app.test_client())
    login(client, username, password)
    return client


def _workbook(client, rows):
    template = client.get("/accounts/import/template.xlsx")
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    for row in rows:
        book.worksheets[0].append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return book, buffer


def _upload(client, buffer):
    response = client.post_form("/accounts/import", {"file": (buffer, "账号.xlsx")}, page_url="/accounts/import",
                                content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_accounts_are_imported_all_or_nothing_and_counted(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="211302")
        admin = factory.make_user(db_app, "org_admin", home).username
        away_admin = factory.make_user(db_app, "org_admin", away).username
        taken = factory.make_user(db_app, "inspector", home).username
        home_name, away_name = str(home), str(away)
    client = _client(db_app, admin)

    book, _buffer = _workbook(client, [])
    assert [c.value for c in book.worksheets[0][1]] == ["登录名", "姓名", "所属单位", "角色"]
    lists = book["lists"]
    assert [c.value for c in lists["A"] if c.value] == [home_name]            # only what it manages
    assert sorted(c.value for c in lists["B"] if c.value) == ["检查员", "监管人员"]
    assert "填写说明" in book.sheetnames

    _book, buffer = _workbook(client, [
        [taken, "张三", home_name, "检查员"],            # the login is taken
        ["wang wei", "王伟", home_name, "检查员"],       # not a login name
        ["li_na", "李娜", away_name, "检查员"],          # not an organisation it manages
        ["zhao_liu", "赵六", home_name, "企业用户"],     # not a role it may give
        ["li_na", "", home_name, "监管人员"],            # the same login as row 4, and no name
    ])
    html = _upload(client, buffer)
    assert "未创建任何账号：共 6 处问题" in visible_text(html)
    table = re.search(r'<table[^>]*id="import-problems".*?</table>', html, re.S).group(0)
    problems = [tuple(visible_text(cell) for cell in re.findall(r"<td>(.*?)</td>", tr, re.S))
                for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]
    assert problems == [("2", "登录名", "该登录名已被使用。"), ("3", "登录名", "只能包含字母、数字和 . _ - @。"),
                        ("4", "所属单位", f"“{away_name}”不是您管理的单位。"),
                        ("5", "角色", "“企业用户”不是您可分配的角色。"),
                        ("6", "登录名", "与第 4 行的登录名重复。"), ("6", "姓名", "此项为必填项。")]
    sm = db_app.appbuilder.sm
    with db_app.app_context():
        assert sm.find_user(username="li_na") is None and sm.find_user(username="wang_wei") is None

    _book, buffer = _workbook(client, [["wang_wei", "王伟", home_name, "检查员"],
                                       ["li_na", "李娜", home_name, "监管人员"]])
    html = _upload(client, buffer)
    assert "已创建 2 个账号" in visible_text(html)
    passwords = dict(re.findall(r'<tr data-user="([^"]+)">.*?<code>([^<]+)</code>', html, re.S))
    assert set(passwords) == {"wang_wei", "li_na"}
    with db_app.app_context():
        user = sm.find_user(username="li_na")
        assert [r.name for r in user.roles] == ["regulator"] and user.organisation_id == home.id
    # the password shown signs in (and must be changed first)
    first = FormClient(db_app.test_client())
    response = first.post_form("/login/", {"username": "li_na", "password": passwords["li_na"]}, page_url="/login/")
    assert response.status_code == 302 and "/login" not in response.headers["Location"]

    # statistics: this county's accounts only — the administrator, the inspector, the two new ones
    stats = client.get("/accounts/stats").get_data(as_text=True)
    row = re.search(rf'<tr data-organisation="{home.id}">(.*?)</tr>', stats, re.S).group(1)
    cells = re.findall(r'class="text-right stat-(\w+)">(\d+)<', row)
    assert dict(cells)["total"] == "4" and dict(cells)["never"] in ("2", "3", "4")
    assert f'data-organisation="{away.id}"' not in stats
    away_stats = _client(db_app, away_admin).get("/accounts/stats").get_data(as_text=True)
    assert f'data-organisation="{home.id}"' not in away_stats and f'data-organisation="{away.id}"' in away_stats
