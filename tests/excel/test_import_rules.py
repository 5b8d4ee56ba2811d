"""What an import may change: blank cells of updated rows (import.blank), a role's read-only fields (left out of its
template and its import), and the one audit format of imported rows."""
from __future__ import annotations

import io
import json

import openpyxl
from sqlalchemy import select

from app.metadata.spec import AccessRule
from app.security.actor import acting_as, actor_for
from tests.helpers import visible_text
from tests.security import factory

from .test_error_workbook import _upload
from .test_files import _one_row_workbook, import_as_admin, stored

KEEP_NOTE = "更新已有记录时，空白单元格保留原值；如需清空，请在单元格中填写 <清空>。"


def _seed(db_app, gen, tmp_path):
    first = _one_row_workbook(gen, gen.messy_enterprises()[0], tmp_path / "一行.xlsx")
    assert import_as_admin(db_app, "enterprise", first, "一行.xlsx").inserted == 1
    (row,) = stored(db_app, "enterprise")
    assert (row.phone, row.employee_count, row.safety_manager) == ("0519-85681234", 120, "李强")
    return row


def test_blank_cells_keep_the_stored_value_and_the_marker_empties_it(admin, db_app, gen, excel_files, tmp_path):
    seeded = _seed(db_app, gen, tmp_path)
    assert KEEP_NOTE in visible_text(admin.get("/r/enterprise/import").get_data(as_text=True))
    guide = openpyxl.load_workbook(io.BytesIO(admin.get("/r/enterprise/template").data))["填写说明"]
    assert KEEP_NOTE in [row[0] for row in guide.iter_rows(values_only=True)]
    _, html = _upload(admin, excel_files / "upsert_blank.xlsx", "更新.xlsx", mode="upsert")
    assert "完成：新增 0 条，更新 1 条" in visible_text(html)
    (row,) = stored(db_app, "enterprise")
    assert row.id == seeded.id and row.legal_representative == gen.UPSERT_BLANK["legal_representative"]
    assert (row.phone, row.employee_count) == ("0519-85681234", 120)      # left blank: kept
    assert row.safety_manager is None                                      # <清空>: emptied
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        audit = svc.models.engine["AuditLog"]
        changed = set(svc.session.scalars(select(audit.field).where(audit.action == "update", audit.row_id == row.id)))
    assert changed == {"legal_representative", "safety_manager"}


def test_a_register_may_declare_that_blank_cells_clear(db_app, gen, excel_files, tmp_path):
    _seed(db_app, gen, tmp_path)
    spec = db_app.extensions["safety"].registry.register("enterprise")
    clearing = spec.model_copy(update={"import_": spec.import_.model_copy(update={"blank": "clear"})})
    from app.excel.importer import Importer
    from app.excel.template import blank_note
    with db_app.test_request_context():
        assert blank_note(clearing) == "更新已有记录时，空白单元格将清空原值。"
        actor = actor_for(db_app.appbuilder.sm.find_user(username="admin"))
        with acting_as(actor):
            report = Importer(db_app, clearing, actor, "upsert").run(excel_files / "upsert_blank.xlsx", "更新.xlsx")
    assert report.ok and report.updated == 1, report.problems
    (row,) = stored(db_app, "enterprise")
    assert (row.phone, row.employee_count, row.safety_manager) == (None, None, None)


def _regulator_importing(db_app, read_only: tuple[str, ...]):
    """The enterprise register with the regulators' rule granting 'import' and locking ``read_only``, and a
    regulator (the rule as a configurator would write it; the shipped YAML grants no import with locked fields)."""
    svc = db_app.extensions["safety"]
    spec = svc.registry.register("enterprise")
    rule = AccessRule(roles=("regulator",), actions=("view", "add", "edit", "import"), scope=("all",),
                      read_only=read_only)
    locked = spec.model_copy(update={"access": tuple(r for r in spec.access if "regulator" not in r.roles) + (rule,)})
    with db_app.app_context():
        username = factory.make_user(db_app, "regulator", factory.make_org(svc)).username
    return locked, username


def test_a_roles_read_only_fields_are_no_columns_of_its_template_nor_written(db_app, gen, excel_files, tmp_path):
    from app.excel.columns import import_read_only
    from app.excel.importer import Importer
    from app.excel.template import build_template
    spec, username = _regulator_importing(db_app, ("phone", "grade"))
    svc = db_app.extensions["safety"]
    policy = db_app.extensions["safety_policy"]
    with db_app.test_request_context():
        actor = actor_for(db_app.appbuilder.sm.find_user(username=username))
        read_only = import_read_only(policy, svc.registry, spec, actor)
        assert read_only == {"phone", "grade"}
        template = openpyxl.load_workbook(io.BytesIO(build_template(svc, spec, read_only)))
        titles = [c.value for c in template.worksheets[1][1]]
        assert "联系电话" not in titles and "企业分级" not in titles and "*企业名称" in titles
        guide = [row[0] for row in template["填写说明"].iter_rows(values_only=True)]
        assert "联系电话" not in guide and "安全负责人" in guide
        with acting_as(actor):
            # the full template, as an administrator downloads it: the locked columns are there and ignored
            report = Importer(db_app, spec, actor, "insert").run(excel_files / "styled_last_row.xlsx", "企业.xlsx")
    assert report.ok and report.inserted == gen.STYLED_ROWS, report.problems
    rows = stored(db_app, "enterprise")
    assert len(rows) == 3 and {r.phone for r in rows} == {None} and {r.grade for r in rows} == {None}
    assert {r.safety_manager for r in rows} != {None}                     # the other columns were read


def test_an_update_may_not_change_what_the_role_may_not_edit(db_app, gen, excel_files, tmp_path):
    """A user with two roles: importing (inspectors here) locks nothing, editing (regulators) locks the legal
    representative. The changed cell is refused like any other problem; the job does not fail at the write."""
    from app.excel.importer import Importer
    seeded = _seed(db_app, gen, tmp_path)
    svc = db_app.extensions["safety"]
    spec = svc.registry.register("enterprise")
    rules = (AccessRule(roles=("inspector",), actions=("view", "add", "import"), scope=("all",)),
             AccessRule(roles=("regulator",), actions=("view", "edit"), scope=("all",),
                        read_only=("legal_representative",)))
    spec = spec.model_copy(update={"access": tuple(r for r in spec.access if not {"inspector", "regulator"} & set(
        r.roles)) + rules})
    sm = db_app.appbuilder.sm
    with db_app.app_context():
        username = factory.make_user(db_app, "regulator", factory.make_org(svc)).username
        user = sm.find_user(username=username)
        user.roles.append(sm.find_role("inspector"))
        sm.session.commit()
    with db_app.test_request_context():
        actor = actor_for(sm.find_user(username=username))
        with acting_as(actor):
            report = Importer(db_app, spec, actor, "upsert").run(excel_files / "upsert_blank.xlsx", "更新.xlsx")
    assert [(p.row, p.title, p.message) for p in report.problems] == \
        [(2, "法定代表人", f"您无权修改已有记录 #{seeded.id} 的该列。")]
    assert stored(db_app, "enterprise")[0].legal_representative == "王伟"


def test_imported_rows_have_one_audit_entry_each_from_the_recorder(db_app, gen, excel_files):
    report = import_as_admin(db_app, "enterprise", excel_files / "styled_last_row.xlsx", "企业.xlsx")
    assert report.inserted == 3
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        audit = svc.models.engine["AuditLog"]
        entries = svc.session.scalars(select(audit).where(audit.register == "enterprise").order_by(audit.id)).all()
        assert [(e.action, e.username, e.field) for e in entries] == [("insert", "admin", None)] * 3
        assert [json.loads(e.new_value) for e in entries] == [{"_import": f"企业.xlsx#{n}"} for n in (2, 3, 4)]
        assert len({e.row_id for e in entries}) == 3 and entries[0].user_id is not None
