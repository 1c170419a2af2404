"""Telling "the database is not there" apart from every other database error.

Those are answered 503 `database_unavailable` with Retry-After on every route (the client
retries; nothing was written), and the service recovers by itself when the database is back:
a failed connection attempt is not pooled, and a pooled connection that broke is replaced."""

import errno
import socket
import sqlite3

from sqlalchemy import exc as sa_exc

# PostgreSQL SQLSTATE classes and codes that say the server or the database is not available:
# connection exceptions (08), operator intervention (57P01 admin shutdown, 57P02 crash
# shutdown, 57P03 cannot connect now), insufficient resources (53: too many connections, out
# of memory or disk), and 3D000 (the database does not exist, e.g. dropped while serving).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53", "3D000")
_NETWORK_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ECONNRESET, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ETIMEDOUT}
)


def error_chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is known for known in seen) or len(seen) > 20:
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending.extend(
            [
                current.__cause__,
                current.__context__,
                orig if isinstance(orig, BaseException) else None,
            ]
        )
    return seen


def is_database_unavailable(error: BaseException) -> bool:
    for cause in error_chain(error):
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(
            cause,
            sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError,
        ):
            return True
        # Raised by the drivers themselves while connecting: refused, unreachable, timed out.
        if isinstance(cause, ConnectionError | TimeoutError | socket.gaierror):
            return True
        if isinstance(cause, OSError) and cause.errno in _NETWORK_ERRNOS:
            return True
        if isinstance(cause, sqlite3.OperationalError):
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES):
            return True
    return False
