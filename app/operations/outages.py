"""Telling a service that is away from a request it refused: pages answer 503 while the database is away."""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError


def database_unavailable(exc: BaseException) -> bool:
    """The database is unreachable (down, restarting, the connection cut), rather than refusing one statement:
    a driver error without a server error code (a deadlock, a constraint or a timeout carries one)."""
    if not isinstance(exc, DBAPIError):
        return False
    return bool(exc.connection_invalidated) or getattr(exc.orig, "pgcode", "not postgresql") is None
