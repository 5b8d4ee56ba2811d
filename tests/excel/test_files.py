"""Realistic files: the template as people fill it is accepted, and the mistakes people make are reported cell by
cell, with the file's own row numbers and the column's title, in Chinese."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.security.actor import acting_as, actor_for

from .conftest import make_importer


def problems(report) -> list[tuple[int, str, str]]:
    return [(p.row, p.title, p.message) for p in report.problems]


def stored(flask_app, register: str) -> list:
    svc = flask_app.extensions["safety"]
    model = svc.models[register]
    with flask_app.app_context():
        rows = svc.session.scalars(select(model).order_by(model.id).execution_options(include_all_rows=True)).all()
        svc.session.expunge_all()
        return rows


def count(flask_app, register: str) -> int:
    svc = flask_app.extensions["safety"]
    model = svc.models[register]
    with flask_app.app_context():
        return svc.session.scalar(select(func.count(model.id)).execution_options(include_all_rows=True))


def import_as_admin(flask_app, register: str, path, name: str, mode: str = "insert"):
    """A writing import by the administrator (the job acts as the user who uploaded)."""
    with flask_app.test_request_context():
        user = flask_app.appbuilder.sm.find_user(username="admin")
        actor = actor_for(user)
        with acting_as(actor):
            return make_importer(flask_app, register, mode, actor=actor).run(path, name)


def make_organisation(flask_app, name: str) -> None:
    from tests.security import factory
    svc = flask_app.extensions["safety"]
    with flask_app.app_context():
        factory.make_row(svc, "organisation", {"name": name, "region": factory.HOME_REGION,
                                               "department": factory.HOME_DEPARTMENT, "level": "county"})


def _one_row_workbook(gen, values: dict, path):
    """The enterprise template's header and one row (openpyxl), for a case of its own."""
    from openpyxl import Workbook
    columns = gen.import_columns("enterprise")
    wb = Workbook()
    ws = wb.active
    ws.title = "企业信息收集表"
    ws.append(gen.header(columns))
    ws.append([values.get(name) for name, _t, _r in columns])
    wb.save(path)
    return path


def test_the_files_follow_the_registers(db_app, gen):
    """The generator reads the descriptors itself: its titles and required marks are the engine's."""
    from app.excel.columns import import_columns
    registry = db_app.extensions["safety"].registry
    with db_app.test_request_context():
        for name in ("enterprise", "personnel", "chemical", "checklist"):
            columns = import_columns(registry, registry.register(name))
            engine = [(c.name, c.title("zh_Hans"), c.required) for c in columns]
            assert gen.import_columns(name) == engine, name


# ---------------------------------------------------------------- enterprises

def test_a_template_filled_by_hand_is_accepted(run_import, gen, db_app):
    report = run_import("enterprise", "enterprise_messy.xlsx")
    assert report.refused is None, report.refused
    assert report.ok, problems(report)
    assert report.rows == gen.MESSY_ROWS == 21 and report.valid == 21
    assert (report.sheet, report.header_row) == ("企业信息收集表", 3)   # two merged title rows above the header
    assert count(db_app, "enterprise") == 0                              # checking writes nothing


def test_what_people_type_is_stored_as_the_form_would_store_it(db_app, excel_files):
    report = import_as_admin(db_app, "enterprise", excel_files / "enterprise_messy.xlsx", "enterprise_messy.xlsx")
    assert report.ok and report.inserted == 21, problems(report)
    rows = {(r.name, r.enterprise_type): r for r in stored(db_app, "enterprise")}
    assert len(rows) == 21
    first = rows[("常州华锦新材料有限公司", "hc_production")]           # trailing space gone
    assert first.uscc.isascii() and len(first.uscc) == 18                # typed full-width
    assert first.safety_manager_mobile == "13912345678"                  # typed full-width
    assert (first.established_on, first.employee_count, first.region) == (date(2015, 6, 1), 120, "320411004")
    gas = rows[("常州新北港华燃气有限公司", "piped_gas")]                 # 城镇燃气类/管道燃气经营企业
    assert (gas.established_on, gas.licence_expires_on) == (date(2015, 6, 1), date(2027, 3, 31))  # typed as text
    assert (gas.phone, gas.safety_manager_mobile, gas.employee_count) == ("0519-85120000", "13906152233", 356)
    assert gas.region == "320411002"                                      # 三井街道, path with a trailing space
    lpg = rows[("常州市新北区龙虎塘华通液化气供应站", "lpg_bottled")]
    assert (lpg.established_on, lpg.licence_expires_on) == (date(2015, 6, 1), date(2025, 12, 31))  # 年月日, serial
    assert rows[("常州孟河汽车配件有限公司", "machinery")].registered_capital == Decimal("1200")
    assert rows[("常州孟河汽车配件有限公司", "machinery")].established_on == date(2012, 10, 8)
    assert rows[("新桥便民液化气店", "lpg_bottled")].uscc == "13861234567"  # the operator's mobile, full-width
    station = [r for (name, _t), r in rows.items() if name == "中石化常州新北新桥加油站"]
    assert sorted(r.enterprise_type for r in station) == ["fuel_station", "hc_business"]  # 004 Q38: two rows
    assert len({r.uscc for r in station}) == 1
    assert rows[("常州市魏村华润液化气充装站", "gas_filling")].status == "suspended"
    assert rows[("常州奔牛烟花爆竹零售点", "fireworks_retail")].status == "closed_business"


def test_each_planted_mistake_is_reported_at_its_row_and_column(run_import, excel_files, db_app):
    expected = json.loads((excel_files / "enterprise_errors.expected.json").read_text(encoding="utf-8"))
    report = run_import("enterprise", "enterprise_errors.xlsx")
    assert report.refused is None, report.refused
    assert report.rows == expected["data_rows"] == 12 and report.header_row == 2
    assert sorted((p.row, p.title) for p in report.problems) == \
        sorted((e["row"], e["column"]) for e in expected["problems"])
    assert report.problem_count == len(expected["problems"]) == 11
    assert report.valid == 2                                              # rows 3 and 4
    messages = {(p.row, p.title): p.message for p in report.problems}
    for e in expected["problems"]:
        assert e["message"] in messages[(e["row"], e["column"])], (e, messages[(e["row"], e["column"])])
    assert count(db_app, "enterprise") == 0


def test_an_empty_column_with_a_default_takes_the_default(db_app, gen, tmp_path):
    columns = gen.import_columns("enterprise")
    assert ("status", "企业状态", False) in columns                  # no * in the template
    workbook = _one_row_workbook(gen, {**gen.messy_enterprises()[0], "status": None}, tmp_path / "企业.xlsx")
    report = import_as_admin(db_app, "enterprise", workbook, "企业.xlsx")
    assert report.ok and report.inserted == 1, problems(report)
    assert [r.status for r in stored(db_app, "enterprise")] == ["producing"]


def test_an_importer_asked_to_validate_never_writes(db_app, excel_files):
    from app.excel.importer import Importer
    with db_app.test_request_context():
        spec = db_app.extensions["safety"].registry.register("enterprise")
        try:
            Importer(db_app, spec, None, mode="validate").run(excel_files / "enterprise_messy.xlsx",
                                                              "enterprise_messy.xlsx")
        except ValueError:
            pass  # refusing an unknown mode is fine too
    assert count(db_app, "enterprise") == 0


def test_an_enterprise_name_keeps_its_chinese_parentheses(db_app, gen, tmp_path):
    values = {**gen.messy_enterprises()[0], "name": "常州恒泰化工（集团）有限公司"}
    workbook = _one_row_workbook(gen, values, tmp_path / "企业.xlsx")
    report = import_as_admin(db_app, "enterprise", workbook, "企业.xlsx")
    assert report.inserted == 1, problems(report)
    assert [r.name for r in stored(db_app, "enterprise")] == ["常州恒泰化工（集团）有限公司"]


# ---------------------------------------------------------------- personnel, chemicals, checklists

def test_a_typed_department_is_refused_as_not_in_the_list(db_app, run_import, gen):
    make_organisation(db_app, gen.PERSONNEL_ORGANISATION)
    report = run_import("personnel", "personnel.xlsx", user="admin")
    assert report.refused is None and report.rows == len(gen.PERSONNEL) == 8
    assert problems(report) == [(gen.TYPED_DEPARTMENT_ROW, "人员归属部门",
                                 f"“{gen.TYPED_DEPARTMENT}”不在下拉列表中，请从下拉列表中选择。")]
    assert report.valid == 7


def test_personnel_need_their_organisation(run_import, gen):
    report = run_import("personnel", "personnel.xlsx", user="admin")
    missing = f"“{gen.PERSONNEL_ORGANISATION}”不存在或无权访问。"
    assert {(p.title, p.message) for p in report.problems if p.title == "所属单位"} == {("所属单位", missing)}
    assert len([p for p in report.problems if p.title == "所属单位"]) == 8


def test_an_organisation_named_with_chinese_parentheses_is_found(db_app, gen, tmp_path):
    from openpyxl import Workbook
    name = "常州市新北区应急管理局（区安委办）"
    make_organisation(db_app, name)
    columns = gen.import_columns("personnel")
    wb = Workbook()
    ws = wb.active
    ws.title = "用户岗位导入"
    ws.append(gen.header(columns))
    ws.append(["张伟", "13912345678", name, "应急管理", "是", "检查员"] + [None] * (len(columns) - 6))
    wb.save(tmp_path / "人员.xlsx")
    with db_app.test_request_context():
        actor = actor_for(db_app.appbuilder.sm.find_user(username="admin"))
        with acting_as(actor):
            report = make_importer(db_app, "personnel", actor=actor).run(tmp_path / "人员.xlsx", "人员.xlsx")
    assert report.ok, problems(report)


def test_a_wrong_cas_check_digit_is_refused(run_import, gen):
    report = run_import("chemical", "chemicals.xlsx")
    assert report.refused is None and report.rows == len(gen.CHEMICALS) == 12
    assert problems(report) == [(gen.WRONG_CAS_ROW, "CAS号", "CAS号无效：校验位不正确（例如 67-56-1）。")]
    assert report.valid == 11


def test_a_checklist_takes_the_name_of_its_file(db_app, run_import, excel_files, gen):
    name = "加油站检查清单.xlsx"
    report = run_import("checklist", name)
    assert report.ok and report.rows == len(gen.CHECKLIST) == 12, problems(report)
    assert count(db_app, "checklist") == 0
    written = import_as_admin(db_app, "checklist", excel_files / name, name)
    assert written.ok and written.inserted == 12, problems(written)
    (checklist,) = stored(db_app, "checklist")
    assert (checklist.name, checklist.kind) == ("加油站检查清单", "independent")
    items = stored(db_app, "checklist_item")
    assert [(i.stage, i.method) for i in items][:2] == [("证照管理", "查阅资料"), ("证照管理", "查阅资料")]
    assert {i.parent_id for i in items} == {checklist.id}
