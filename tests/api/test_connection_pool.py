"""The PostgreSQL pool keeps its connections: a burst of requests beyond it waits for one of
them instead of opening connections that are closed again after one request (that churn
halved the save rate at 64 concurrent saves, docs/benchmarks.md)."""

import asyncio

from sqlalchemy import text

from workshop_data.db.engine import create_engine
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
