"""What comes back from a refused import: the problems listed in row order, and the user's own workbook with every
bad row marked, the page's row numbers, its other sheets, drop-downs and formulas kept, re-importable as it is."""
from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import func, select

from tests.helpers import visible_text

from .test_files import _one_row_workbook, import_as_admin

ROW = re.compile(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>")


def _upload(client, path_or_bytes, name, mode="insert"):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    response = client.post_form("/r/enterprise/import", {"file": (io.BytesIO(data), name), "mode": mode},
                                page_url="/r/enterprise/import", content_type="multipart/form-data")
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[-500:]
    job_url = response.headers["Location"]
    return job_url, client.get(job_url).get_data(as_text=True)


def _listed(html: str) -> list[tuple[int, str, str]]:
    return [(int(row), title, message) for row, title, message in ROW.findall(html)]


def _count(app) -> int:
    svc = app.extensions["safety"]
    with app.app_context():
        model = svc.models["enterprise"]
        return svc.session.scalar(select(func.count(model.id)).execution_options(include_all_rows=True))


def _workbook(client, job_url) -> openpyxl.Workbook:
    response = client.get(job_url + "/file")
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _notes(sheet, column: int) -> dict[int, str]:
    return {row: sheet.cell(row=row, column=column).value for row in range(1, sheet.max_row + 1)
            if sheet.cell(row=row, column=column).value}


def test_the_first_problems_are_listed_in_row_order_and_every_bad_row_is_marked(admin, db_app, gen, excel_files,
                                                                                tmp_path):
    first = _one_row_workbook(gen, gen.many_problems_first_row(), tmp_path / "一行.xlsx")
    assert import_as_admin(db_app, "enterprise", first, "一行.xlsx").inserted == 1
    job_url, html = _upload(admin, excel_files / "many_problems.xlsx", "many_problems.xlsx")
    total = gen.MANY_PROBLEM_ROWS
    assert f"{total} 行中发现 {total} 个问题，未写入任何数据。" in visible_text(html)
    listed = _listed(html)
    assert len(listed) == 2000 and "此处仅列出前 2000 个问题，标注错误的文件中包含全部问题。" in visible_text(html)
    # row 2 is found by the register check, after the cell checks of every other row: still listed first
    assert listed[0][:2] == (2, "统一社会信用代码") and listed[0][2].startswith("系统中已存在")
    assert [row for row, _t, _m in listed] == list(range(2, 2002))
    assert {(t, m) for _r, t, m in listed[1:]} == {("成立日期", "日期格式不正确，应如 2024-01-31。")}
    sheet = _workbook(admin, job_url)["企业信息收集表"]
    header = [c.value for c in sheet[1]]
    assert header.count("错误说明") == 1
    notes = _notes(sheet, header.index("错误说明") + 1)
    assert sorted(notes) == list(range(1, total + 2))          # the title, then every one of the 2,500 rows
    date_column = header.index("成立日期") + 1
    assert all(sheet.cell(row=r, column=date_column).fill.fgColor.rgb.endswith("FFC7CE") for r in range(3, total + 2))
    assert _count(db_app) == 1


def test_the_error_workbook_is_the_users_own_file_marked(admin, db_app, gen, excel_files):
    source = excel_files / "errors_workbook.xlsx"
    job_url, html = _upload(admin, source, "第三批.xlsx")
    assert [(row, title) for row, title, _m in _listed(html)] == [(5, "统一社会信用代码"), (7, "企业类型")]
    wb = _workbook(admin, job_url)
    assert wb.sheetnames == ["填写说明", "企业信息收集表", "下拉选项"]
    assert wb["下拉选项"].sheet_state == "hidden"
    assert wb["填写说明"]["A1"].value == f"导入模板：{gen.register('enterprise')['label']['zh']}"
    sheet = wb["企业信息收集表"]
    assert sheet["A1"].value == "新北区危化企业信息（第三批）"                # the title row stays: same row numbers
    header = [c.value for c in sheet[2]]
    titles = gen.header(gen.import_columns("enterprise"))
    assert header == titles + ["备注", "错误说明"]
    note_column = len(header)
    assert sorted(_notes(sheet, note_column)) == [2, 5, 7]
    assert "统一社会信用代码无效" in sheet.cell(row=5, column=note_column).value
    assert "“燃气经营单位”不在可选范围内" in sheet.cell(row=7, column=note_column).value
    for row, name in gen.MARKED_BAD_ROWS.items():
        cell = sheet.cell(row=row, column=[n for n, _t, _r in gen.import_columns("enterprise")].index(name) + 1)
        assert cell.fill.fgColor.rgb.endswith("FFC7CE") and cell.comment is not None, (row, name)
    formula, formula_row = gen.MARKED_FORMULA
    assert sheet.cell(row=formula_row, column=len(titles) + 1).value == formula    # not blanked
    assert all(v is None for v in (c.value for c in sheet[4]))                     # the blank row stays blank
    (validation,) = sheet.data_validations.dataValidation
    assert validation.formula1 == "='下拉选项'!$A$2:$A$3" and str(validation.sqref) == "C3:C100"

    # uploaded again as it is: the same problems at the same rows, still one 错误说明 column
    marked = io.BytesIO()
    wb.save(marked)
    again_url, again = _upload(admin, marked.getvalue(), "第三批-错误.xlsx")
    assert [(row, title) for row, title, _m in _listed(again)] == [(5, "统一社会信用代码"), (7, "企业类型")]
    assert [c.value for c in _workbook(admin, again_url)["企业信息收集表"][2]] == header

    # corrected in place: imported, the 错误说明 column ignored
    sheet.cell(row=5, column=2).value = gen.make_uscc("91", 777)
    sheet.cell(row=7, column=3).value = "危险化学品经营单位"
    fixed = io.BytesIO()
    wb.save(fixed)
    _, done = _upload(admin, fixed.getvalue(), "第三批-改.xlsx")
    assert "完成：新增 4 条，更新 0 条" in visible_text(done)
    assert _count(db_app) == 4


def test_a_csv_comes_back_as_an_xlsx_copy_with_the_same_row_numbers(admin, db_app, excel_files):
    job_url, html = _upload(admin, excel_files / "enterprise_errors.csv", "企业.csv")
    assert [(row, title) for row, title, _m in _listed(html)] == [(4, "统一社会信用代码")]
    response = admin.get(job_url + "/file")
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "错误说明" and header[0] == "*企业名称"
    assert sorted(_notes(sheet, len(header))) == [1, 4]
    assert sheet.cell(row=4, column=2).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=2, column=1).value and all(c.value is None for c in sheet[3])
    assert _count(db_app) == 0


def test_a_large_xlsx_comes_back_as_a_copy_of_its_values_at_the_same_rows(admin, db_app, excel_files, monkeypatch):
    """Above FULL_WORKBOOK_ROWS data rows the upload is not loaded whole: its data sheet's values come back."""
    from app.excel import errors
    monkeypatch.setattr(errors, "FULL_WORKBOOK_ROWS", 2)
    job_url, html = _upload(admin, excel_files / "errors_workbook.xlsx", "第三批.xlsx")
    assert [(row, title) for row, title, _m in _listed(html)] == [(5, "统一社会信用代码"), (7, "企业类型")]
    wb = _workbook(admin, job_url)
    assert wb.sheetnames == ["企业信息收集表"]
    sheet = wb["企业信息收集表"]
    assert sheet["A1"].value == "新北区危化企业信息（第三批）"
    header = [c.value for c in sheet[2]]
    assert header[-2:] == ["备注", "错误说明"]
    assert sorted(_notes(sheet, len(header))) == [2, 5, 7]
    assert sheet.cell(row=5, column=2).fill.fgColor.rgb.endswith("FFC7CE")
