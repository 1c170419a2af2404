"""Alembic environment. `workshop_data.db.migrate` hands in an open connection;
the plain `alembic` command line builds one from WORKSHOP_DATA_DATABASE_URL."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from workshop_data.db.engine import create_engine
from workshop_data.db.tables import metadata
from workshop_data.settings import Settings


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = create_engine(Settings())
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_with_own_engine())
