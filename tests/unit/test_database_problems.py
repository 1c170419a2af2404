"""The one-line descriptions of database and file errors (db/problems.py), for the errors a
test process cannot cause (root may write anywhere)."""

import errno
import sqlite3

import pytest

from workshop_data.db.problems import describe_problem, shown_url


def test_urls_are_shown_without_their_password() -> None:
    assert shown_url("postgresql://app:hunter2@db:5432/wd") == "postgresql://app:***@db:5432/wd"
    assert shown_url("sqlite:///./wd.db") == "sqlite:///./wd.db"


def test_a_refused_file_is_permission_denied() -> None:
    error = PermissionError(errno.EACCES, "Permission denied", "/srv/export.ndjson")
    assert describe_problem(error, "sqlite:///x.db") == (
        "cannot write /srv/export.ndjson: permission denied"
    )


def test_a_read_only_sqlite_database() -> None:
    error = sqlite3.OperationalError("attempt to write a readonly database")
    assert describe_problem(error, "sqlite:////srv/wd.db") == (
        "cannot write the SQLite database /srv/wd.db: permission denied (read-only) "
        "(database sqlite:////srv/wd.db)"
    )


@pytest.mark.parametrize("error", [ValueError("a bug"), KeyError("x"), RuntimeError("y")])
def test_anything_else_is_not_described(error: Exception) -> None:
    assert describe_problem(error, "sqlite:///x.db") is None
