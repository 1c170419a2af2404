"""Fixtures shared by every suite.

`backend` runs a test on SQLite, on PostgreSQL and on PostgreSQL through PgBouncer
(transaction pooling, with the `database_pgbouncer` setting on). PostgreSQL comes from
WORKSHOP_DATA_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test); each run
creates its own databases there and drops them at the end. Where no PostgreSQL answers, those
tests are skipped, or fail when WORKSHOP_DATA_REQUIRE_POSTGRES=1; likewise without the
`pgbouncer` program, unless WORKSHOP_DATA_REQUIRE_PGBOUNCER=1.

The "pgbouncer" backend runs the API modules that exercise the database paths PgBouncer can
change (every kind of read and write, transactions and autocommit statements, sessions,
locking, history, uploads, export, an unreachable database: `PGBOUNCER_API_MODULES`) and the
tests marked `pgbouncer` (the lost-update test across server processes). The input-hardening
matrices (bad and hostile input, headers, authorization by role, throttling) check the request
before any statement runs and stay on the first two backends: the whole API suite through
PgBouncer adds about 3.5 minutes to a CI run on two cores, this subset about a third of that.
`WORKSHOP_DATA_PGBOUNCER_ALL=1` runs the whole API suite through it.

A test marked `backends("sqlite")` runs on SQLite only: for checks that do not depend on the
database, such as the whole authorization matrix (a sample of it runs on every backend)."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import pgbouncer
from tests.support import POSTGRES_URL, Account, Backend, MakeAccount, scratch_postgres_database
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.db.tables import (
    assessments,
    navigation_progress,
    uploads,
    users,
    workshop_participation,
    workshop_step_data,
    workshop_step_history,
)
from workshop_data.users import service as users_service

REQUIRE_PGBOUNCER = os.environ.get("WORKSHOP_DATA_REQUIRE_PGBOUNCER") == "1"
BACKENDS = ["sqlite", "postgresql", "pgbouncer"]
PGBOUNCER_API_MODULES = {
    "test_save_sessions.py",
    "test_step_data.py",
    "test_patch.py",
    "test_step_history.py",
    "test_device_copies.py",
    "test_locking.py",
    "test_completion.py",
    "test_auth.py",
    "test_isolation.py",
    "test_uploads.py",
    "test_export.py",
    "test_admin_users.py",
    "test_write_events.py",
    "test_database_unavailable.py",
}
_API_SUITE = Path(__file__).parent / "api"
_PGBOUNCER_ALL = os.environ.get("WORKSHOP_DATA_PGBOUNCER_ALL") == "1"


def _runs_on_pgbouncer(item: pytest.Item) -> bool:
    path = Path(str(item.path))
    if item.get_closest_marker("pgbouncer") is not None:
        return True
    if path.parent != _API_SUITE:
        return False
    return _PGBOUNCER_ALL or path.name in PGBOUNCER_API_MODULES


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pgbouncer: runs on the pgbouncer backend too (tests/api always does)"
    )
    config.addinivalue_line(
        "markers",
        "backends(*names): runs only on these backends (for what does not depend on the database)",
    )


def _left_out(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("migrated_backend") if callspec is not None else None
    if backend is None:
        return False
    only = item.get_closest_marker("backends")
    if only is not None and backend not in only.args:
        return True
    return backend == "pgbouncer" and not _runs_on_pgbouncer(item)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The "pgbouncer" backend only where `_runs_on_pgbouncer` says (see the docstring), and a
    test marked `backends(...)` only on those."""
    kept, dropped = [], []
    for item in items:
        if _left_out(item):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with scratch_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def pgbouncer_database() -> Iterator[str]:
    """A database of its own on the test server, reached through a PgBouncer of its own."""
    if not pgbouncer.available():
        message = f"pgbouncer is not installed ({pgbouncer.PGBOUNCER}; Debian package pgbouncer)"
        if REQUIRE_PGBOUNCER:
            pytest.fail(message)
        pytest.skip(message)
    with (
        scratch_postgres_database("wd_test_pgb") as direct_url,
        pgbouncer.PgBouncer(POSTGRES_URL) as bouncer,
    ):
        yield bouncer.url(direct_url.rsplit("/", 1)[1])


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "workshop-data.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session", params=BACKENDS)
async def migrated_backend(request: pytest.FixtureRequest) -> Backend:
    database_fixture = {
        "sqlite": "sqlite_database",
        "postgresql": "postgres_database",
        "pgbouncer": "pgbouncer_database",
    }[request.param]
    url = request.getfixturevalue(database_fixture)
    backend = Backend(request.param, url)
    engine = create_engine(backend.settings())
    await upgrade_to_head(engine)
    await engine.dispose()
    return backend


@pytest.fixture
async def backend(migrated_backend: Backend) -> AsyncIterator[Backend]:
    yield migrated_backend
    engine = create_engine(migrated_backend.settings())
    try:
        await _clear_data(engine)
    finally:
        await engine.dispose()


async def _clear_data(engine: AsyncEngine) -> None:
    """Remove what a test wrote, keeping the long-lived test accounts (see api/conftest.py)."""
    async with engine.begin() as conn:
        for table in (
            workshop_step_data,
            workshop_step_history,
            workshop_participation,
            navigation_progress,
            assessments,
            uploads,
        ):
            await conn.execute(delete(table))
        await conn.execute(delete(users).where(users.c.username.like("tmp-%")))


@pytest.fixture
async def make_account(backend: Backend) -> MakeAccount:
    """A throw-away account (removed after the test), for tests that log in or out."""

    async def make(role: str = "participant") -> Account:
        username = f"tmp-{uuid.uuid4().hex[:10]}"
        password = f"{username}-quiet-harbor-71"
        engine = create_engine(backend.settings())
        async with engine.connect() as conn:
            user = await users_service.create_user(
                conn, username=username, password=password, role=role
            )
        await engine.dispose()
        return Account(user.id, username, password, role)

    return make
