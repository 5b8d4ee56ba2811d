"""`flask metadata migrate --sql` writes the plan as SQL for review and changes nothing; applied plans are
recorded with who, when and the SQL they ran, and `flask metadata history` lists them."""
from __future__ import annotations

import getpass
import re

from tests.schema.test_migrate import Workspace, _add_field, workspace  # noqa: F401 (the fixture)


def _flask(workspace: Workspace, *args: str):
    from app import create_app
    app = create_app("test", metadata_dirs=[workspace.root], SQLALCHEMY_DATABASE_URI=workspace.url,
                     UPLOAD_FOLDER=workspace.uploads)
    try:
        return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
    finally:
        with app.app_context():
            app.extensions["safety"].db.session.remove()
            app.extensions["safety"].db.engine.dispose()


def test_the_plan_as_sql_changes_nothing_and_history_records_who_applied_it(workspace: Workspace, tmp_path):
    assert workspace.migrate()[0] == 0
    workspace.sql("INSERT INTO reg_depot (depot_name, zone, created_at, updated_at) "
                  "VALUES ('北区一号物资库', 'n1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    workspace.edit("depot", _add_field({"name": "capacity", "label": {"zh": "库容", "en": "Capacity"},
                                        "type": "integer"}))
    workspace.edit("depot", lambda d: d.update(fields=[f for f in d["fields"] if f["name"] != "zone"],
                                               filters=[], list={"columns": ["depot_name"], "sort": ["depot_name"]}))

    result = _flask(workspace, "metadata", "migrate", "--sql")
    assert re.search(r"ALTER TABLE reg_depot ADD COLUMN capacity (BIGINT|INTEGER);", result.output)
    # the destructive step is shown, refused, and not rendered as a statement
    assert "-- ! drop column reg_depot.zone" in result.output and "DROP COLUMN" not in result.output
    assert result.output.strip().endswith("COMMIT;")
    target = tmp_path / "plan.sql"
    result = _flask(workspace, "metadata", "migrate", "--sql", str(target))
    assert "nothing was changed" in result.output
    assert "ALTER TABLE reg_depot ADD COLUMN capacity" in target.read_text(encoding="utf-8")
    _, columns = workspace.sql("SELECT 1")
    assert "capacity" not in columns["reg_depot"] and "zone" in columns["reg_depot"]

    result = _flask(workspace, "metadata", "migrate")
    assert result.exit_code == 1  # the drop is refused, the addition applied
    _, columns = workspace.sql("SELECT 1")
    assert "capacity" in columns["reg_depot"]

    history = _flask(workspace, "metadata", "history", "--sql")
    entries = [line for line in history.output.splitlines() if line.startswith("#")]
    assert len(entries) == 2, history.output
    assert f"{getpass.getuser()}@" in entries[1] and "2 change(s)" in entries[1]
    assert "+ add column reg_depot.capacity" in history.output
    assert "ADD COLUMN capacity" in history.output.split("+ add column")[-1]  # the statement the database ran
    assert "drop column" not in history.output
