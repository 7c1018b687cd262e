"""Telling a database out of reach (a restart, a failover, a network cut) from a failed query or a
bug: the first is answered "try again shortly" (HTTP 503, the live channel's error 503, a
background task retrying soon), the others are errors.

The engine's pre-ping replaces dead pooled connections (store/database.py), so the first try
after the database is back succeeds, with no restart.
"""

from __future__ import annotations

import asyncpg.exceptions
from sqlalchemy import exc as sa

__all__ = ("database_unreachable",)

# What the driver raises, untranslated, while it cannot reach the server or lost it: the server
# refusing connections while it starts or shuts down (57P03), ending them as it stops (57P01,
# 57P02), out of connection slots (53300), and class 08 (connection exceptions).
_DRIVER_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)
# Where a socket error must come from to be the database's: the driver, or the pool connecting.
_DATABASE_MODULES = ("asyncpg.", "sqlalchemy.pool.", "sqlalchemy.connectors.", "sqlalchemy.dialects.")


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (or the connection to it was lost),
    as opposed to a query or a bug. SQLAlchemy wraps what the driver raises (``orig``, and the
    translated error's cause); a socket error while connecting comes up as it is."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.TimeoutError):
            return True
        if isinstance(error, _DRIVER_CONNECTION_ERRORS):
            return True
        if isinstance(error, OSError) and _raised_by_database(error):
            return True
        orig = error.orig if isinstance(error, sa.DBAPIError) else None
        error = orig if isinstance(orig, BaseException) and id(orig) not in seen else error.__cause__
    return False


def _raised_by_database(error: OSError) -> bool:
    """An OSError raised within the driver or the pool (refused, reset, timed out, no such host),
    not one of the app's own (a missing file)."""
    tb = error.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DATABASE_MODULES):
            return True
        tb = tb.tb_next
    return False
