"""Imports through the screens: template, all-or-nothing, errors per row and column, duplicates, modes, scope."""
from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import func, select

from tests.helpers import visible_text
from tests.security import factory
from tests.security.test_writes import _client

from .workbook import code, enterprise_row, fill


def _upload(client, register, workbook, name="企业.xlsx", mode="insert", dry_run=False):
    data = {"file": (workbook, name), "mode": mode}
    if dry_run:
        data["dry_run"] = "1"
    response = client.post_form(f"/r/{register}/import", data,
                                page_url=f"/r/{register}/import", content_type="multipart/form-data")
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[-500:]
    job_url = response.headers["Location"]
    return job_url, visible_text(client.get(job_url).get_data(as_text=True))


def _count(app, register, **where):
    svc = app.extensions["safety"]
    model = svc.models[register]
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return svc.session.execute(stmt.execution_options(include_all_rows=True)).scalar_one()


def test_the_template_has_instructions_dropdowns_and_required_marks(admin):
    response = admin.get("/r/personnel/template")
    assert response.status_code == 200 and "人员导入模板.xlsx" in response.headers["Content-Disposition"] \
        or "%E4%BA%BA%E5%91%98" in response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["填写说明", "用户岗位导入", "下拉选项"]
    assert wb["下拉选项"].sheet_state == "hidden"
    guide = [row for row in wb["填写说明"].iter_rows(values_only=True)]
    assert any("人员归属部门" in str(row[0]) and "必须从下拉列表中选择" in str(row[0]) for row in guide)
    department = next(row for row in guide if row[0] == "人员归属部门")
    assert department[2] == "是" and "应急管理" in department[4] and department[5] == "住房和城乡建设"
    data = wb["用户岗位导入"]
    assert [c.value for c in data[1]][:6] == ["*姓名", "*手机号码", "*所属单位", "*人员归属部门", "是否内部人员", "*岗位"]
    validations = {str(v.sqref): v.formula1 for v in data.data_validations.dataValidation}
    assert validations["D2:D5001"] == "='下拉选项'!$A$2:$A$17"   # 16 departments
    assert validations["E2:E5001"] == "='下拉选项'!$B$2:$B$3"    # 是 / 否
    assert [wb["下拉选项"].cell(row=r, column=2).value for r in (2, 3)] == ["是", "否"]
    assert data.column_dimensions["J"].number_format == "yyyy-mm-dd"
    admin.get("/lang/en")
    english = openpyxl.load_workbook(io.BytesIO(admin.get("/r/personnel/template").data))
    assert english.sheetnames == ["Instructions", "Personnel", "Lists"]
    assert [c.value for c in english["Personnel"][1]][:2] == ["*Name", "*Mobile"]


def test_a_clean_file_is_imported_audited_and_opens_enterprise_accounts(admin, db_app):
    template = admin.get("/r/enterprise/template").data
    rows = [enterprise_row(n) for n in range(1, 6)]
    rows.insert(2, [None] * 9)  # a blank row between the data
    rows[0][1] = " " + rows[0][1].lower() + " "  # spaces and lower case around a code
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert "完成：新增 5 条，更新 0 条" in page
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["enterprise"]
        stored = svc.session.scalars(select(model).order_by(model.id)).all()
        assert [r.uscc for r in stored][0] == code(1)
        assert {r.region for r in stored} == {"320411004"} and {r.enterprise_type for r in stored} == {"hc_production"}
        audit = svc.models.engine["AuditLog"]
        assert svc.session.execute(select(func.count()).select_from(audit).where(
            audit.register == "enterprise", audit.action == "insert", audit.username == "admin")).scalar_one() == 5
        account = db_app.appbuilder.sm.find_user(username=code(3))
        assert account.must_change_password and [r.name for r in account.roles] == ["enterprise_user"]
    assert "常州测试化工3有限公司" in visible_text(admin.get("/r/enterprise/list/").get_data(as_text=True))


def test_one_wrong_row_writes_nothing_and_the_errors_come_back_marked(admin, db_app):
    template = admin.get("/r/enterprise/template").data
    bad_code = code(2)[:-1] + ("0" if code(2)[-1] != "0" else "1")
    rows = [enterprise_row(1), enterprise_row(2, uscc=bad_code), enterprise_row(3, enterprise_type="燃气公司"),
            enterprise_row(4, region="江苏省/常州市/不存在区"), enterprise_row(1, name="重复的行")]
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert _count(db_app, "enterprise") == 0
    assert "4 行中发现 4 个问题，未写入任何数据" in page
    problems = re.findall(r"(\d+) (统一社会信用代码|企业类型|属地) ", page)
    assert ("3", "统一社会信用代码") in problems and ("4", "企业类型") in problems and ("5", "属地") in problems
    assert "重复于文件第 2 行" in page and "“燃气公司”不在可选范围内" in page
    workbook = admin.get(job_url + "/file")
    assert workbook.status_code == 200
    marked = openpyxl.load_workbook(io.BytesIO(workbook.data))
    assert marked.sheetnames == ["填写说明", "企业信息收集表", "下拉选项"]   # the user's own file, marked
    sheet = marked["企业信息收集表"]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "错误说明"
    assert sheet.cell(row=3, column=2).fill.fgColor.rgb.endswith("FFC7CE")   # the bad USCC cell
    assert "统一社会信用代码无效" in sheet.cell(row=3, column=len(header)).value
    assert sheet.cell(row=2, column=len(header)).value is None              # the good row has no note


def test_duplicates_name_the_file_row_or_the_register(admin, db_app):
    template = admin.get("/r/enterprise/template").data
    _upload(admin, "enterprise", fill(template, [enterprise_row(1)]))
    # 004 Q21/Q38: the same code with another type is a second row; with the same type and address a duplicate
    rows = [enterprise_row(1), enterprise_row(1, enterprise_type="危险化学品储存单位")]
    _, page = _upload(admin, "enterprise", fill(template, rows))
    assert "系统中已存在：该统一社会信用代码已以相同的企业类型和地址登记" in page
    assert _count(db_app, "enterprise") == 1
    _, page = _upload(admin, "enterprise", fill(template, rows[1:]))
    assert "新增 1 条" in page and _count(db_app, "enterprise") == 2


def test_insert_or_update_by_the_declared_key_and_check_only(admin, db_app):
    template = admin.get("/r/enterprise/template").data
    _upload(admin, "enterprise", fill(template, [enterprise_row(1), enterprise_row(2)]))
    changed = [enterprise_row(1, legal_representative="李娜"), enterprise_row(3)]
    _, page = _upload(admin, "enterprise", fill(template, changed), mode="upsert", dry_run=True)
    assert "仅校验，未写入数据" in page and _count(db_app, "enterprise") == 2
    _, page = _upload(admin, "enterprise", fill(template, changed), mode="upsert")
    assert "新增 1 条，更新 1 条" in page
    assert _count(db_app, "enterprise", legal_representative="李娜") == 1 and _count(db_app, "enterprise") == 3


def test_a_county_regulator_cannot_import_rows_of_another_county(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        admin_name = factory.make_user(db_app, "org_admin", factory.make_org(svc)).username
    client = _client(db_app, admin_name)
    template = client.get("/r/enterprise/template").data
    rows = [enterprise_row(1), enterprise_row(2, region="辽宁省/朝阳市/双塔区/凌河街道")]
    _, page = _upload(client, "enterprise", fill(template, rows))
    # on the row and the column that put it outside, naming the jurisdiction it misses
    assert "3 属地 不在您的管辖范围（江苏省 / 常州市 / 新北区）内，不能新增此行。" in page
    assert _count(db_app, "enterprise") == 0
    _, page = _upload(client, "enterprise", fill(template, rows[:1]))
    assert "新增 1 条" in page
    with db_app.app_context():
        model = svc.models["enterprise"]
        row = svc.session.scalars(select(model)).one()
        assert row.created_by_id is not None and row.organisation_id is not None


def test_a_file_that_is_not_the_template_is_refused_with_the_missing_columns(admin, db_app):
    wb = openpyxl.Workbook()
    wb.active.append(["企业名称", "联系人", "备注"])
    wb.active.append(["某公司", "张三", "无"])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    _, page = _upload(admin, "enterprise", buffer)
    assert "这不是导入模板：缺少以下必填列：统一社会信用代码、企业类型、属地、企业住所、法定代表人、行业主管部门" in page


def test_a_checklist_takes_the_file_name(admin, db_app):
    template = admin.get("/r/checklist/template").data
    rows = [["储存场所", "危险化学品应储存在专用仓库内", "《危险化学品安全管理条例》第二十四条", "现场查看"],
            ["", "", "", ""], ["安全管理", "应建立安全生产责任制", None, "查阅资料"]]
    _, page = _upload(admin, "checklist", fill(template, rows), name="加油站安全检查清单.xlsx")
    assert "新增 2 条" in page
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["checklist"]
        checklist = svc.session.scalars(select(model)).one()
        assert checklist.name == "加油站安全检查清单" and checklist.kind == "independent"
        assert [i.stage for i in checklist.items] == ["储存场所", "安全管理"]
    template_rows = [["", "只有内容", "", ""]]
    _, page = _upload(admin, "checklist", fill(template, template_rows), name="缺环节.xlsx")
    assert "检查环节" in page and "此项为必填项" in page


def test_the_enterprise_template_has_management_level_with_its_dropdown_and_an_import_sets_it(admin, db_app):
    template = admin.get("/r/enterprise/template").data
    wb = openpyxl.load_workbook(io.BytesIO(template))
    data = wb["企业信息收集表"]
    header = [c.value for c in data[1]]
    column = header.index("管理层级") + 1  # optional (it has a default), so no '*'
    letter = openpyxl.utils.get_column_letter(column)
    validations = {str(v.sqref): v.formula1 for v in data.data_validations.dataValidation}
    formula = validations[f"{letter}2:{letter}5001"]
    lists = wb["下拉选项"]
    list_column, first, last = re.fullmatch(r"='下拉选项'!\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)", formula).groups()
    assert [lists[f"{list_column}{r}"].value for r in range(int(first), int(last) + 1)] == ["省直管", "市直管", "属地管理"]

    rows = [enterprise_row(n) + [None] * (column - 9) for n in (1, 2, 3)]
    rows[0][column - 1], rows[1][column - 1] = "市直管", "省直管"   # the third keeps the default
    _, page = _upload(admin, "enterprise", fill(template, rows))
    assert "完成：新增 3 条，更新 0 条" in page, page[-400:]
    assert _count(db_app, "enterprise", management_level="city") == 1
    assert _count(db_app, "enterprise", management_level="province") == 1
    assert _count(db_app, "enterprise", management_level="county") == 1
