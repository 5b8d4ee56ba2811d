"""An import streams its rows in chunks (read, checked and written chunk by chunk in one transaction), so memory
does not grow with the file; all or nothing still holds across chunks, and so do the checks that span them."""
from __future__ import annotations

from sqlalchemy import func, select

from .test_import import _count, _upload
from .workbook import code, enterprise_row, fill


def test_a_wrong_row_in_the_last_chunk_undoes_the_chunks_already_written(admin, db_app, monkeypatch):
    from app.excel import importer
    monkeypatch.setattr(importer, "CHUNK_ROWS", 20)
    template = admin.get("/r/enterprise/template").data
    rows = [enterprise_row(n) for n in range(1, 70)] + [enterprise_row(70, enterprise_type="燃气公司")]
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert "1 行中发现 1 个问题，未写入任何数据" in page and "“燃气公司”不在可选范围内" in page
    assert _count(db_app, "enterprise") == 0
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        audit = svc.models.engine["AuditLog"]
        assert svc.session.execute(select(func.count()).select_from(audit)
                                   .where(audit.register == "enterprise")).scalar_one() == 0
        assert db_app.appbuilder.sm.find_user(username=code(5)) is None  # no enterprise account either
    # the same rows, corrected: every chunk is written, once
    rows[-1] = enterprise_row(70)
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert "完成：新增 70 条" in page and _count(db_app, "enterprise") == 70


def test_a_duplicate_far_from_its_first_row_is_found_across_chunks(admin, db_app, monkeypatch):
    from app.excel import importer
    monkeypatch.setattr(importer, "CHUNK_ROWS", 20)
    template = admin.get("/r/enterprise/template").data
    rows = [enterprise_row(n) for n in range(1, 60)] + [enterprise_row(1, name="第二次出现")]
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert "重复于文件第 2 行" in page and _count(db_app, "enterprise") == 0
    # a check-only run streams the same way and writes nothing
    job_url, page = _upload(admin, "enterprise", fill(template, rows[:-1]), dry_run=True)
    assert "全部 59 行校验通过；仅校验，未写入数据" in page
    assert _count(db_app, "enterprise") == 0


def test_add_or_update_across_chunks_updates_each_row_once(admin, db_app, monkeypatch):
    from app.excel import importer
    monkeypatch.setattr(importer, "CHUNK_ROWS", 20)
    template = admin.get("/r/enterprise/template").data
    _upload(admin, "enterprise", fill(template, [enterprise_row(n) for n in range(1, 51)]))
    changed = [enterprise_row(n, legal_representative="李娜") for n in range(1, 61)]
    _, page = _upload(admin, "enterprise", fill(template, changed), mode="upsert")
    assert "新增 10 条，更新 50 条" in page
    assert _count(db_app, "enterprise", legal_representative="李娜") == 60 and _count(db_app, "enterprise") == 60
