"""The application's own database role (PostgreSQL): what the web and worker processes may do.

The tables are owned by the role that runs `flask metadata migrate` (DDL, extensions, restores); the processes
that serve users connect as another role, which `flask grants ROLE` equips: read and write every table, except
the append-only ones — the change log (操作日志), the login log, the workflow history and the schema changes —
where it may only read and add rows. Whatever a bug or an injected statement in the application tries, the
database itself refuses to change or delete an audit row; only the owner can (retention, restore).
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import Engine, text

#: tables the application adds to and reads, never changes
APPEND_ONLY = ("sys_audit_log", "sys_login_log", "sys_workflow_history", "sys_schema_change")


class GrantsError(Exception):
    """The grants cannot be applied (not PostgreSQL, or no such role)."""


def grant_statements(role: str, owner: str) -> list[str]:
    """The statements, in order: everything for the role, then the append-only tables taken back; default
    privileges so tables the owner creates later (a new register's) are the role's too."""
    quoted = '"' + role.replace('"', '""') + '"'
    owner_quoted = '"' + owner.replace('"', '""') + '"'
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_quoted} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_quoted} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
    ]
    statements += [f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}" for table in APPEND_ONLY]
    return statements


def apply_grants(engine: Engine, role: str, echo: Callable[[str], None] = print) -> list[str]:
    """Apply the grants for ``role`` as the connected (owning) role; returns the statements run."""
    if engine.dialect.name != "postgresql":
        raise GrantsError("Grants apply to PostgreSQL only: the embedded SQLite database has no roles.")
    with engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
            raise GrantsError(f"There is no database role {role!r}: create it first "
                              f"(CREATE ROLE {role} LOGIN PASSWORD '…').")
        owner = conn.execute(text("SELECT current_user")).scalar_one()
        statements = grant_statements(role, owner)
        for statement in statements:
            conn.execute(text(statement))
            echo(statement + ";")
    return statements
