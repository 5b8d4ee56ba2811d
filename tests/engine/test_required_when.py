"""required_when: a field (an image too) required while a condition on the row's other fields holds, on the
form, and on every write through the session."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.helpers import field_errors

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
       b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _depots(engine_app) -> int:
    svc = engine_app.extensions["safety"]
    with engine_app.app_context():
        return svc.session.scalar(select(func.count()).select_from(svc.models["depot"]).execution_options(
            unscoped_reason="test"))


def test_the_form_requires_the_reason_and_the_photo_only_when_the_depot_is_closed(engine_app, engine_admin):
    before = _depots(engine_app)
    response = engine_admin.post_form("/r/depot/add", {"depot_name": "新北区物资库", "closed": "y"},
                                      content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert field_errors(html, "closure_reason") == ["此项为必填项。"]
    assert field_errors(html, "closure_photo") == ["此项为必填项。"]
    assert _depots(engine_app) == before

    saved = engine_admin.post_form("/r/depot/add", {"depot_name": "武进区物资库", "closed": "y",
                                                    "closure_reason": "搬迁",
                                                    "closure_photo": (io.BytesIO(PNG), "现场.png")},
                                   page_url="/r/depot/add", content_type="multipart/form-data")
    assert saved.status_code == 302, field_errors(saved.get_data(as_text=True), "closure_photo")
    open_depot = engine_admin.post_form("/r/depot/add", {"depot_name": "金坛区物资库"},
                                        content_type="multipart/form-data")
    assert open_depot.status_code == 302
    assert _depots(engine_app) == before + 2


def test_a_write_through_the_session_is_held_to_it(engine_app):
    from app.write_path import RuleBroken
    svc = engine_app.extensions["safety"]
    with engine_app.app_context():
        svc.session.add(svc.models["depot"](depot_name="溧阳市物资库", closed=True, closure_reason="撤并"))
        with pytest.raises(RuleBroken, match="停用现场照片"):
            svc.session.flush()
        svc.session.rollback()


def test_an_import_names_the_row_the_column_and_the_condition(engine_app, engine_admin, tmp_path):
    from tests.excel.conftest import make_importer
    from tests.excel.workbook import fill

    template = engine_admin.get("/r/depot/template").data
    path = tmp_path / "物资库.xlsx"
    # columns: 物资库名称, 所在分区, 已停用, 停用原因 (the photo is no column)
    path.write_bytes(fill(template, [["天宁区物资库", None, "否", None], ["钟楼区物资库", None, "是", None]]).getvalue())
    before = _depots(engine_app)
    with engine_app.test_request_context():
        report = make_importer(engine_app, "depot", "insert").run(path, "物资库.xlsx")
    assert not report.written
    problems = [(p.row, p.title, p.message) for p in report.all_problems]
    # the row's problem first (no column), then the cell's
    assert problems == [(3, "", "停用现场照片：已停用（是）：此项为必填项。"),
                        (3, "停用原因", "已停用（是）：此项为必填项。")]
    assert _depots(engine_app) == before
