"""Transactions on the request's connection.

Every route gets one connection (`deps.DbDep`). On PostgreSQL it runs in autocommit: a
single-statement write is one round trip. A service whose statements must commit together
wraps them in `transaction(conn)`, which makes the block one real transaction whatever mode
the connection is in, so no caller can run it without one."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

AUTOCOMMIT = "AUTOCOMMIT"


@asynccontextmanager
async def transaction(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """The block's statements commit together at its end, or roll back if it raises.

    Statements run on `conn` before the block are committed first. An autocommit connection
    is switched to the database's default isolation level for the block and back after it
    (a driver setting, no round trip); `conn.begin()` alone would not start a transaction
    on it."""
    if conn.in_transaction():
        await conn.commit()
    autocommit = conn.sync_connection is not None and (
        conn.sync_connection.get_execution_options().get("isolation_level") == AUTOCOMMIT
    )
    if autocommit:
        await conn.execution_options(isolation_level=conn.dialect.default_isolation_level)
    try:
        async with conn.begin():
            yield conn
    finally:
        if autocommit and not conn.invalidated and not conn.closed:
            await conn.execution_options(isolation_level=AUTOCOMMIT)
