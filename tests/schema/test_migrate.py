"""`flask metadata migrate`: additive changes applied, destructive ones refused with the plan, on PostgreSQL
and SQLite, with the data left as it was."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect, text

from tests.conftest import FIXTURES, database_url, recreate_database

ENGINE = FIXTURES / "metadata" / "engine"


class Workspace:
    """A copy of the engine fixture metadata that a test edits between migrations."""

    def __init__(self, root: Path, url: str, uploads: Path):
        self.root, self.url, self.uploads = root, url, uploads
        shutil.copytree(ENGINE, root)

    def edit(self, register: str, change) -> None:
        path = self.root / "registers" / f"{register}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def migrate(self, **options) -> tuple[int, str]:
        from app import create_app
        from app.setup import migrate_database
        app = create_app("test", metadata_dirs=[self.root], SQLALCHEMY_DATABASE_URI=self.url,
                         UPLOAD_FOLDER=self.uploads)
        lines: list[str] = []
        with app.app_context():
            code = migrate_database(echo=lines.append, **options)
            app.extensions["safety"].db.session.remove()
            app.extensions["safety"].db.engine.dispose()
        return code, "\n".join(lines)

    def sql(self, statement: str, **params):
        from sqlalchemy import create_engine
        engine = create_engine(self.url)
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            rows = result.fetchall() if result.returns_rows else None
        columns = {t: [c["name"] for c in inspect(engine).get_columns(t)] for t in inspect(engine).get_table_names()}
        engine.dispose()
        return rows, columns


@pytest.fixture(params=["postgresql", "sqlite"])
def workspace(request, tmp_path) -> Workspace:
    if request.param == "postgresql":
        url = database_url("safety_test_migrate")
        recreate_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'migrate.db'}"
    return Workspace(tmp_path / "metadata", url, tmp_path / "uploads")


def _add_field(field):
    return lambda data: data["fields"].append(field)


def test_additive_changes_are_applied_and_destructive_ones_refused(workspace: Workspace):
    code, out = workspace.migrate()
    assert code == 0 and "create table reg_rescue_team" in out
    workspace.sql("INSERT INTO reg_depot (depot_name, zone, created_at, updated_at) "
                  "VALUES ('北区一号物资库', 'n1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")

    # a new nullable field, a new required field with a default, a new filter (index), a new register
    workspace.edit("depot", _add_field({"name": "capacity", "label": {"zh": "库容", "en": "Capacity"},
                                        "type": "integer"}))
    workspace.edit("depot", _add_field({"name": "open_24h", "label": {"zh": "24小时开放", "en": "Open 24h"},
                                        "type": "boolean", "required": True, "default": True}))
    workspace.edit("depot", lambda d: d["filters"].append("capacity"))
    (workspace.root / "registers" / "shelter.yaml").write_text(
        "name: shelter\nlabel: {zh: 避难场所, en: Shelters}\nmenu: {category: emergency}\n"
        "fields:\n  - {name: shelter_name, label: {zh: 名称, en: Name}, type: string, required: true}\n",
        encoding="utf-8")
    code, out = workspace.migrate(dry_run=True)
    assert code == 0 and "+ add column reg_depot.capacity" in out and "+ create table reg_shelter" in out
    assert "capacity" not in workspace.sql("SELECT 1")[1]["reg_depot"]  # a dry run changes nothing
    code, out = workspace.migrate()
    assert code == 0, out
    rows, columns = workspace.sql("SELECT depot_name, capacity, open_24h FROM reg_depot")
    assert rows == [("北区一号物资库", None, True)] and "reg_shelter" in columns

    # removing a field would drop its column: refused, printed, data kept
    workspace.edit("depot", lambda d: d.update(fields=[f for f in d["fields"] if f["name"] != "zone"],
                                               filters=[], list={"columns": ["depot_name"], "sort": ["depot_name"]}))
    code, out = workspace.migrate()
    assert code == 1
    assert "! drop column reg_depot.zone" in out and "--allow-destructive" in out and "renamed_from" in out
    rows, _ = workspace.sql("SELECT zone FROM reg_depot")
    assert rows == [("n1",)]


def test_narrowing_and_required_without_default_are_refused(workspace: Workspace):
    workspace.migrate()
    workspace.sql("INSERT INTO reg_depot (depot_name, created_at, updated_at) "
                  "VALUES ('北区一号物资库', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    workspace.edit("depot", lambda d: d["fields"][0].update(length=20))
    workspace.edit("depot", _add_field({"name": "manager", "label": {"zh": "负责人", "en": "Manager"},
                                        "type": "string", "required": True}))
    code, out = workspace.migrate()
    assert code == 1
    assert "! add column reg_depot.manager VARCHAR(255) NOT NULL" in out and "give the field a default" in out
    if "postgresql" in workspace.url:  # SQLite does not report string lengths back
        assert "! alter column reg_depot.depot_name: type VARCHAR(80) → VARCHAR(20)" in out
        assert "longer values would be cut" in out
    _, columns = workspace.sql("SELECT 1")
    assert "manager" not in columns["reg_depot"]


def test_a_renamed_field_keeps_its_data(workspace: Workspace):
    workspace.migrate()
    workspace.sql("INSERT INTO reg_depot (depot_name, zone, created_at, updated_at) "
                  "VALUES ('南区物资库', 's1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")

    def rename(data):
        data["fields"][1].update(name="area", renamed_from="zone")
        data["filters"] = ["area"]
        data["list"]["columns"] = ["depot_name", "area"]
    workspace.edit("depot", rename)
    code, out = workspace.migrate()
    assert code == 0, out
    assert "rename column reg_depot.zone → area" in out
    rows, _ = workspace.sql("SELECT depot_name, area FROM reg_depot")
    assert rows == [("南区物资库", "s1")]


def test_allow_destructive_applies_the_drop(workspace: Workspace):
    workspace.migrate()
    workspace.edit("rescue_team", lambda d: d.update(fields=[f for f in d["fields"] if f["name"] != "notes"],
                                                     search=["team_name"]))
    assert workspace.migrate()[0] == 1
    code, out = workspace.migrate(allow_destructive=True)
    assert code == 0 and "drop column reg_rescue_team.notes" in out
    assert "notes" not in workspace.sql("SELECT 1")[1]["reg_rescue_team"]


def test_a_required_field_goes_into_an_empty_table(workspace: Workspace):
    workspace.migrate()
    workspace.edit("depot", _add_field({"name": "manager", "label": {"zh": "负责人", "en": "Manager"},
                                        "type": "string", "required": True}))
    code, out = workspace.migrate()
    assert code == 0 and "+ add column reg_depot.manager VARCHAR(255) NOT NULL" in out


def test_a_new_reference_field_on_a_filled_register(workspace: Workspace):
    workspace.migrate()
    workspace.sql("INSERT INTO reg_depot (depot_name, created_at, updated_at) "
                  "VALUES ('北区一号物资库', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    workspace.edit("depot", _add_field({"name": "backup", "label": {"zh": "备用库", "en": "Backup depot"},
                                        "type": "reference", "register": "depot"}))
    code, out = workspace.migrate()
    assert code == 0, out
    assert out.count("create index ix_reg_depot_backup_id") == 1
    assert workspace.migrate()[1].endswith("nothing to do.") or "nothing to do" in workspace.migrate()[1]
    rows, columns = workspace.sql("SELECT depot_name, backup_id FROM reg_depot")
    assert rows == [("北区一号物资库", None)]


def test_a_change_the_database_refuses_is_reported_and_nothing_is_applied(workspace: Workspace):
    workspace.migrate()
    for _ in range(2):
        workspace.sql("INSERT INTO reg_depot (depot_name, zone, created_at, updated_at) "
                      "VALUES (:n, 'n1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", n=f"库{_}")
    workspace.edit("depot", _add_field({"name": "phone", "label": {"zh": "电话", "en": "Phone"}, "type": "string"}))
    workspace.edit("depot", lambda d: d["fields"][1].update(unique=True))  # zone repeats: n1, n1
    code, out = workspace.migrate()
    assert code == 1
    assert "The database refused a change, so nothing was applied" in out and "uq_reg_depot_zone" in out
    _, columns = workspace.sql("SELECT 1")
    assert "phone" not in columns["reg_depot"]  # the step before the refused one is undone too (SQLite as well)


def test_renamed_reference_field_keeps_its_links(workspace: Workspace):
    workspace.migrate()
    workspace.sql("INSERT INTO reg_depot (depot_name, created_at, updated_at) "
                  "VALUES ('北区一号物资库', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    workspace.sql("INSERT INTO reg_rescue_team (team_name, kind, depot_id, on_duty, created_at, updated_at) "
                  "VALUES ('救援一队', 'fire', 1, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")

    def rename(data):
        for f in data["fields"]:
            if f["name"] == "depot":
                f.update(name="home_depot", renamed_from="depot")
        data["filters"] = [x for x in data["filters"] if x != "depot"] + ["home_depot"]
        data["list"]["columns"] = [c if c != "depot" else "home_depot" for c in data["list"]["columns"]]
    workspace.edit("rescue_team", rename)
    code, out = workspace.migrate()
    assert code == 0, out
    assert "rename column reg_rescue_team.depot_id → home_depot_id" in out
    rows, _ = workspace.sql("SELECT team_name, home_depot_id FROM reg_rescue_team")
    assert rows == [("救援一队", 1)]


def test_a_declared_index_carries_its_included_columns(workspace: Workspace):
    """``indexes`` (§6.5): created by migrate with its INCLUDE columns and id on PostgreSQL (plain on SQLite), then
    nothing left to do; a changed ``include`` is a new index in place of the old one."""
    workspace.migrate()
    workspace.edit("depot", lambda data: data.update(indexes=[{"fields": ["zone", "closed"],
                                                               "include": ["depot_name"]}]))
    code, out = workspace.migrate()
    name = "ix_reg_depot_zone_closed_inc_depot_name_id"
    assert code == 0 and f"create index {name}" in out, out
    assert "nothing to do" in workspace.migrate()[1]
    if workspace.url.startswith("postgresql"):
        [(definition,)], _ = workspace.sql("SELECT indexdef FROM pg_indexes WHERE indexname = :n", n=name)
        assert definition.endswith("(zone, closed) INCLUDE (depot_name, id)"), definition
    else:
        rows, _ = workspace.sql(f"PRAGMA index_info({name})")
        assert [r[2] for r in rows] == ["zone", "closed"]
    workspace.edit("depot", lambda data: data.update(indexes=[{"fields": ["zone", "closed"],
                                                               "include": ["closure_reason"]}]))
    code, out = workspace.migrate(allow_destructive=True)
    assert code == 0 and "create index ix_reg_depot_zone_closed_inc_closure_reason_id" in out and name in out, out


def test_a_range_filter_is_indexed_with_the_id_the_list_breaks_ties_by(workspace: Workspace):
    """§6.5: a range filter's index is (column, id), the order of a page sorted by that column; a new range filter
    on a register in use gets it from migrate, and nothing is left to do after."""
    workspace.migrate()
    workspace.edit("depot", _add_field({"name": "opened_on", "label": {"zh": "启用日期", "en": "Opened on"},
                                        "type": "date"}))
    workspace.edit("depot", lambda data: data["filters"].append({"field": "opened_on", "op": "range"}))
    code, out = workspace.migrate()
    assert code == 0 and "create index ix_reg_depot_opened_on_id on reg_depot (opened_on, id)" in out, out
    assert "nothing to do" in workspace.migrate()[1]
