"""The audit trail: every change of every register row with who, when, organisation, old → new; shown on the
row's page (修改记录) and in the operation log; never changed through the UI or the API."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.security.policy import AccessDenied
from tests.helpers import visible_text
from tests.security import factory
from tests.views.test_crud import enterprise_form, rows


def _audit(app, **where):
    svc = app.extensions["safety"]
    audit = svc.models.engine["AuditLog"]
    with app.app_context():
        stmt = select(audit).order_by(audit.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(audit, key) == value)
        return [(a.action, a.field, a.old_value, a.new_value, a.username, a.organisation_id)
                for a in svc.session.scalars(stmt)]


def test_an_edit_shows_old_and_new_in_the_change_history_tab(admin, db_app):
    assert admin.post_form("/r/enterprise/add", enterprise_form(grade="C")).status_code == 302
    [row] = rows(db_app, "enterprise")
    [created] = _audit(db_app, register="enterprise", row_id=row.id)
    assert created[:3] == ("insert", None, None) and created[4] == "admin"
    assert '"name": "常州测试化工有限公司"' in created[3] and '"grade": "C"' in created[3]
    admin.post_form(f"/r/enterprise/edit/{row.id}", enterprise_form(grade="A", region="320412001",
                                                                     name="常州测试化工有限公司"))
    updates = [a for a in _audit(db_app, register="enterprise", row_id=row.id) if a[0] == "update"]
    assert sorted((a[1], a[2], a[3]) for a in updates) == [("grade", "C", "A"), ("region", "320411004", "320412001")]
    page = visible_text(admin.get(f"/r/enterprise/show/{row.id}").get_data(as_text=True))
    # labels, not codes: 企业分级 C级 → A级, 属地 … 新北区 / 春江街道 → … 武进区 / …
    history = page[page.index("修改前"):]
    assert "企业分级 C级 A级" in history
    assert "属地 江苏省 / 常州市 / 新北区 / 春江街道 江苏省 / 常州市 / 武进区 /" in history
    assert "admin" in history


def test_deletes_and_child_rows_are_recorded(admin, db_app):
    admin.post_form("/r/enterprise/add", enterprise_form(**{"certificates-0-certificate_name": "许可证",
                                                            "certificates-0-certificate_number": "A-1"}))
    [row] = rows(db_app, "enterprise")
    [child] = _audit(db_app, register="enterprise_certificate")
    assert child[0] == "insert" and '"certificate_number": "A-1"' in child[3]
    admin.post_form(f"/r/enterprise/delete/{row.id}", {}, page_url=f"/r/enterprise/show/{row.id}")
    deleted = [a for a in _audit(db_app, register="enterprise", row_id=row.id) if a[0] == "delete"]
    assert len(deleted) == 1 and '"name": "常州测试化工有限公司"' in deleted[0][2]


def test_the_operation_log_is_searchable_and_read_only(admin, db_app):
    admin.post_form("/r/law/add", {"title": "安全生产法", "kind": "law", "supervision_type": "general",
                                   "effective_on": "2021-09-01", "validity": "in_force"})
    text = visible_text(admin.get("/audit/changes/?f.register=law").get_data(as_text=True))
    assert "法律法规" in text and "安全生产法" in text and "法规类别" in text
    assert "安全生产法" not in visible_text(admin.get("/audit/changes/?f.register=chemical").get_data(as_text=True))
    assert admin.get("/audit/changes/edit/1").status_code == 404
    assert admin.post("/audit/changes/delete/1").status_code in (400, 404)
    svc = db_app.extensions["safety"]
    audit = svc.models.engine["AuditLog"]
    with db_app.app_context():
        entry = svc.session.scalars(select(audit)).first()
        entry.new_value = "篡改"
        with pytest.raises(AccessDenied):
            svc.session.commit()
        svc.session.rollback()


def test_a_refused_write_leaves_no_audit_row_and_no_change(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        regulator = factory.make_user(db_app, "regulator", home).username
        row = factory.make_row(svc, "enterprise", {"region": factory.AWAY_TOWNSHIP, "department": "emergency"})
        row_id, name = row.id, row.name
    before = _audit(db_app, register="enterprise", row_id=row_id)
    from tests.security.test_writes import _client
    client = _client(db_app, regulator)
    assert client.post_form(f"/r/enterprise/edit/{row_id}", {"name": "改名"}, page_url="/account/password"
                            ).status_code == 403
    assert _audit(db_app, register="enterprise", row_id=row_id) == before
    assert rows(db_app, "enterprise")[0].name == name


def test_each_change_names_the_organisation_of_the_account(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        home_id = home.id
        username = factory.make_user(db_app, "org_admin", home).username
    from tests.security.test_writes import _client
    client = _client(db_app, username)
    assert client.post_form("/r/enterprise/add", enterprise_form(uscc=factory.make_uscc())).status_code == 302
    entries = _audit(db_app, register="enterprise", action="insert")
    assert entries[-1][4:] == (username, home_id)
    [row] = rows(db_app, "enterprise")
    assert row.organisation_id == home_id


def test_a_change_no_one_signed_in_made_is_shown_as_the_system(admin, db_app):
    """Demo data and background tasks write with no user: the log and the row's history say 系统, not a login."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row = factory.make_row(svc, "law", {"title": "后台写入的法规"})
        row_id = row.id
    assert _audit(db_app, register="law", row_id=row_id)[0][4] == "system"
    log = visible_text(admin.get("/audit/changes/?f.register=law").get_data(as_text=True))
    line = log[log.index("后台写入的法规") - 80:log.index("后台写入的法规")]
    assert " 系统 法律法规 " in line and "system" not in line, line
    history = visible_text(admin.get(f"/r/law/show/{row_id}").get_data(as_text=True))
    assert "系统" in history[history.index("修改前"):] and "system" not in history
