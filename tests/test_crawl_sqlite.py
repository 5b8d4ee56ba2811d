"""The embedded default as `./scripts/run` starts it (SQLite, tasks inline, the demo): its administrator, a county
administrator and an enterprise follow every link two clicks deep without a crash. PostgreSQL-only SQL in a screen
(a chart's split_part once made the administrator's home page a 500 here) fails this test."""
from __future__ import annotations

import re

from tests.crawler import crawl
from tests.helpers import FormClient, login


def test_the_embedded_default_crawls_without_a_failure(tmp_path):
    from app import create_app
    app = create_app("embedded", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'safety.db'}",
                     UPLOAD_FOLDER=tmp_path / "uploads", BACKUP_DIR=tmp_path / "backups")
    runner = app.test_cli_runner()
    for command in (["metadata", "migrate"], ["demo", "load"], ["demo", "workflows"], ["workflow", "deadlines"]):
        done = runner.invoke(args=command)
        assert done.exit_code == 0, (command, done.output[-2000:])
    printed = runner.invoke(args=["demo", "accounts"]).output
    logins = dict(re.findall(r"^.*?(\S+) / (\S+)$", printed, re.M))
    enterprise = next(name for name in logins if name[:2].isdigit())
    failures, visited = [], {}
    for account in ("admin", "xb_admin", enterprise):
        client = FormClient(app.test_client())
        login(client, account, logins[account])
        result = crawl(client.client, account, depth=2, rows_per_list=2, variants_per_page=1)
        visited[account] = len(result.visited)
        failures.extend(result.failures)
    assert all(count >= 100 for count in visited.values()), visited
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(map(str, failures))


def test_the_quick_search_finds_a_row_by_its_document_number_on_sqlite(tmp_path):
    """The document-number match is ``= ANY(ARRAY(…))`` on PostgreSQL and ``IN (…)`` here: the same rows."""
    import sqlite3

    from app import create_app
    database = tmp_path / "safety.db"
    app = create_app("embedded", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                     UPLOAD_FOLDER=tmp_path / "uploads", BACKUP_DIR=tmp_path / "backups")
    runner = app.test_cli_runner()
    for command in (["metadata", "migrate"], ["demo", "load"], ["demo", "workflows"]):
        assert runner.invoke(args=command).exit_code == 0, command
    logins = dict(re.findall(r"^.*?(\S+) / (\S+)$", runner.invoke(args=["demo", "accounts"]).output, re.M))
    client = FormClient(app.test_client())
    login(client, "admin", logins["admin"])
    page = client.get("/r/hazard/list/").get_data(as_text=True)
    shown = re.findall(r'<tr data-id="(\d+)"', page)
    assert len(shown) >= 3
    hazard = int(shown[1])
    assert client.get(f"/r/hazard/document/{hazard}/rectification_notice").status_code == 200
    with sqlite3.connect(database) as conn:
        (number,) = conn.execute("SELECT number FROM sys_document WHERE register = 'hazard' AND row_id = ?",
                                 (hazard,)).fetchone()
    found = client.get("/r/hazard/list/", query_string={"q": number}).get_data(as_text=True)
    assert [int(i) for i in re.findall(r'<tr data-id="(\d+)"', found)] == [hazard]
    assert client.get("/r/hazard/list/", query_string={"q": number + "9"}).status_code == 200
