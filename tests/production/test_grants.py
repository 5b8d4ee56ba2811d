"""The application's database role (flask grants): it reads and writes the registers, and only adds rows to the
audit tables — PostgreSQL itself refuses to change or delete an audit row, whatever the application sends."""
from __future__ import annotations

import os

import psycopg2
import pytest
from psycopg2 import errors
from sqlalchemy import make_url

from tests.security import factory

ROLE = f"safety_app_{os.getpid()}"
PASSWORD = "App-Role-2024"


@pytest.fixture
def app_role(db_app):
    url = make_url(db_app.config["SQLALCHEMY_DATABASE_URI"])
    admin = psycopg2.connect(host=url.host, port=url.port or 5432, user=url.username, dbname=url.database)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP OWNED BY "{ROLE}"' if _exists(cur) else "SELECT 1")
        cur.execute(f'DROP ROLE IF EXISTS "{ROLE}"')
        cur.execute(f"CREATE ROLE \"{ROLE}\" LOGIN PASSWORD '{PASSWORD}'")
    result = db_app.test_cli_runner().invoke(args=["grants", ROLE])
    assert result.exit_code == 0, result.output
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON sys_audit_log" in result.output
    yield url.set(username=ROLE, password=PASSWORD)
    with admin.cursor() as cur:
        cur.execute(f'DROP OWNED BY "{ROLE}"')
        cur.execute(f'DROP ROLE IF EXISTS "{ROLE}"')
    admin.close()


def _exists(cur) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,))
    return cur.fetchone() is not None


def _connect(url):
    conn = psycopg2.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                            dbname=url.database)
    conn.autocommit = True
    return conn


def test_the_application_role_cannot_change_or_delete_audit_rows(db_app, app_role):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        row.address = "新北区春江街道1号"  # an audited change
        svc.session.commit()
        row_id = row.id
    conn = _connect(app_role)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM sys_audit_log")
        assert cur.fetchone()[0] >= 2
        cur.execute("UPDATE reg_enterprise SET address = '改过的地址' WHERE id = %s", (row_id,))
        assert cur.rowcount == 1  # the registers: read and write
        for statement in ("UPDATE sys_audit_log SET new_value = 'forged'", "DELETE FROM sys_audit_log",
                          "TRUNCATE sys_audit_log", "DELETE FROM sys_login_log",
                          "UPDATE sys_workflow_history SET comment = 'x'", "DELETE FROM sys_schema_change"):
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute(statement)
    conn.close()


def test_the_app_runs_as_that_role_and_writes_its_audit(db_app, app_role, tmp_path):
    """The web process connected as the application role: a change goes through and its audit row is added."""
    import base64

    from sqlalchemy import func, select

    from app import create_app
    served = create_app("test", SQLALCHEMY_DATABASE_URI=app_role.render_as_string(hide_password=False),
                        UPLOAD_FOLDER=tmp_path / "uploads")
    svc = db_app.extensions["safety"]
    audit = svc.models.engine["AuditLog"]
    with db_app.app_context():
        user = factory.make_user(db_app, "regulator", factory.make_org(svc)).username
        row_id = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"}).id
        before = svc.session.scalar(select(func.count()).select_from(audit))
    auth = {"Authorization": "Basic " + base64.b64encode(f"{user}:{factory.PASSWORD}".encode()).decode()}
    changed = served.test_client().put(f"/api/v1/enterprise/{row_id}", json={"address": "新北区春江街道8号"},
                                       headers=auth)
    assert changed.status_code == 200, changed.get_json()
    with db_app.app_context():
        assert svc.session.scalar(select(func.count()).select_from(audit)) == before + 1
        assert svc.session.scalar(select(audit.new_value).order_by(audit.id.desc()).limit(1)) == "新北区春江街道8号"
