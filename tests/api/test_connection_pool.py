"""The PostgreSQL pool keeps its connections: a burst of requests beyond it waits for one of
them instead of opening connections that are closed again after one request (that churn
halved the save rate at 64 concurrent saves, docs/benchmarks.md). And the requests keep some
checked out between them (db/kept_connections.py), only as long as they were left clean."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.support import load, save
from workshop_data.app_services import services_of
from workshop_data.db.engine import create_engine
from workshop_data.db.kept_connections import KeptConnections
from workshop_data.settings import Settings


async def test_a_burst_beyond_the_pool_reuses_its_connections(postgres_database: str) -> None:
    engine = create_engine(Settings(database_url=postgres_database, database_pool_size=2))
    try:

        async def backend_of_one_request() -> int:
            async with engine.connect() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                await asyncio.sleep(0.01)
                return int(pid)

        pids: set[int] = set()
        for _ in range(3):
            pids.update(await asyncio.gather(*(backend_of_one_request() for _ in range(8))))
        assert len(pids) == 2
    finally:
        await engine.dispose()


async def test_overflow_is_what_the_setting_allows(postgres_database: str) -> None:
    settings = Settings(
        database_url=postgres_database, database_pool_size=2, database_pool_overflow=1
    )
    engine = create_engine(settings)
    try:
        held = [await engine.connect() for _ in range(3)]
        assert engine.pool.checkedout() == 3  # type: ignore[attr-defined]
        for conn in held:
            await conn.close()
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(postgres_database: str) -> AsyncIterator[AsyncEngine]:
    small = create_engine(Settings(database_url=postgres_database, database_pool_size=4))
    yield small
    await small.dispose()


@pytest.fixture
async def kept(engine: AsyncEngine) -> AsyncIterator[KeptConnections]:
    connections = KeptConnections(engine, keep=2, max_age_seconds=60)
    yield connections
    await connections.close()


async def test_kept_connections_are_taken_again_only_after_a_clean_request(
    kept: KeptConnections,
) -> None:
    first = await kept.take()
    await first.execute(text("CREATE TEMP TABLE kept_probe (n int)"))
    await first.commit()
    await kept.give_back(first, clean=True)
    again = await kept.take()
    assert again is first  # no checkout: the same connection

    # What a request left uncommitted is rolled back before the connection is kept.
    await again.execute(text("INSERT INTO kept_probe VALUES (1)"))
    await kept.give_back(again, clean=True)
    after = await kept.take()
    assert after is first
    assert not after.in_transaction()
    assert (await after.execute(text("SELECT count(*) FROM kept_probe"))).scalar_one() == 0
    await after.rollback()

    # A request that failed hands its connection back to the engine's pool.
    await kept.give_back(after, clean=False)
    other = await kept.take()
    assert other is not first
    await kept.give_back(other, clean=True)


async def test_kept_connections_are_few_young_and_whole(
    engine: AsyncEngine, kept: KeptConnections
) -> None:
    at_once = KeptConnections(engine, keep=2, max_age_seconds=0)
    try:
        taken = [await kept.take() for _ in range(3)]
        for conn in taken:
            await kept.give_back(conn, clean=True)
        assert engine.pool.checkedout() == 2  # type: ignore[attr-defined]

        again = [await kept.take(), await kept.take()]
        assert set(map(id, again)) == set(map(id, taken[:2]))
        await kept.give_back(again[1], clean=True)
        await again[0].invalidate()  # as after a broken connection (a database restart)
        await kept.give_back(again[0], clean=True)
        # It is not kept, and the kept one goes back to the pool too, which replaces it.
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        whole = [await kept.take(), await kept.take()]
        assert again[0] not in whole
        for conn in whole:
            await kept.give_back(conn, clean=True)

        young = await at_once.take()
        await at_once.give_back(young, clean=True)
        older = await at_once.take()
        assert older is not young
        await at_once.give_back(older, clean=True)
    finally:
        await at_once.close()


async def test_a_request_keeps_its_connection_for_the_next_unless_it_failed(
    app: FastAPI, alice: httpx.AsyncClient
) -> None:
    pool: Any = services_of(app).engine.pool
    await services_of(app).kept_connections.close()
    assert pool.checkedout() == 0
    saved = await save(alice, {"kept": 1}, "ia", "ia-2-1")
    assert saved.status_code == 200
    assert pool.checkedout() == 1  # the save's connection, kept (the plain POST route)
    patched = await alice.patch("/api/workshop-data/step/ia/ia-2-1", json={"kept": 2})
    assert patched.status_code == 200
    assert (await load(alice, "ia", "ia-2-1")).status_code == 200  # a FastAPI route
    assert pool.checkedout() == 1  # the same one, each time
    stale = await save(alice, {"kept": 3}, "ia", "ia-2-1", baseVersion=1)
    assert stale.status_code == 409
    assert pool.checkedout() == 0  # back in the pool, reset there


async def test_a_connection_given_back_goes_to_whoever_waits_for_the_pool(
    postgres_database: str,
) -> None:
    settings = Settings(database_url=postgres_database, database_pool_size=1)
    engine = create_engine(settings)
    kept = KeptConnections(engine, keep=1, max_age_seconds=60)
    try:
        first = await kept.take()
        waiting = asyncio.create_task(kept.take())
        await asyncio.sleep(0.05)
        assert not waiting.done()  # the pool's one connection is taken
        await kept.give_back(first, clean=True)
        # Not kept for a newcomer while a request waits: the waiting one gets it.
        second = await asyncio.wait_for(waiting, timeout=5)
        await kept.give_back(second, clean=True)
    finally:
        await kept.close()
        await engine.dispose()
