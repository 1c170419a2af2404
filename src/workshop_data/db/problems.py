"""Database and file errors of the command line, each told in one line that says what to do.

`describe_problem` recognises what an operator can get wrong (a URL of an unsupported kind, a
server that does not answer, a database that does not exist, a SQLite file in a folder that
does not exist, a file that may not be written) and returns None for anything else, which is
then a bug and keeps its traceback. Database URLs are only ever shown with the password
hidden."""

import errno
import socket
import sqlite3
from pathlib import Path

from alembic.util import CommandError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from workshop_data.db.availability import error_chain
from workshop_data.db.url import UnsupportedDatabaseURL


class MigrationBlocked(RuntimeError):
    """Existing data keeps a migration from being applied; the message says how to fix it."""


def shown_url(url: str) -> str:
    """The URL as it can be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        scheme, separator, _ = url.partition("://")
        return f"{scheme}://..." if separator else "(not a URL)"


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except sa_exc.ArgumentError:
        return None


def _server(url: URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def _createdb_command(url: URL) -> str:
    parts = ["createdb", "-h", url.host or "localhost"]
    if url.port:
        parts += ["-p", str(url.port)]
    if url.username:
        parts += ["-U", url.username]
    parts.append(url.database or "<name>")
    return " ".join(parts)


def _sqlite_problem(url: URL, error: BaseException) -> str | None:
    text = str(error).lower()
    database = url.database or ""
    if database in ("", ":memory:"):
        return None
    path = Path(database)
    if "unable to open database file" in text:
        folder = path.parent
        if not folder.exists():
            return (
                f"the folder {folder} of the SQLite database {path} does not exist; "
                f"create it with: mkdir -p {folder}"
            )
        if path.is_dir():
            return f"the SQLite database {path} is a folder, not a file"
        return f"cannot open the SQLite database {path}: permission denied or not a file"
    if "readonly database" in text or "read-only" in text:
        return f"cannot write the SQLite database {path}: permission denied (read-only)"
    if "file is not a database" in text:
        return f"{path} is not a SQLite database file"
    if "database is locked" in text:
        return f"the SQLite database {path} is locked by another process; try again"
    return None


# SQLSTATEs the server answers with (asyncpg's errors carry them as `sqlstate`).
_NO_SUCH_DATABASE = "3D000"
_SIGN_IN_REFUSED = ("28000", "28P01")
_PERMISSION_DENIED = "42501"
_NOT_NOW = ("57P03", "53300")


def _postgres_problem(url: URL, error: BaseException) -> str | None:
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate == _NO_SUCH_DATABASE:
        return (
            f"the database '{url.database}' does not exist on {_server(url)}; "
            f"create it with: {_createdb_command(url)}"
        )
    if sqlstate in _SIGN_IN_REFUSED:
        return f"the database server {_server(url)} refused user '{url.username}': {error}"
    if isinstance(error, socket.gaierror):
        return f"cannot find the database server '{url.host}': {error.strerror}"
    if isinstance(error, ConnectionRefusedError):
        return (
            f"cannot reach the database server at {_server(url)}: connection refused; "
            "is it running?"
        )
    if isinstance(error, ConnectionError | TimeoutError) or (
        isinstance(error, OSError) and error.errno in {errno.ENETUNREACH, errno.EHOSTUNREACH}
    ):
        return (
            f"cannot reach the database server at {_server(url)}: "
            f"{getattr(error, 'strerror', None) or error.__class__.__name__}; is it running?"
        )
    if sqlstate == _PERMISSION_DENIED:
        return f"permission denied on the database '{url.database}': {error}"
    if sqlstate in _NOT_NOW:
        return f"the database server {_server(url)} does not accept connections now: {error}"
    return None


def _file_problem(error: OSError) -> str | None:
    where = f" {error.filename}" if error.filename else ""
    if isinstance(error, PermissionError):
        return f"cannot write{where}: permission denied"
    if isinstance(error, FileNotFoundError) and error.filename:
        folder = Path(error.filename).parent
        return f"cannot write{where}: the folder {folder} does not exist"
    if isinstance(error, IsADirectoryError | NotADirectoryError | FileExistsError) or (
        error.errno in {errno.ENOSPC, errno.EROFS, errno.EDQUOT}
    ):
        return f"cannot write{where}: {error.strerror}"
    return None


def open_sqlite_file(database_url: str) -> None:
    """Open (and so create) a SQLite database file once, synchronously: a file that cannot be
    opened fails here, with the plain sqlite3 error, rather than in the async driver, whose
    worker thread would print a traceback of its own after the event loop is gone."""
    url = _parsed(database_url)
    if url is None or url.get_backend_name() != "sqlite":
        return
    if url.database in (None, "", ":memory:") or url.query:
        return
    sqlite3.connect(url.database).close()


def describe_problem(error: BaseException, database_url: str) -> str | None:
    """One line telling what went wrong and what to do, or None for an unexpected error."""
    if isinstance(error, UnsupportedDatabaseURL | MigrationBlocked):
        return str(error)
    url = _parsed(database_url)
    for cause in error_chain(error):
        if isinstance(cause, MigrationBlocked):
            return str(cause)
        if url is not None and url.get_backend_name() == "sqlite":
            if isinstance(cause, sqlite3.Error | sa_exc.OperationalError):
                found = _sqlite_problem(url, cause)
                if found is not None:
                    return f"{found} (database {shown_url(database_url)})"
        elif url is not None:
            found = _postgres_problem(url, cause)
            if found is not None:
                return f"{found} (database {shown_url(database_url)})"
    for cause in error_chain(error):
        if isinstance(cause, CommandError) and "revision" in str(cause).lower():
            return (
                f"the database {shown_url(database_url)} was migrated by a newer version of "
                f"this program ({cause}); upgrade the program"
            )
    if isinstance(error, sa_exc.ArgumentError):
        return f"'{shown_url(database_url)}' is not a valid database URL: {error}"
    if isinstance(error, OSError):
        return _file_problem(error)
    if isinstance(error, sa_exc.DBAPIError):
        first_line = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
        return (
            f"the database {shown_url(database_url)} answered with an error: "
            f"{first_line or error.orig.__class__.__name__}"
        )
    return None
