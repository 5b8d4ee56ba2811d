"""Bad input ends on a proper page: a broken link, a stale id, a row deleted meanwhile, a transition offered a
moment ago but no longer allowed, a refused action — a message in the UI language with the layout and menu,
never a traceback or Flask's bare English page; JSON under /api/."""
from __future__ import annotations

from tests.helpers import visible_text
from tests.views.test_crud import enterprise_form, rows
from tests.workflow.helpers import PNG, buttons, client_for, state_of, take
from tests.workflow.test_hazard_flow import add_hazard, county  # noqa: F401 - the fixture

NOT_FOUND = "页面或记录不存在"


def _page(response, code: int) -> str:
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert "Traceback" not in html and "Not Found" not in html
    # the normal layout: the sidebar with the menu's categories, the top bar
    assert 'id="app-sidebar"' in html and 'data-category="basic_info"' in html and 'id="nav-todo"' in html
    return visible_text(html)


def test_a_broken_link_and_a_stale_id_show_our_404(admin):
    for url in ("/no/such/page", "/r/no_such_register/list/", "/r/enterprise/show/999999",
                "/r/enterprise/edit/999999", "/r/enterprise/show/not-a-number"):
        text = _page(admin.get(url), 404)
        assert NOT_FOUND in text and "返回" in text and "首页" in text, url


def test_the_404_page_follows_the_language(admin):
    admin.get("/lang/en")
    text = _page(admin.get("/r/enterprise/show/999999"), 404)
    assert "This page or record does not exist" in text and NOT_FOUND not in text
    admin.get("/lang/zh_Hant")
    assert "頁面或記錄不存在" in _page(admin.get("/r/enterprise/show/999999"), 404)


def test_a_row_deleted_meanwhile(admin, db_app):
    assert admin.post_form("/r/enterprise/add", enterprise_form()).status_code == 302
    [row] = rows(db_app, "enterprise")
    token = admin.csrf_token(f"/r/enterprise/edit/{row.id}")  # the form is open in one tab…
    admin.post_form(f"/r/enterprise/delete/{row.id}", {}, page_url=f"/r/enterprise/show/{row.id}")  # …deleted in another
    saved = admin.post(f"/r/enterprise/edit/{row.id}", data={**enterprise_form(), "csrf_token": token})
    assert NOT_FOUND in _page(saved, 404)
    assert NOT_FOUND in _page(admin.get(f"/r/enterprise/show/{row.id}"), 404)


def test_a_transition_no_longer_allowed(db_app, county):  # noqa: F811
    company = client_for(db_app, county["enterprise"])
    hazard = add_hazard(company, county["enterprise_id"])
    page = company.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)
    assert buttons(page) == ["submit"]
    token = company.csrf_token(f"/r/hazard/show/{hazard}")
    take(company, "hazard", hazard, "submit", comment="已安装报警装置", files=[("整改后.png", PNG)])
    assert state_of(db_app, "hazard", hazard) != "pending"
    # the same button pressed again from the page still open in another tab
    again = company.post(f"/r/hazard/transition/{hazard}/submit", data={"csrf_token": token}, follow_redirects=True)
    assert again.status_code == 200 and "Traceback" not in again.get_data(as_text=True)
    assert "alert-danger" in again.get_data(as_text=True)
    # a transition that does not exist at all
    unknown = company.post(f"/r/hazard/transition/{hazard}/no_such_step", data={"csrf_token": token},
                           follow_redirects=True)
    assert unknown.status_code in (200, 404) and "Traceback" not in unknown.get_data(as_text=True)


def test_a_refused_action_shows_our_403(db_app, county):  # noqa: F811
    inspector = client_for(db_app, county["inspector"])
    text = _page(inspector.get("/audit/changes/"), 403)
    assert "无权操作" in text and "返回" in text


def test_a_get_on_an_action_url_is_explained(admin, db_app):
    assert admin.post_form("/r/enterprise/add", enterprise_form()).status_code == 302
    [row] = rows(db_app, "enterprise")
    text = _page(admin.get(f"/r/enterprise/delete/{row.id}"), 405)
    assert "请使用记录页面上的按钮" in text


def test_the_api_answers_json_not_html(admin):
    response = admin.get("/api/v1/no_such_register/")
    assert response.status_code == 404 and response.is_json


def test_a_form_sent_without_its_token_is_explained(admin, db_app):
    assert admin.post_form("/r/enterprise/add", enterprise_form()).status_code == 302
    [row] = rows(db_app, "enterprise")
    text = _page(admin.post(f"/r/enterprise/delete/{row.id}"), 400)  # refused before any view ran
    assert "表单可能已过期" in text
    assert len(rows(db_app, "enterprise")) == 1


def test_the_500_page_needs_no_database(admin, db_app):
    """The database may be what failed: the 500 page is drawn in the layout without one SQL statement."""
    from flask import g
    from flask_login import login_user
    from sqlalchemy import event
    from werkzeug.exceptions import InternalServerError

    from app.extensions import db
    from app.views.errors import error_page

    with db_app.test_request_context("/r/enterprise/list/"):
        user = db_app.appbuilder.sm.find_user(username="admin")
        login_user(user)
        g.user = user
        statements = []

        def count(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            body, code = error_page(InternalServerError())
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert code == 500 and statements == []
    assert 'id="app-sidebar"' in body and 'id="user-menu"' in body
    assert "系统出错" in visible_text(body) and "服务器未能完成请求" in visible_text(body)


def test_too_many_requests_is_explained_in_the_layout(admin, db_app):
    from werkzeug.exceptions import TooManyRequests

    from app.views.errors import error_page
    with db_app.test_request_context("/r/enterprise/list/"):
        from flask import g
        from flask_login import login_user
        g.user = db_app.appbuilder.sm.find_user(username="admin")
        login_user(g.user)
        body, code = error_page(TooManyRequests())
    assert code == 429 and "请求过于频繁" in visible_text(body) and 'data-category="basic_info"' in body
