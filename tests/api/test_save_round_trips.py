"""The number of statements a save costs on PostgreSQL, pinned (as Zulip's
`assert_database_query_count` does): counted on asyncpg itself, so that a statement sent
around SQLAlchemy counts too, and by SQLAlchemy's hook for its own (which asyncpg runs as
prepared statements without logging them). A save whose session was touched lately is one
statement, its history row and pruning included; a patch reads once and writes once. A change
that adds a round trip to the hot path fails here."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.support import save
from workshop_data.app_services import services_of

pytestmark = pytest.mark.backends("postgresql")


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.counting = False

    def logged(self, record: Any) -> None:
        if self.counting:
            self.statements.append(record if isinstance(record, str) else record.query)

    @asynccontextmanager
    async def count(self) -> AsyncIterator[list[str]]:
        self.statements = []
        self.counting = True
        try:
            yield self.statements
            # asyncpg calls its loggers with call_soon: let them run.
            for _ in range(5):
                await asyncio.sleep(0)
        finally:
            self.counting = False


@pytest.fixture
def counter(app: FastAPI) -> StatementCounter:
    counter = StatementCounter()
    engine: AsyncEngine = services_of(app).engine

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(counter.logged)

    def on_execute(*args: Any) -> None:
        counter.logged(args[2])  # the statement's text, as SQLAlchemy sends it

    event.listen(engine.sync_engine, "connect", on_connect)
    # SQLAlchemy runs its own statements as prepared ones, which asyncpg does not log.
    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    return counter


async def test_a_save_is_one_statement_and_a_patch_two(
    counter: StatementCounter, alice: httpx.AsyncClient
) -> None:
    # Warm: the session touched, the statements prepared, a connection kept.
    first = await save(alice, {"whyReflection": "warm"})
    assert first.status_code == 200
    async with counter.count() as statements:
        saved = await save(alice, {"whyReflection": "counted"}, baseVersion=1)
    assert saved.status_code == 200, saved.text
    assert len(statements) == 1, statements
    assert "workshop_step_history" in statements[0]  # history in the same statement

    async with counter.count() as statements:
        patched = await alice.patch(
            "/api/workshop-data/step/ia/ia-3-4",
            json={"howReflection": "patched"},
            headers={"If-Match": saved.headers["ETag"]},
        )
    assert patched.status_code == 200, patched.text
    assert len(statements) == 2, statements
