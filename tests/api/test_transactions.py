"""A service whose statements must commit together opens its own transaction on the request's
connection (which on PostgreSQL runs in autocommit): its writes become visible together at its
end, and a failure part-way leaves none of them."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import Account
from workshop_data.app_services import services_of
from workshop_data.catalog.service import Catalog
from workshop_data.db.tables import navigation_progress, users, workshop_participation
from workshop_data.db.transaction import AUTOCOMMIT, transaction
from workshop_data.navigation import service as navigation_service
from workshop_data.participation import service as participation_service
from workshop_data.timeutil import utc_now


class InjectedFailure(Exception):
    pass


@contextmanager
def failing_statements(engine: AsyncEngine, starting: str) -> Iterator[None]:
    """Every statement on `engine` whose SQL starts with `starting` fails before it runs."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(starting):
            raise InjectedFailure(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", fail)


async def _all_required_steps_done(app: FastAPI, user_id: int) -> None:
    catalog: Catalog = services_of(app).catalog
    change = navigation_service.ProgressChange(
        workshop_type="ia",
        sets_current_step=False,
        current_step_id=None,
        completed_steps=catalog.required_steps("ia"),
        unlocked_steps=[],
        video_progress={},
        last_visited_at=None,
    )
    async with services_of(app).autocommit_engine.connect() as conn:
        await navigation_service.update_progress(conn, catalog, user_id, change)


async def _progress_version(app: FastAPI, user_id: int) -> int:
    async with services_of(app).engine.connect() as conn:
        version = (
            await conn.execute(
                select(navigation_progress.c.version).where(
                    navigation_progress.c.user_id == user_id
                )
            )
        ).scalar_one()
    return int(version)


async def _completed_at(app: FastAPI, user_id: int) -> object:
    p = workshop_participation
    async with services_of(app).engine.connect() as conn:
        return (
            await conn.execute(
                select(p.c.completed_at).where(p.c.user_id == user_id, p.c.workshop_type == "ia")
            )
        ).scalar_one_or_none()


async def test_a_completion_that_fails_part_way_leaves_the_progress_unclaimed(
    app: FastAPI, accounts: dict[str, Account]
) -> None:
    alice = accounts["alice"].id
    await _all_required_steps_done(app, alice)
    version_before = await _progress_version(app, alice)

    engine: AsyncEngine = services_of(app).autocommit_engine
    with failing_statements(engine, "INSERT INTO WORKSHOP_PARTICIPATION"):
        async with engine.connect() as conn:
            with pytest.raises(InjectedFailure):
                await participation_service.complete_workshop(
                    conn, services_of(app).catalog, alice, "ia"
                )

    # The version claim ran before the failing statement; it must have been rolled back.
    assert await _progress_version(app, alice) == version_before
    assert await _completed_at(app, alice) is None


async def test_a_completion_is_committed_by_the_service_itself(
    app: FastAPI, accounts: dict[str, Account]
) -> None:
    alice = accounts["alice"].id
    await _all_required_steps_done(app, alice)
    version_before = await _progress_version(app, alice)

    async with services_of(app).autocommit_engine.connect() as conn:
        status = await participation_service.complete_workshop(
            conn, services_of(app).catalog, alice, "ia"
        )
        # Seen from another connection while the request's connection is still open.
        assert status.completed
        assert await _completed_at(app, alice) is not None
        assert await _progress_version(app, alice) == version_before + 1


async def test_writes_inside_a_transaction_are_seen_only_at_its_end(app: FastAPI) -> None:
    username = "tmp-transaction-probe"
    now = utc_now()
    row = {
        "username": username,
        "name": "",
        "password_hash": "x",
        "role": "participant",
        "created_at": now,
        "updated_at": now,
    }

    async def seen_elsewhere() -> bool:
        async with services_of(app).engine.connect() as other:
            found = await other.execute(select(users.c.id).where(users.c.username == username))
            return found.first() is not None

    async with services_of(app).autocommit_engine.connect() as conn:
        assert conn.sync_connection is not None
        isolation_before = conn.sync_connection.get_execution_options().get("isolation_level")
        async with transaction(conn):
            await conn.execute(insert(users).values(**row))
            assert not await seen_elsewhere()
        assert await seen_elsewhere()
        # The connection is back in the mode it was in: a single statement commits alone.
        assert conn.sync_connection is not None
        isolation_after = conn.sync_connection.get_execution_options().get("isolation_level")
        assert isolation_after == isolation_before
        settings = services_of(app).settings
        if not settings.is_sqlite and not settings.database_pgbouncer:
            assert isolation_after == AUTOCOMMIT
