"""Codes typed with a Chinese input method (full-width digits and letters, spaces) are accepted by the import and
the API, stored in their plain form, and the template's 填写说明 says what is done to each column."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from tests.api.conftest import ApiClient
from tests.conftest import ADMIN_PASSWORD

from .workbook import code, enterprise_row, fill

FULL_WIDTH = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ")


def test_full_width_codes_are_imported_in_their_plain_form(admin, db_app, run_import, tmp_path):
    template = admin.get("/r/enterprise/template").data
    guide = openpyxl.load_workbook(io.BytesIO(template))["填写说明"]
    formats = {row[0]: row[3] for row in guide.iter_rows(values_only=True) if row and row[0]}
    assert formats["统一社会信用代码"].endswith("全角字母和数字转为半角；删除所有空格；字母转为大写")
    assert "全角" not in formats["企业名称"]

    typed = code(7).lower().translate(FULL_WIDTH).replace("９１", "９１ ")
    path = tmp_path / "企业.xlsx"
    path.write_bytes(fill(template, [enterprise_row(7, uscc=typed, phone="１３９ １２３４ ５６７８")]).getvalue())
    report = run_import("enterprise", "企业.xlsx", mode="insert", path=path, user="admin")
    assert report.written, [p.message for p in report.all_problems]
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["enterprise"]
        row = svc.session.scalars(select(model).execution_options(unscoped_reason="test")).one()
        assert (row.uscc, row.phone) == (code(7), "13912345678")


def test_the_api_accepts_a_full_width_mobile(db_app):
    svc = db_app.extensions["safety"]
    from tests.security import factory
    with db_app.app_context():
        enterprise_id = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP}).id
    client = ApiClient(db_app, "admin", ADMIN_PASSWORD)
    response = client.put(f"/api/v1/enterprise/{enterprise_id}", json={"safety_manager_mobile": "１３９１２３４５６７８"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["safety_manager_mobile"] == "13912345678"
