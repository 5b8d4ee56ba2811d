"""`flask metadata check|migrate|sync|cluster|diagrams`, `flask demo load|workflows|accounts`, `flask workflow deadlines`
`flask excel purge` and `flask backup|restore`: thin wrappers over the engine's services."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.excel.retention import purge_expired
from app.extensions import db
from app.operations.cluster import ClusterError, cluster
from app.operations.grants import GrantsError, apply_grants
from app.plugins import after_bulk_load
from app.services import services
from app.workflow.diagram import write_diagrams
from app.workflow.warnings import scan_deadlines

metadata_cli = AppGroup("metadata", help="Check the YAML metadata and bring the database in line with it.")
demo_cli = AppGroup("demo", help="Demo data and accounts for the embedded default.")


@metadata_cli.command("check")
def check_command() -> None:
    """Report every problem in the metadata (file:line: Exxx message — hint); exit 1 if any."""
    # Reaching this point means create_app loaded the metadata without a problem
    # (otherwise the factory printed the located list and exited 1).
    registry = services().registry
    registers = len(registry.registers)
    click.echo(f"Metadata OK: {registers} registers, {len(registry.dictionaries)} dictionaries, "
               f"{len(registry.menus)} menu categories.")


@metadata_cli.command("migrate")
@click.option("--dry-run", is_flag=True, help="Print the plan, change nothing.")
@click.option("--allow-destructive", is_flag=True,
              help="Also apply drops and narrowing changes (back up the database first).")
@click.option("--sql", "sql_out", is_flag=False, flag_value="-", default=None, metavar="[FILE]",
              help="Write the plan as the SQL it would run (to FILE, or the screen) for review; change nothing.")
def migrate_command(dry_run: bool, allow_destructive: bool, sql_out: str | None) -> None:
    """Compare the database with the metadata; apply additive changes, refuse destructive ones."""
    from app.setup import migrate_database  # alembic (~70 ms): not at start-up

    if sql_out and sql_out != "-":
        chunks: list[str] = []
        code = migrate_database(allow_destructive=allow_destructive, echo=chunks.append, sql=True)
        Path(sql_out).write_text("\n".join(chunks), encoding="utf-8")
        click.echo(f"The plan's SQL was written to {sql_out}; nothing was changed.")
    else:
        code = migrate_database(dry_run=dry_run, allow_destructive=allow_destructive, echo=click.echo,
                                sql=sql_out == "-")
    if code:
        sys.exit(code)


@metadata_cli.command("history")
@click.option("--sql", "show_sql", is_flag=True, help="Also print the SQL each plan ran.")
def history_command(show_sql: bool) -> None:
    """Every schema plan applied to this database: when, by whom, which changes."""
    from app.setup import schema_history  # alembic (~70 ms): not at start-up

    plans = schema_history()
    if not plans:
        click.echo("No schema change has been applied to this database yet.")
    for plan in plans:
        click.echo(f"#{plan['id']}  {plan['applied_at']:%Y-%m-%d %H:%M:%S}  {plan['applied_by'] or '(unknown)'}  "
                   f"{len(plan['steps'])} change(s)")
        for step in plan["steps"]:
            click.echo(f"    + {step}")
        if show_sql and plan["statements"]:
            click.echo("    " + plan["statements"].replace("\n", "\n    "))


@metadata_cli.command("sync")
def sync_command() -> None:
    """Write dictionaries (regions included) and permissions for the current metadata."""
    from app.setup import sync_reference_data  # alembic (~70 ms): not at start-up

    sync_reference_data(echo=click.echo)


@metadata_cli.command("cluster")
@click.argument("registers", nargs=-1)
def cluster_command(registers: tuple[str, ...]) -> None:
    """Rewrite registers' tables in region order (PostgreSQL CLUSTER; every register with a region by default).
    Locks each table while it runs: a maintenance-window step."""
    try:
        done = cluster(db.engine, services().registry, registers, click.echo)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{done} register table(s) clustered.")


@metadata_cli.command("diagrams")
@click.option("--out", default="docs/workflows", show_default=True, help="Folder for the SVG files.")
@click.option("--locale", default="zh_Hans", show_default=True, type=click.Choice(["zh_Hans", "zh_Hant", "en"]))
def diagrams_command(out: str, locale: str) -> None:
    """Draw every register's workflow as an SVG state diagram (the same drawing as on the register's pages)."""
    registry = current_app.extensions["safety"].registry
    workflows = {name: spec.workflow for name, spec in sorted(registry.registers.items()) if spec.workflow}
    for path in write_diagrams(workflows, Path(out), locale):
        click.echo(path)


@demo_cli.command("load")
@click.option("--enterprises", default=300, show_default=True, help="How many demo enterprises.")
@click.option("--scale", type=click.IntRange(min=1), default=None,
              help="Instead: N generated enterprises and 5 × N hazards by COPY into an empty enterprise register "
                   "(PostgreSQL only; 1000000 for the size of a province).")
def demo_load_command(enterprises: int, scale: int | None) -> None:
    """Load demo data (real regions, laws, standards, chemicals, enterprises) if the registers are empty."""
    if scale is not None:
        _load_scale(scale)
        return
    from app.demo import load_demo  # the demo commands' alone: not at start-up

    load_demo(enterprises=enterprises, echo=click.echo)


def _load_scale(enterprises: int) -> None:
    import time

    from app.demo.scale import TABLES, load_scale  # the demo commands' alone: not at start-up

    engine = db.engine
    if engine.dialect.name != "postgresql":
        raise click.ClickException("--scale writes by PostgreSQL COPY: set DATABASE_URL to a PostgreSQL database "
                                   "(the embedded SQLite default holds the small demo, `flask demo load`).")
    started = time.perf_counter()
    connection = engine.raw_connection()
    try:
        made, hazards = load_scale(connection.driver_connection, enterprises, echo=click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        connection.close()

    after_bulk_load(current_app, list(TABLES), click.echo)
    click.echo(f"Scale demo: {made:,} enterprises and {hazards:,} hazards in {time.perf_counter() - started:.0f} s "
               "(no enterprise accounts for generated enterprises).")


@demo_cli.command("accounts")
def demo_accounts_command() -> None:
    """Create the admin and demo accounts if missing and print their logins."""
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("Demo accounts have published passwords: they are never created in production. "
                                   "Create real accounts in 账号管理 (Account management).")
    # the demo data and app.setup (alembic) are loaded by these commands only, not at start-up
    from app.demo.accounts import ensure_demo_accounts
    from app.setup import ensure_admin

    for line in ensure_admin(current_app) + ensure_demo_accounts():
        click.echo(line)


@demo_cli.command("workflows")
def demo_workflows_command() -> None:
    """Move demo rows along their workflows as the demo accounts (hazards, licences, enforcement) once."""
    # the demo data and app.setup (alembic) are loaded by these commands only, not at start-up
    from app.demo.accounts import ensure_demo_accounts
    from app.demo.chaoyang import load_demo_chaoyang
    from app.demo.goods import load_demo_goods
    from app.demo.workflows import load_demo_workflows
    from app.setup import ensure_admin

    ensure_admin(current_app)
    ensure_demo_accounts()
    load_demo_workflows(echo=click.echo)
    load_demo_chaoyang(echo=click.echo)
    load_demo_goods(echo=click.echo)


workflow_cli = AppGroup("workflow", help="Workflow housekeeping.")


@workflow_cli.command("deadlines")
def deadlines_command() -> None:
    """Compute every warning (metadata/warnings/ and the deadlines') and send the messages not sent yet (what
    `celery beat` schedules; run it by hand or from cron where no beat runs, as on the embedded default)."""
    click.echo(f"Deadline warnings sent: {scan_deadlines()}")


excel_cli = AppGroup("excel", help="Excel import and export housekeeping.")


@excel_cli.command("purge")
def purge_command() -> None:
    """Delete the uploads, error workbooks and exports older than EXCEL_RETENTION_HOURS (what `celery beat` runs
    hourly; run it from cron where no beat runs, as on the embedded default)."""
    click.echo(f"Job files deleted (older than {current_app.config['EXCEL_RETENTION_HOURS']} h): {purge_expired()}")


@click.command("backup")
@with_appcontext
@click.option("--out", default=None, help="Folder for the backup (default: BACKUP_DIR).")
def backup_command(out: str | None) -> None:
    """Back up the database (pg_dump, or SQLite's online backup) and the attachments, with a manifest."""
    from app.operations.backup import BackupError, backup  # the backup commands' alone: not at start-up

    try:
        backup(services().db.engine, services().files, Path(out or current_app.config["BACKUP_DIR"]),
               echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc))


@click.command("restore")
@with_appcontext
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--replace", is_flag=True, help="Overwrite a database that already holds rows.")
def restore_command(folder: str, replace: bool) -> None:
    """Restore a backup folder written by `flask backup` and compare the row counts with its manifest."""
    from app.operations.backup import BackupError, restore  # the backup commands' alone: not at start-up

    try:
        report = restore(services().db.engine, services().files, Path(folder), replace=replace, echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc))
    if report.mismatches:
        sys.exit(1)


@click.command("grants")
@with_appcontext
@click.argument("role")
def grants_command(role: str) -> None:
    """Give ROLE (the role the web and worker processes connect as) what it needs: read and write every table,
    only read and add rows to the append-only ones (操作日志, 登录日志, workflow history, schema changes). Run as
    the owner of the tables, after `flask metadata migrate`."""
    try:
        apply_grants(services().db.engine, role, echo=click.echo)
    except GrantsError as exc:
        raise click.ClickException(str(exc))


def init_app(app: Flask) -> None:
    app.cli.add_command(metadata_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(workflow_cli)
    app.cli.add_command(excel_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(grants_command)
