"""An import is held to the register's cross-field rules (rules:): the refused row names both columns with
their values and the rule's message, in Chinese, and nothing of the file is written."""
from __future__ import annotations


from sqlalchemy import func, select

from tests.security import factory

from .workbook import fill


def test_a_row_breaking_a_rule_is_reported_with_both_columns_and_nothing_is_written(db_app, admin, run_import,
                                                                                     tmp_path):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        factory.make_row(svc, "enterprise", {"name": "常州华锦新材料有限公司", "region": factory.HOME_TOWNSHIP})
    template = admin.get("/r/hazard/template").data
    rows = [["常州华锦新材料有限公司", "甲类仓库未设置可燃气体报警装置", "一般隐患", "企业自查", "甲类仓库",
             "2026-11-02", "2026-12-02"],
            ["常州华锦新材料有限公司", "储罐区未设置围堰", "一般隐患", "企业自查", "储罐区",
             "2026-11-02", "2026-10-20"]]
    path = tmp_path / "隐患.xlsx"
    path.write_bytes(fill(template, rows).getvalue())

    report = run_import("hazard", "隐患.xlsx", mode="insert", path=path, user="admin")

    assert not report.written
    (problem,) = report.all_problems
    assert (problem.row, problem.column, problem.title) == (3, "rectify_by", "整改期限")
    assert problem.message == "整改期限（2026-10-20）、发现日期（2026-11-02）：整改期限不能早于发现日期"
    with db_app.app_context():
        hazard = svc.models["hazard"]
        assert svc.session.scalar(select(func.count()).select_from(hazard).execution_options(
            unscoped_reason="test")) == 0
