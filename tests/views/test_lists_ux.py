"""The list page's 列设置 (per user) and a record page's related tabs (一企一档), through HTTP as each kind of user:
counts and rows in the viewer's scope, tabs only for registers the viewer may open, the 新增 preset of a reference
accepted only for a row the viewer could choose."""
from __future__ import annotations

import re
import time

import pytest

from tests.helpers import FormClient, login, visible_text
from tests.security import factory


@pytest.fixture
def world(db_app):
    """A county (新北区) with enterprise A and B, a county elsewhere with enterprise C; hazards of A and B,
    campaign rows of A in both counties, a case of A; an administrator of each county and A's account."""
    svc = db_app.extensions["safety"]
    ids = {}
    with db_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="2113", department=factory.AWAY_DEPARTMENT)
        here = {"region": factory.HOME_TOWNSHIP, "department": factory.HOME_DEPARTMENT}
        a = factory.make_row(svc, "enterprise", dict(here))
        b = factory.make_row(svc, "enterprise", dict(here))
        c = factory.make_row(svc, "enterprise", {"region": factory.AWAY_TOWNSHIP,
                                                 "department": factory.AWAY_DEPARTMENT})
        for n in range(3):
            factory.make_row(svc, "hazard", {"enterprise": a, "description": f"A的隐患{n}"})
        factory.make_row(svc, "hazard", {"enterprise": b, "description": "B的隐患"})
        factory.make_row(svc, "cp_enterprise", {"enterprise": a, "region": factory.HOME_TOWNSHIP})
        factory.make_row(svc, "cp_enterprise", {"enterprise": a, "region": factory.AWAY_TOWNSHIP})
        factory.make_row(svc, "enforcement_case", {"enterprise": a})
        ids.update(a=a.id, b=b.id, c=c.id, a_key=a.uscc)
        ids["county"] = factory.make_user(db_app, "org_admin", home).username
        ids["other_county"] = factory.make_user(db_app, "org_admin", away).username
        ids["enterprise"] = factory.make_user(db_app, "enterprise_user", None, a.uscc).username
        ids["regulator"] = factory.make_user(db_app, "regulator", home).username
    return ids


def client_of(app, username: str) -> FormClient:
    client = FormClient(app.test_client())
    login(client, username, factory.PASSWORD)
    return client


def tabs(html: str) -> dict[str, int]:
    """register → count, as the record page's related tabs show them."""
    return {name: int(count) for name, count in re.findall(
        r'class="related-tab" data-register="(\w+)">[^<]*<span class="badge related-count">(\d+)</span>', html)}


def pane(html: str, register: str) -> str:
    found = re.search(rf'<div class="tab-pane related-pane" id="tab-related-{register}-\w+" data-register="{register}">'
                      r'(.*?)</table>', html, re.S)
    assert found, f"no tab for {register}"
    return found.group(1)


def test_an_enterprise_sees_its_own_rows_and_only_the_tabs_it_may_open(db_app, world):
    client = client_of(db_app, world["enterprise"])
    html = client.get(f"/r/enterprise/show/{world['a']}").get_data(as_text=True)

    found = tabs(html)
    assert found["hazard"] == 3 and found["cp_enterprise"] == 2
    assert "enforcement_case" not in found and "enterprise_change" not in found  # it may not open them
    hazards = visible_text(pane(html, "hazard"))
    assert "A的隐患0" in hazards and "A的隐患2" in hazards and "B的隐患" not in hazards
    # another enterprise's page is not its to see
    assert client.get(f"/r/enterprise/show/{world['b']}").status_code in (403, 404)


def test_a_county_counts_only_the_rows_of_its_jurisdiction(db_app, world, admin):
    everyone = tabs(admin.get(f"/r/enterprise/show/{world['a']}").get_data(as_text=True))
    county = tabs(client_of(db_app, world["county"]).get(f"/r/enterprise/show/{world['a']}").get_data(as_text=True))

    assert everyone["cp_enterprise"] == 2 and everyone["enforcement_case"] == 1
    assert county["cp_enterprise"] == 1 and county["hazard"] == 3 and county["enforcement_case"] == 1


def test_a_regulator_of_another_county_cannot_open_the_page(db_app, world):
    client = client_of(db_app, world["other_county"])
    assert client.get(f"/r/enterprise/show/{world['a']}").status_code in (403, 404)
    assert client.get(f"/r/enterprise/show/{world['c']}").status_code == 200


def test_a_tab_links_to_the_filtered_list_and_adds_with_the_reference_preset(db_app, world):
    client = client_of(db_app, world["regulator"])
    html = client.get(f"/r/enterprise/show/{world['a']}").get_data(as_text=True)
    hazards = re.search(r'id="tab-related-hazard-enterprise".*?</div>', html, re.S).group(0)
    list_url = re.search(r'class="btn btn-default btn-xs related-list-link" href="([^"]+)"', hazards).group(1)
    add_url = re.search(r'class="btn btn-primary btn-xs related-add" href="([^"]+)"', hazards).group(1)
    assert add_url == f"/r/hazard/add?enterprise={world['a']}"

    listed = visible_text(client.get(list_url.replace("&amp;", "&")).get_data(as_text=True))
    assert "A的隐患1" in listed and "B的隐患" not in listed

    form = client.get(add_url).get_data(as_text=True)
    assert re.search(rf'<select[^>]*name="enterprise"[^>]*>.*?<option value="{world["a"]}" selected>', form, re.S)


def test_a_preset_the_user_could_not_choose_is_refused(db_app, world):
    client = client_of(db_app, world["regulator"])
    response = client.get(f"/r/hazard/add?enterprise={world['c']}")  # an enterprise of another county
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert not re.search(rf'<option value="{world["c"]}" selected>', html)
    assert "不可用" in visible_text(html)


def test_an_enterprise_gets_no_add_button_for_a_reference_it_may_not_set(db_app, world):
    html = client_of(db_app, world["enterprise"]).get(f"/r/enterprise/show/{world['a']}").get_data(as_text=True)
    assert "related-add" not in pane(html, "hazard")  # its hazards' enterprise is read-only for it


def headers(html: str) -> list[str]:
    return re.findall(r'<th data-column="(\w+)"', html)


def test_column_settings_are_kept_per_user(db_app, world, admin):
    county = client_of(db_app, world["county"])
    default = headers(county.get("/r/enterprise/list/").get_data(as_text=True))
    assert default[:2] == ["name", "uscc"]

    order = ",".join(["uscc", "name"] + default[2:])
    shown = [c for c in default if c != "grade"]
    response = county.post_form("/r/enterprise/columns", {"order": order, "shown": shown},
                                page_url="/r/enterprise/list/")
    assert response.status_code == 302

    mine = headers(county.get("/r/enterprise/list/").get_data(as_text=True))
    assert mine[:2] == ["uscc", "name"] and "grade" not in mine and len(mine) == len(default) - 1
    # the administrator's list is not changed by the county's choice
    assert headers(admin.get("/r/enterprise/list/").get_data(as_text=True)) == default

    county.post_form("/r/enterprise/columns", {"reset": "1"}, page_url="/r/enterprise/list/")
    assert headers(county.get("/r/enterprise/list/").get_data(as_text=True)) == default


def test_hiding_every_column_keeps_one(db_app, world):
    county = client_of(db_app, world["county"])
    county.post_form("/r/enterprise/columns", {"order": "name,uscc"}, page_url="/r/enterprise/list/")
    assert len(headers(county.get("/r/enterprise/list/").get_data(as_text=True))) == 1


# ---------------------------------------------------------------- a count the page does not wait for

@pytest.fixture
def no_wait(db_app):
    """Lists that never wait for their count (LIST_COUNT_BUDGET_MS = 0): every page comes with "counting…"."""
    before = db_app.config["LIST_COUNT_BUDGET_MS"]
    db_app.config["LIST_COUNT_BUDGET_MS"] = 0
    yield db_app
    db_app.config["LIST_COUNT_BUDGET_MS"] = before


def _count_url(html: str) -> str:
    found = re.search(r'id="list-total"[^>]*data-count-url="([^"]+)"', html)
    assert found, "the list's count is not deferred"
    return found.group(1).replace("&amp;", "&")


def test_a_page_shows_its_rows_first_and_its_count_comes_in_the_viewers_scope(no_wait, world, admin):
    county, enterprise = client_of(no_wait, world["county"]), client_of(no_wait, world["enterprise"])
    other = client_of(no_wait, world["other_county"])

    html = admin.get("/r/hazard/list/?size=10&q=隐患").get_data(as_text=True)
    assert "正在统计条数…" in visible_text(html) and "共 4 条" not in visible_text(html)
    assert sorted(re.findall(r"[AB]的隐患\d?", visible_text(html))) == ["A的隐患0", "A的隐患1", "A的隐患2", "B的隐患"]
    url = _count_url(html)
    assert "q=" in url and "size=10" in url
    counted = admin.get(url).get_json()
    assert {k: counted[k] for k in ("count", "capped", "estimated", "text")} == {
        "count": 4, "capped": False, "estimated": False, "text": "共 4 条"}
    # with the count, the pager knows its last page: one here, and it keeps the search
    links = re.findall(r'<li class="[^"]*"><a href="([^"]+)">(\d+)</a>', counted["pager"])
    assert [number for _, number in links] == ["1"] and "q=%E9%9A%90%E6%82%A3" in links[0][0]

    # the same address counts what each viewer may see, never more
    assert county.get(url).get_json()["count"] == 4
    assert enterprise.get(url).get_json()["text"] == "共 3 条"
    assert other.get(url).get_json()["count"] == 0
    # a filter narrows the count as it narrows the page
    html = enterprise.get("/r/hazard/list/?q=A的隐患1").get_data(as_text=True)
    assert enterprise.get(_count_url(html)).get_json()["count"] == 1


def test_the_count_address_is_refused_to_a_user_who_may_not_open_the_list(no_wait, world):
    enterprise = client_of(no_wait, world["enterprise"])
    listed, counted = enterprise.get("/r/enforcement_case/list/"), enterprise.get("/r/enforcement_case/count/")
    assert listed.status_code in (302, 403) and counted.status_code == listed.status_code and not counted.is_json
    response = no_wait.test_client().get("/r/hazard/count/")
    assert response.status_code == 302 and response.location.startswith("/login/") and not response.is_json


def test_with_no_time_to_walk_either_the_page_is_chosen_among_the_matches(no_wait, world, admin, monkeypatch):
    from app.query import listing

    def page() -> list[str]:
        response = admin.get("/r/hazard/list/?q=隐患")
        assert response.status_code == 200
        return re.findall(r"[AB]的隐患\d?", visible_text(response.get_data(as_text=True)))

    no_wait.config["LIST_COUNT_BUDGET_MS"] = None
    waited = page()
    no_wait.config["LIST_COUNT_BUDGET_MS"] = 0
    monkeypatch.setattr(listing, "WALK_BUDGET_MS", 0)
    assert len(waited) == 4 and page() == waited


def test_a_statement_past_the_budget_is_stopped_and_the_session_goes_on(db_app):
    from sqlalchemy import text

    from app.query.listing import within_budget
    session = db_app.extensions["safety"].session
    with db_app.app_context():
        before = session.execute(text("SHOW statement_timeout")).scalar_one()
        started = time.perf_counter()
        assert within_budget(session, 50, lambda: session.execute(text("SELECT pg_sleep(2)")).all()) is None
        assert time.perf_counter() - started < 1.5  # stopped at the budget, not slept out
        # the transaction is still usable, and the deadline did not outlive the work it was set for
        assert within_budget(session, 50, lambda: session.execute(text("SELECT 7")).scalar_one()) == 7
        assert session.execute(text("SHOW statement_timeout")).scalar_one() == before
        assert session.execute(text("SELECT pg_sleep(0.1), 1")).all()[0][1] == 1
        session.rollback()


def test_an_enterprise_list_does_not_repeat_its_own_name_on_every_row(db_app, world):
    """Every hazard an enterprise reads is its own: the 企业 column and the filters on the enterprise would only
    repeat its name; a regulator's list keeps them."""
    mine = client_of(db_app, world["enterprise"]).get("/r/hazard/list/").get_data(as_text=True)
    county = client_of(db_app, world["county"]).get("/r/hazard/list/").get_data(as_text=True)

    assert headers(county)[:2] == ["enterprise", "description"]
    assert headers(mine)[:1] == ["description"] and "enterprise" not in headers(mine)
    assert 'name="f.enterprise"' in county and 'name="f.enterprise.region"' in county
    assert 'name="f.enterprise' not in mine
    assert "A的隐患0" in visible_text(mine) and "B的隐患" not in visible_text(mine)
    # an enterprise reads its own register's single row as before (ownership `self`: nothing to leave out)
    assert "name" in headers(client_of(db_app, world["enterprise"]).get("/r/enterprise/list/").get_data(as_text=True))


def page_title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, "no <title>"
    return " ".join(found.group(1).split())


def test_each_browser_tab_names_its_page_and_record(db_app, world):
    """With many tabs open (a list, two records, a form) each tab reads differently, most specific first."""
    client = client_of(db_app, world["county"])
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        first = svc.session.query(svc.models["hazard"]).filter_by(description="A的隐患0").one().id
    titles = {url: page_title(client.get(url).get_data(as_text=True)) for url in (
        "/", "/r/hazard/list/", f"/r/hazard/show/{first}", f"/r/hazard/edit/{first}", "/r/hazard/add",
        "/workflow/todo", "/r/hazard/show/999999")}
    assert titles == {
        "/": "安全生产监管平台",
        "/r/hazard/list/": "隐患台账 - 安全生产监管平台",
        f"/r/hazard/show/{first}": "A的隐患0 - 详细信息 - 隐患台账 - 安全生产监管平台",
        f"/r/hazard/edit/{first}": "A的隐患0 - 编辑 - 隐患台账 - 安全生产监管平台",
        "/r/hazard/add": "新增 - 隐患台账 - 安全生产监管平台",
        "/workflow/todo": "我的待办 - 安全生产监管平台",
        "/r/hazard/show/999999": "页面或记录不存在 - 隐患台账 - 安全生产监管平台",
    }


def test_every_page_has_the_platforms_icon(db_app, world):
    """The icon every tab shows, signed in or not, and the /favicon.ico browsers ask for on their own."""
    client = client_of(db_app, world["enterprise"])
    for html in (client.get("/r/hazard/list/").get_data(as_text=True),
                 db_app.test_client().get("/login/").get_data(as_text=True)):
        icon = re.search(r'<link href="([^"]+)" rel="icon" type="image/svg\+xml">', html)
        assert icon, "no icon linked"
        answer = client.get(icon.group(1))
        assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
        assert b"<svg" in answer.get_data()
    moved = db_app.test_client().get("/favicon.ico")
    assert moved.status_code == 301 and moved.location.endswith(icon.group(1))


def reference_choice(html: str, field: str) -> list[str]:
    """The values selected in a reference picker of a form."""
    select = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no picker {field}"
    return [re.search(r'value="(\d*)"', tag).group(1) for tag in re.findall(r"<option[^>]*>", select.group(1))
            if re.search(r"\bselected\b", tag)]


def test_an_enterprise_adds_with_its_own_enterprise_already_chosen(db_app, world):
    """An enterprise account's 新增 starts with its own enterprise in the 企业名称 picker (it could choose no other);
    a regulator's starts empty."""
    mine = client_of(db_app, world["enterprise"])
    html = mine.get("/r/self_inspection_report/add").get_data(as_text=True)
    assert reference_choice(html, "enterprise") == [str(world["a"])]
    # a register whose enterprise is read-only for it does not ask (the row is stamped with its own)
    assert 'name="enterprise"' not in mine.get("/r/hazard/add").get_data(as_text=True)
    county = client_of(db_app, world["county"]).get("/r/self_inspection_report/add").get_data(as_text=True)
    assert reference_choice(county, "enterprise") == []


def test_a_form_without_a_layout_shows_no_csrf_token_field(db_app, world):
    """A register whose YAML has no `form:` layout lists its fields in one card: the form's hidden csrf_token is
    not one of them (it showed as a “CSRF Token” label with a second hidden input)."""
    html = client_of(db_app, world["county"]).get("/r/self_inspection_report/add").get_data(as_text=True)
    assert "CSRF" not in visible_text(html)
    assert html.count('name="csrf_token"') == 1
    assert 'data-field="period"' in html and 'data-field="csrf_token"' not in html


def test_the_pages_outside_the_registers_name_themselves_in_the_tab(db_app, world, admin):
    """Pages without a menu entry of their own, or below one, name themselves: the tab read only 安全生产监管平台
    (我的订阅) or the entry above them (账号统计 read 账号管理, a chart read 统计图表, a township read its rule set)."""
    with db_app.app_context():   # a township page counts graded enterprises
        factory.make_row(db_app.extensions["safety"], "enterprise", {
            "region": factory.HOME_TOWNSHIP, "department": factory.HOME_DEPARTMENT, "grade": "A"})
    county = client_of(db_app, world["county"])
    titles = {url: page_title(client.get(url).get_data(as_text=True)) for client, url in (
        (admin, "/my_subscriptions/"), (admin, "/subscriptions/add"), (admin, "/accounts/stats"),
        (admin, "/accounts/import"), (admin, "/charts/hazards_by_state/"), (admin, "/draws/"),
        (county, f"/frequency/township_inspections/{factory.HOME_TOWNSHIP}"))}
    assert titles == {
        "/my_subscriptions/": "我的订阅 - 安全生产监管平台",
        "/subscriptions/add": "新增 - 系统订阅 - 安全生产监管平台",
        "/accounts/stats": "账号统计 - 账号管理 - 安全生产监管平台",
        "/accounts/import": "导入 - 账号管理 - 安全生产监管平台",
        "/charts/hazards_by_state/": "隐患整改状态 - 统计图表 - 安全生产监管平台",
        "/draws/": "双随机抽查结果公示 - 安全生产监管平台",
        f"/frequency/township_inspections/{factory.HOME_TOWNSHIP}": "春江街道 - 乡镇监督检查工作 - 安全生产监管平台",
    }
    anonymous = db_app.test_client()
    assert page_title(anonymous.get("/login/").get_data(as_text=True)) == "登录 - 安全生产监管平台"
    assert page_title(anonymous.get("/public/").get_data(as_text=True)) == "在线申请 - 安全生产监管平台"
