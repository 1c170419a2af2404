"""On PostgreSQL with autocommit connections the save statement runs on asyncpg itself
(`first_row_on_driver`), compiled from the same SQLAlchemy statement; in a transaction (SQLite,
PgBouncer) it goes through SQLAlchemy. Either way a save answers the same record."""

from datetime import datetime

from tests.support import Account, Backend
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import autocommit_engine, create_engine, runs_on_driver
from workshop_data.step_data import service
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.step_data.statements import StepRecord


async def test_autocommit_postgresql_saves_on_the_driver_and_answers_the_same_record(
    backend: Backend, accounts: dict[str, Account]
) -> None:
    settings = backend.settings()
    engine = create_engine(settings)
    step = load_catalog().step("ia", "ia-3-4")
    records: list[StepRecord] = []
    try:
        for connections in (autocommit_engine(engine, settings), engine):
            async with connections.connect() as conn:
                on_driver = runs_on_driver(conn)
                if connections is engine or backend.name != "postgresql":
                    assert not on_driver
                else:
                    assert on_driver
                saved = await service.save_step(
                    conn,
                    user_id=accounts["alice"].id,
                    step=step,
                    data={"whyReflection": f"saved {len(records)}", "nested": {"n": [1, 2]}},
                    base_version=len(records),
                    request_id=f"request-{len(records)}",
                    history=HistoryPolicy(5, 1),
                )
                records.append(saved.record)
    finally:
        await engine.dispose()
    first, second = records
    assert (first.version, second.version) == (1, 2)
    assert first.id == second.id and first.user_id == accounts["alice"].id
    assert (first.workshop_type, first.step_id) == ("ia", "ia-3-4")
    assert first.data == {"whyReflection": "saved 0", "nested": {"n": [1, 2]}}
    assert second.data == {"whyReflection": "saved 1", "nested": {"n": [1, 2]}}
    for record in records:
        assert isinstance(record.created_at, datetime) and record.created_at.tzinfo is None
        assert record.updated_at >= record.created_at
