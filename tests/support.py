"""What the suites share besides fixtures: the test databases, the accounts and backends the
fixtures in conftest.py hand out, and where the repository is.

PostgreSQL comes from WORKSHOP_DATA_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test); `scratch_postgres_database` creates a database of
its own there and drops it afterwards, and skips (or, with WORKSHOP_DATA_REQUIRE_POSTGRES=1,
fails) where no PostgreSQL answers."""

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from workshop_data.settings import Settings

# The two cookies of a session: the token (HttpOnly) and the device secret the page deletes.
SESSION_COOKIES = ("wd_session", "wd_session_device")


def session_cookies_of(jar: httpx.Cookies) -> dict[str, str]:
    """Both cookies of the session a client holds, to hand to another client."""
    return {name: jar[name] for name in SESSION_COOKIES}


REPO_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "WORKSHOP_DATA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("WORKSHOP_DATA_REQUIRE_POSTGRES") == "1"


def _server_url(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


def on_postgres(statement: str) -> None:
    """Run one statement on the test server, in a thread of its own: this is called from
    fixtures set up while the tests' event loop is already running."""

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    password: str
    role: str


MakeAccount = Callable[..., Awaitable[Account]]


@dataclass
class Backend:
    name: str
    database_url: str

    @property
    def is_postgres(self) -> bool:
        """PostgreSQL, directly or through PgBouncer."""
        return self.name != "sqlite"

    @property
    def server_env(self) -> dict[str, str]:
        """What a `workshop-data serve` process on this backend needs in its environment."""
        return {"WORKSHOP_DATA_DATABASE_PGBOUNCER": "1"} if self.name == "pgbouncer" else {}

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": self.database_url,
            "login_account_address_rate_limit": "1000/minute",
            "login_address_rate_limit": "100000/minute",
            "login_account_rate_limit": "100000/minute",
            "sqlite_synchronous": "NORMAL",
            "database_pgbouncer": self.name == "pgbouncer",
            # A stream through httpx's ASGI transport is read only once it has ended.
            "events_stream_max_seconds": 0.2,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def scratch_postgres_database(prefix: str = "wd_test") -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        on_postgres(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield _server_url(POSTGRES_URL, name)
    finally:
        on_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
