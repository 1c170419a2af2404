"""The migrations build the schema the code declares, on both backends."""

import json

import asyncpg
import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.api.support import save
from tests.support import Account, Backend
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import metadata

# docs/contract.md#debugging-queries, as operators type them.
DEBUGGING_QUERIES = [
    """SELECT table_name FROM information_schema.tables
WHERE table_name = 'workshop_step_data';""",
    """SELECT workshop_type, step_id, data, created_at, updated_at
FROM workshop_step_data
WHERE user_id = 123
ORDER BY workshop_type, step_id;""",
    """SELECT workshop_type, COUNT(*) as step_count
FROM workshop_step_data
GROUP BY workshop_type;""",
    """SELECT user_id, workshop_type, step_id, updated_at
FROM workshop_step_data
WHERE updated_at > NOW() - INTERVAL '1 hour'
ORDER BY updated_at DESC;""",
]


# SQLAlchemy cannot reflect SQLite's expression indexes (lower(username)); that one is checked
# in test_usernames.py on both backends.
@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index uq_users_username_lower"
)
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index "
    "'uq_users_username_lower'"
)
async def test_migrations_match_the_declared_tables(backend: Backend) -> None:
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    await engine.dispose()
    assert differences == []


async def test_step_table_has_the_original_constraint_and_indexes(backend: Backend) -> None:
    """docs/contract.md#the-step-table: the names, the unique constraint and the indexes."""
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:

        def describe(sync):  # type: ignore[no-untyped-def]
            inspector = inspect(sync)
            return (
                {i["name"]: i["column_names"] for i in inspector.get_indexes("workshop_step_data")},
                [u["column_names"] for u in inspector.get_unique_constraints("workshop_step_data")],
                {
                    fk["referred_table"]: fk["options"].get("ondelete")
                    for fk in inspector.get_foreign_keys("workshop_step_data")
                },
            )

        indexes, uniques, foreign_keys = await conn.run_sync(describe)
    await engine.dispose()
    assert indexes["idx_workshop_step_data_user_workshop"] == ["user_id", "workshop_type"]
    assert indexes["idx_workshop_step_data_step"] == ["step_id"]
    assert ["user_id", "workshop_type", "step_id"] in uniques
    assert foreign_keys == {"users": "CASCADE"}


async def test_debugging_queries_run_unchanged_on_postgresql(
    backend: Backend, alice: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    """The operators' queries of docs/contract.md#debugging-queries, on two saved steps (the
    user id 123 in the second query stands for alice's)."""
    if backend.name != "postgresql":
        pytest.skip("the debugging queries are PostgreSQL SQL")
    assert (await save(alice, {"why": "because"})).status_code == 200
    assert (await save(alice, {"star": 1}, "ast", "2-1")).status_code == 200
    alice_id = accounts["alice"].id
    # The timestamps are naive UTC; NOW() compares them in the session's time zone.
    connection = await asyncpg.connect(backend.database_url, server_settings={"timezone": "UTC"})
    try:
        tables, steps, counts, recent = [
            await connection.fetch(query.replace("123", str(alice_id)))
            for query in DEBUGGING_QUERIES
        ]
        column = await connection.fetchrow(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'workshop_step_data' AND column_name = 'data'"
        )
    finally:
        await connection.close()
    assert [r["table_name"] for r in tables] == ["workshop_step_data"]
    assert [(r["workshop_type"], r["step_id"], json.loads(r["data"])) for r in steps] == [
        ("ast", "2-1", {"star": 1}),
        ("ia", "ia-3-4", {"why": "because"}),
    ]
    assert {r["workshop_type"]: r["step_count"] for r in counts} == {"ast": 1, "ia": 1}
    assert [(r["user_id"], r["step_id"]) for r in recent] == [
        (alice_id, "2-1"),
        (alice_id, "ia-3-4"),
    ]
    assert column is not None
    assert column["data_type"] == "jsonb"


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(backend: Backend) -> None:
    if backend.name != "sqlite":
        pytest.skip("SQLite pragmas")
    engine = create_engine(backend.settings(sqlite_synchronous="FULL"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL
    await engine.dispose()
