"""信息发布: a county's administrator publishes a notice; every enterprise of the county gets its copy in its 待办,
reads it and marks it 已阅; the notice's page counts who has read it; another county's enterprises and regulator
get and see nothing; a published notice cannot be changed."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.helpers import visible_text
from tests.security import factory
from tests.workflow.helpers import buttons, client_for, state_of, stored, take

from .conftest import add


def test_a_notice_reaches_each_enterprise_of_the_county_which_marks_it_read(db_app, county):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        away_enterprise = factory.make_row(svc, "enterprise", {"region": factory.AWAY_TOWNSHIP,
                                                               "department": "emergency"})
        away_account = factory.make_user(db_app, "enterprise_user", enterprise_key=away_enterprise.uscc).username
    admin = client_for(db_app, county["admin"])
    notice = add(admin, "announcement", {"title": "关于开展冬季危化品安全检查的通知", "category": "notice",
                                         "region": "320411", "content": "各企业于12月20日前完成自查并上报。"})
    assert state_of(db_app, "announcement", notice) == "draft"
    take(admin, "announcement", notice, "publish")
    assert state_of(db_app, "announcement", notice) == "published"

    receipts = svc.models["announcement_receipt"]
    with db_app.app_context():
        copies = {r.enterprise_id: r for r in svc.session.scalars(
            select(receipts).execution_options(include_all_rows=True))}
    assert set(copies) == {county["enterprise_id"], county["other_id"]}     # not the other county's
    mine = copies[county["enterprise_id"]]
    assert mine.announcement_title == "关于开展冬季危化品安全检查的通知" and mine.state == "unread"

    # the enterprise finds it in its 待办, reads it and marks it read
    company = client_for(db_app, county["enterprise"])
    todo = company.get("/workflow/todo").get_data(as_text=True)
    assert f"/r/announcement_receipt/show/{mine.id}" in todo
    page = company.get(f"/r/announcement_receipt/show/{mine.id}").get_data(as_text=True)
    assert "各企业于12月20日前完成自查并上报。" in visible_text(page) and buttons(page) == ["mark_read"]
    take(company, "announcement_receipt", mine.id, "mark_read")
    assert state_of(db_app, "announcement_receipt", mine.id) == "read"
    assert f"/r/announcement_receipt/show/{mine.id}" not in company.get("/workflow/todo").get_data(as_text=True)
    # it sees only its own copy
    assert company.get(f"/r/announcement_receipt/show/{copies[county['other_id']].id}").status_code in (403, 404)
    listing = company.get("/r/announcement_receipt/list/").get_data(as_text=True)
    assert set(re.findall(r'<tr data-id="(\d+)"', listing)) == {str(mine.id)}

    # the notice's page: one read, one unread, by enterprise
    page = visible_text(admin.get(f"/r/announcement/show/{notice}").get_data(as_text=True))
    assert "阅读情况" in page and re.search(r"已阅\s*1", page) and re.search(r"未读\s*1", page)
    # published: the notice is kept as sent
    admin.post_form(f"/r/announcement/edit/{notice}", {"title": "改过的标题", "category": "notice",
                                                        "region": "320411", "content": "改过"},
                    page_url="/workflow/inbox", follow_redirects=True)
    assert stored(db_app, "announcement", notice).title == "关于开展冬季危化品安全检查的通知"

    # another county: neither its enterprise nor its regulator sees any of it
    away = client_for(db_app, away_account)
    assert 'id="todo-announcement_receipt"' not in away.get("/workflow/todo").get_data(as_text=True)
    assert 'id="todo-announcement_receipt"' in client_for(db_app, county["other_enterprise"]).get(
        "/workflow/todo").get_data(as_text=True)
    assert client_for(db_app, county["away"]).get(f"/r/announcement/show/{notice}").status_code in (403, 404)
