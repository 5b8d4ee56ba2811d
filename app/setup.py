"""Bring a database in line with the metadata: schema plan, dictionaries, roles, permissions, admin account."""
from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from flask import Flask, current_app
from flask_appbuilder.models.sqla import Model as FabModel
from sqlalchemy import event

from app.dictionaries import sync_dictionaries
from app.models import column_names
from app.plugins import after_migrate
from app.schema import StepFailed, apply_plan, create_sequences, plan_migration, render_sql
from app.security.accounts import create_missing_enterprise_accounts
from app.security.roles import sync_roles
from app.services import services

Echo = Callable[[str], Any]


def renames_declared() -> dict[tuple[str, str], str]:
    """(table, old column) → new column for every field with ``renamed_from``."""
    renames = {}
    for spec in services().registry.registers.values():
        for f in spec.fields:
            if f.renamed_from:
                old = column_names(f.model_copy(update={"name": f.renamed_from}))
                for before, after in zip(old, column_names(f)):
                    renames[(spec.table_name, before)] = after
    return renames


def migrate_database(dry_run: bool = False, allow_destructive: bool = False, echo: Echo = print,
                     sql: bool = False) -> int:
    """Print the plan; apply it (additive only unless allowed); 1 when something was refused.

    With ``sql`` the plan is printed as the SQL it would run (for review) and nothing is changed."""
    svc = services()
    engine = svc.db.engine
    dry_run = dry_run or sql
    try:
        applied, plan = _migrate(svc, engine, dry_run, allow_destructive, echo, sql)
    except StepFailed as exc:
        echo(f"The database refused a change, so nothing was applied:\n  {exc}\n"
             "Fix the data (or the YAML) and run `flask metadata migrate` again.")
        return 1
    if dry_run:
        return 1 if plan.destructive and not allow_destructive else 0
    refused = [] if allow_destructive else plan.destructive
    if applied:
        echo(f"Applied {len(applied)} change(s).")
    sync_reference_data(echo)
    after_migrate(current_app, echo)
    if refused:
        echo(f"Refused {len(refused)} change(s) that could lose data (marked !). To proceed:\n"
             "  - if a field was renamed, add `renamed_from: <old name>` to it in the YAML and run again;\n"
             "  - if the change is wanted, back up the database and run "
             "`flask metadata migrate --allow-destructive`;\n"
             "  - otherwise restore the YAML as it was.")
        return 1
    return 0


def _migrate(svc: Any, engine: Any, dry_run: bool, allow_destructive: bool, echo: Echo,
             sql: bool = False) -> tuple[list, Any]:
    if engine.dialect.name == "postgresql" and not dry_run:
        with engine.begin() as conn:  # trigram indexes for quick search (a trusted extension since PostgreSQL 13)
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            if svc.models.postgis:  # the geography columns of the registers on the map (app/models/spatial.py)
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    with engine.connect() as conn, _transactional_ddl(conn), conn.begin():
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        plan = plan_migration(conn, [FabModel.metadata, svc.models.metadata], renames_declared())
        if sql:
            echo(render_sql(plan, conn.dialect.name, allow_destructive))
            return [], plan
        echo("Schema plan:")
        echo(plan.describe())
        if dry_run:
            return [], plan
        create_sequences(conn, [FabModel.metadata, svc.models.metadata])
        with _statements_run(conn) as statements:
            applied = apply_plan(conn, plan, allow_destructive)
        if applied:
            conn.execute(svc.models.engine["SchemaChange"].__table__.insert(),
                         {"plan": json.dumps([s.text for s in applied], ensure_ascii=False),
                          "applied_by": _operator(), "statements": ";\n".join(statements) + ";"})
    return applied, plan


@contextmanager
def _statements_run(conn: Any) -> Iterator[list[str]]:
    """The SQL the database runs on ``conn`` meanwhile (kept with the applied plan for `metadata history`)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement.strip())

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(conn, "before_cursor_execute", record)


def _operator() -> str:
    """Who runs the command: the operating-system account and the machine (a migration has no web user)."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def schema_history() -> list[dict[str, Any]]:
    """Every applied plan, oldest first: when, who, the steps and how many statements ran."""
    svc = services()
    model = svc.models.engine["SchemaChange"]
    rows = svc.session.query(model).order_by(model.id).all()
    return [{"id": r.id, "applied_at": r.applied_at, "applied_by": r.applied_by or "",
             "steps": json.loads(r.plan), "statements": r.statements or ""} for r in rows]


@contextmanager
def _transactional_ddl(conn: Any) -> Iterator[None]:
    """One transaction around the whole plan on SQLite too, so a step the database refuses undoes the steps
    before it. SQLite's DDL is transactional, but Python's sqlite3 module begins transactions only before
    INSERT/UPDATE/DELETE (and its savepoints then misbehave): for this connection the driver's implicit handling
    is switched off and the plan's transaction begun explicitly (SQLAlchemy's pysqlite recipe); the connection
    goes back to the pool as it was."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    before = driver.isolation_level
    driver.isolation_level = None
    try:
        yield
    finally:
        driver.isolation_level = before


def sync_reference_data(echo: Echo = print) -> None:
    """Dictionaries into the database, FAB's built-in roles, and a permission per screen and action."""
    svc = services()
    written = sync_dictionaries(svc.session, svc.registry, svc.models.engine,
                                Path(current_app.config["REGION_DATA_DIR"]))
    for name, count in written.items():
        echo(f"Dictionary {name}: {count} items written.")
    svc.dictionaries.forget()
    appbuilder = current_app.appbuilder
    # FAB's create_db makes the Admin and Public roles; FAB_CREATE_DB keeps it off the boot path. (Its warning
    # "No user yet created" would come before `flask demo accounts` creates the administrator.)
    import logging
    from flask_appbuilder.security.manager import BaseSecurityManager
    fab_log = logging.getLogger("flask_appbuilder.security.manager")
    level = fab_log.level
    fab_log.setLevel(logging.ERROR)
    try:
        BaseSecurityManager.create_db(appbuilder.sm)
    finally:
        fab_log.setLevel(level)
    appbuilder.add_permissions(update_perms=True)
    sync_roles(appbuilder, svc.registry)
    reported = [0]

    def progress(made: int) -> None:
        if made - reported[0] >= 500_000:  # a large register's first migrate: a line every 500,000 accounts
            echo(f"Enterprise accounts created: {made:,} so far…")
            reported[0] = made

    made = create_missing_enterprise_accounts(svc.session, progress)
    if made:
        echo(f"Enterprise accounts created: {made}.")
    svc.session.commit()


def credentials_file(app: Flask) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]).parent / "initial-credentials.json"


def ensure_admin(app: Flask) -> list[str]:
    """Create the administrator on first run; return the lines that tell how to sign in."""
    sm = app.appbuilder.sm
    path = credentials_file(app)
    saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    user = sm.find_user(username="admin")
    if user is None:
        password = saved.get("admin") or f"Adm-{secrets.token_urlsafe(9)}"
        role = sm.find_role(app.config["AUTH_ROLE_ADMIN"])
        # one name, as the accounts screen keeps every account's ("系统管理员", not first and last "系统 管理员")
        sm.add_user("admin", "系统管理员", "", "admin@example.invalid", role, password)
        saved["admin"] = password
        _write_credentials(path, saved)
    password = saved.get("admin", "(changed since the first start)")
    return [f"Administrator: admin / {password}"]


def _write_credentials(path: Path, saved: dict[str, str]) -> None:
    """The file of first passwords, readable by its owner only (it holds a working password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(saved, indent=2))
    os.chmod(path, 0o600)  # a file left from an older version keeps its mode otherwise


def forget_first_password(app: Flask, username: str) -> None:
    """Once an account chose its own password, its generated one is removed from the file (and the file when
    nothing is left in it)."""
    path = credentials_file(app)
    if not path.exists():
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    if saved.pop(username, None) is None:
        return
    if saved:
        _write_credentials(path, saved)
    else:
        path.unlink()
