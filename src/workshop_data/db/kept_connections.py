"""Connections kept checked out of the engine's pool between requests, so that a request
takes one with a list pop instead of SQLAlchemy's checkout and return, which was a fifth of a
save's time in the service (docs/benchmarks.md).

A connection is kept only when the request that used it ended cleanly (no exception; a
transaction it left open is rolled back, as the pool would), is not invalidated, is younger
than the pool's recycle time (counted from when it was first taken), no request is waiting for
the pool, and fewer than `keep` are idle. Any other connection goes back to the engine's pool
as always (reset there, or discarded if broken). One that breaks while kept (a database
restart) fails the request that takes it next with 503, as one in the pool would (there is no
pre-ping either), and sends the other kept ones back to the pool."""

import time

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_FIRST_TAKEN = "workshop_data.kept_connections.first_taken"


class KeptConnections:
    def __init__(self, engine: AsyncEngine, keep: int, max_age_seconds: float) -> None:
        self._engine = engine
        self._keep = keep
        self._max_age = max_age_seconds
        self._idle: list[AsyncConnection] = []
        # Requests waiting for the pool: while there are any, a connection given back goes
        # to the pool, where the longest waiting takes it, rather than to the next newcomer.
        self._waiting = 0

    async def take(self) -> AsyncConnection:
        if self._idle:
            return self._idle.pop()
        self._waiting += 1
        try:
            conn = await self._engine.connect()
        finally:
            self._waiting -= 1
        # The connection's own state, kept with it through the pool: when it was first taken.
        conn.info.setdefault(_FIRST_TAKEN, time.monotonic())
        return conn

    async def give_back(self, conn: AsyncConnection, *, clean: bool) -> None:
        if (
            clean
            and not self._waiting
            and len(self._idle) < self._keep
            and not (conn.closed or conn.invalidated)
            and time.monotonic() - conn.info[_FIRST_TAKEN] < self._max_age
            and await _settled(conn)
        ):
            self._idle.append(conn)
            return
        broken = conn.invalidated
        await conn.close()
        if broken:
            # Broken: so are the kept ones, likely (a database restart). Back to the pool,
            # which replaces every connection older than the break, as SQLAlchemy does.
            await self.close()

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()


async def _settled(conn: AsyncConnection) -> bool:
    """Nothing left uncommitted on `conn`, as the pool leaves a connection given back; False
    if it broke on the way."""
    if not conn.in_transaction():
        return True
    try:
        await conn.rollback()
    except Exception:
        return False
    return True
