"""One writer per SQLite engine, through which every step save of the process goes
(docs/benchmarks.md, "The SQLite writer").

SQLite lets one connection write at a time. Saves on the engine's pooled connections queued for
that lock in SQLite's busy handler, which sleeps; and the async driver handed each of a save's
statements to a thread and back. Here a save is one job: a synchronous function run on the
writer's own connection. The writer takes every job waiting when it is free and runs them in one
transaction, each job in a savepoint of its own (a job that fails is rolled back alone and its
caller gets its error), then commits once: one sync of the log to disk for all of them. A job's
caller is answered only after that commit, so nothing is acknowledged that is not on disk; when
the commit fails, every job of the batch fails with it.

The jobs run on the event loop's thread, between `BEGIN IMMEDIATE` (tried without waiting, and
again after a pause while another connection writes, so the loop never blocks on the lock) and
the `COMMIT`, which waits for the disk in a thread while the loop serves the next requests: a
batch costs one hand-off to a thread (a writer running whole batches in a thread of its own
saved 4-5 % fewer documents per second, docs/benchmarks.md). Jobs run SQLAlchemy Core
statements on Python's sqlite3 driver directly (`WriterConnection`, db/driver_statements.py).
A job must be quick and must not wait for anything: it runs on the loop, holding the lock."""

import asyncio
import contextlib
import sqlite3
import weakref
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from workshop_data.db.driver_statements import for_driver

T = TypeVar("T")
# Jobs committed together at the most: bounds one transaction's time and size.
MAX_BATCH = 64
# How long a batch waits for another connection's write to end before it fails (as SQLite's
# busy timeout on the engine's connections).
LOCK_TIMEOUT_SECONDS = 30.0


class WriterConnection:
    """The writer's connection as a job sees it: SQLAlchemy Core statements (built once, with
    named `bindparam`s) run on the driver, rows as dicts of their columns by name."""

    def __init__(self, driver: sqlite3.Connection, dialect: Dialect) -> None:
        self._driver = driver
        self.dialect = dialect

    def rows(self, statement: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
        prepared = for_driver(statement, self.dialect)
        cursor = self._driver.execute(prepared.sql, prepared.arguments(values))
        if cursor.description is None:
            return []
        names = [column[0] for column in cursor.description]
        readers = [prepared.result_processors.get(name) for name in names]
        return [
            {
                name: value if reader is None else reader(value)
                for name, reader, value in zip(names, readers, row, strict=True)
            }
            for row in cursor.fetchall()
        ]

    def first(self, statement: Any, values: dict[str, Any]) -> dict[str, Any] | None:
        found = self.rows(statement, values)
        return found[0] if found else None


_Item = tuple[Callable[["WriterConnection"], Any], "asyncio.Future[Any]"]
Connect = Callable[[], sqlite3.Connection]


class SqliteWriter:
    def __init__(self, connect: Connect, dialect: Dialect) -> None:
        """`connect()` opens the writer's connection to the database, configured as the
        engine's, in autocommit (the writer begins its transactions itself), usable from any
        thread (`check_same_thread=False`: the writer never uses it from two at once);
        `dialect` is the engine's."""
        self._connect = connect
        self._dialect = dialect
        self._driver: sqlite3.Connection | None = None
        self._waiting: list[_Item] = []
        self._draining: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[WriterConnection], T]) -> T:
        """`job(connection)`'s result once it is committed; its exception if it failed, or if
        the commit of its batch did."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((job, future))
        if self._draining is None or self._draining.done():
            self._draining = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[:MAX_BATCH]
            del self._waiting[: len(batch)]
            await self._commit_batch(batch)

    async def _commit_batch(self, batch: list[_Item]) -> None:
        try:
            if self._driver is None:
                self._driver = await asyncio.to_thread(self._connect)
            driver = self._driver
            await _begin(driver)
            outcomes = _run_jobs(driver, self._dialect, batch)
            await asyncio.to_thread(driver.execute, "COMMIT")
        except Exception as error:
            # Nothing of the batch was committed: every job fails, and the next batch starts
            # on a new connection.
            self.close()
            outcomes = [(future, None, error) for _, future in batch]
        for future, result, failure in outcomes:
            _settle(future, result, failure)

    def close(self) -> None:
        """Close the writer's connection (so the database's files are as SQLite leaves them
        when its last connection closes); a later job opens another. Called when the engine is
        disposed: by then nothing is waiting for a save."""
        driver, self._driver = self._driver, None
        if driver is not None:
            with contextlib.suppress(sqlite3.Error):  # a broken connection is closed all the same
                if driver.in_transaction:
                    driver.execute("ROLLBACK")
            driver.close()


async def _begin(driver: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE without blocking the loop: while another connection writes, try again
    after a pause, up to LOCK_TIMEOUT_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOCK_TIMEOUT_SECONDS
    pause = 0.001
    while True:
        try:
            driver.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or loop.time() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


def _run_jobs(
    driver: sqlite3.Connection, dialect: Dialect, batch: list[_Item]
) -> list[tuple["asyncio.Future[Any]", Any, BaseException | None]]:
    """Each job in a savepoint of its own: one that fails is rolled back alone."""
    conn = WriterConnection(driver, dialect)
    outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
    for job, future in batch:
        driver.execute("SAVEPOINT job")
        try:
            result = job(conn)
        except Exception as error:
            driver.execute("ROLLBACK TO job")
            outcomes.append((future, None, error))
        else:
            outcomes.append((future, result, None))
        driver.execute("RELEASE job")
    return outcomes


def _settle(future: "asyncio.Future[Any]", result: Any, error: BaseException | None) -> None:
    """Answer a job's caller, on the caller's own loop."""

    def settle() -> None:
        if future.cancelled():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    if future.get_loop() is asyncio.get_running_loop():
        settle()
    elif not future.get_loop().is_closed():
        future.get_loop().call_soon_threadsafe(settle)


_writers: "weakref.WeakKeyDictionary[Engine, SqliteWriter]" = weakref.WeakKeyDictionary()


def attach_writer(engine: AsyncEngine, writer: SqliteWriter) -> None:
    """Make `writer` the one every save on `engine` goes through. Its connection is closed when
    the engine is disposed, or gone."""
    _writers[engine.sync_engine] = writer
    event.listen(engine.sync_engine, "engine_disposed", lambda _engine: writer.close())
    weakref.finalize(engine.sync_engine, writer.close)


def writer_of(conn: AsyncConnection) -> SqliteWriter | None:
    """The writer of the engine `conn` belongs to, for a caller holding `conn`; None on
    PostgreSQL. RuntimeError, at once, if `conn` holds a write of its own open: the writer
    would wait for that lock until it ended, never, as its caller waits for the writer."""
    writer = _writers.get(conn.sync_engine)
    if writer is None:
        if conn.dialect.name == "sqlite":
            raise RuntimeError("a SQLite engine writes only if made by db.engine.create_engine")
        return None
    raw = conn.sync_connection.connection.driver_connection if conn.sync_connection else None
    if raw is not None and raw.in_transaction:
        raise RuntimeError("commit the connection's transaction before saving a step on SQLite")
    return writer


Write = tuple[Any, dict[str, Any]]


def _run_writes(writes: Sequence[Write], conn: WriterConnection) -> list[list[dict[str, Any]]]:
    return [conn.rows(statement, values) for statement, values in writes]


async def commit_writes(
    conn: AsyncConnection, writes: Sequence[Write]
) -> list[list[dict[str, Any]]]:
    """Run `writes` (statements built once, with named `bindparam`s, and their values) in one
    transaction and commit; the rows each answered (RETURNING), as dicts. On SQLite as one job
    of the engine's writer, so that no write fights it for the database's lock; elsewhere on
    `conn` (which must hold no transaction of its own: this commits it)."""
    writer = writer_of(conn)
    if writer is not None:
        return await writer.run(partial(_run_writes, writes))
    answered = []
    for statement, values in writes:
        result = await conn.execute(statement, values)
        answered.append([dict(row._mapping) for row in result] if result.returns_rows else [])
    await conn.commit()
    return answered
