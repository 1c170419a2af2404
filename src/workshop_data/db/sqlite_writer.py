"""One writer per SQLite engine: a thread of its own with one connection, through which every
step save of the process goes (docs/benchmarks.md, "The SQLite writer").

SQLite lets one connection write at a time. Saves on the engine's pooled connections queued for
that lock in SQLite's busy handler, which sleeps; and the async driver handed each of a save's
statements to a thread and back. Here a save is one job: a synchronous function run on the
writer's connection, all its statements in one hand-off. The writer takes every job waiting
when it is free and runs them in one transaction, each job in a savepoint of its own (a job that
fails is rolled back alone and its caller gets its error), then commits once: one sync of the
log to disk for all of them. A job's caller is answered only after that commit, so nothing is
acknowledged that is not on disk; when the commit fails, every job of the batch fails with it.

Jobs run SQLAlchemy Core statements on Python's sqlite3 driver directly (`WriterConnection`,
db/driver_statements.py). A job must not wait for anything but the database: it runs while the
writer holds the write lock."""

import asyncio
import contextlib
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from workshop_data.db.driver_statements import for_driver

T = TypeVar("T")
# Jobs committed together at the most: bounds one transaction's time and size.
MAX_BATCH = 64


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


_STOP = object()
_Item = tuple[Callable[[WriterConnection], Any], "asyncio.Future[Any]"]
Connect = Callable[[], sqlite3.Connection]


class SqliteWriter:
    def __init__(self, connect: Connect, dialect: Dialect) -> None:
        """`connect()` opens the writer's connection to the database, configured as the
        engine's are, in autocommit (the writer begins its transactions itself); `dialect`
        is the engine's."""
        self._connect = connect
        self._dialect = dialect
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Item | object] | None = None
        self._thread: threading.Thread | None = None

    async def run(self, job: Callable[[WriterConnection], T]) -> T:
        """`job(connection)`'s result once it is committed; its exception if it failed, or if
        the commit of its batch did."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._queue is None:
                self._queue = queue.SimpleQueue()
                self._thread = threading.Thread(
                    target=_serve,
                    args=(self._connect, self._dialect, self._queue),
                    name="sqlite-writer",
                    daemon=True,
                )
                self._thread.start()
            self._queue.put((job, future))
        return await future

    def close(self) -> None:
        """Run the jobs already queued, then stop the thread and close its connection (so the
        database's files are as SQLite leaves them when its last connection closes). A later
        `run` starts a new one. Called when the engine is disposed."""
        thread = self._stop()
        if thread is not None:
            thread.join()

    def _stop(self) -> threading.Thread | None:
        with self._lock:
            jobs, thread = self._queue, self._thread
            self._queue = self._thread = None
        if jobs is not None:
            jobs.put(_STOP)
        return thread


def _serve(connect: Connect, dialect: Dialect, jobs: "queue.SimpleQueue[_Item | object]") -> None:
    driver: sqlite3.Connection | None = None
    try:
        while True:
            batch, stop = _next_batch(jobs)
            if batch:
                if driver is None:
                    driver = _connect_for(connect, batch)
                if driver is not None and not _run_batch(driver, dialect, batch):
                    driver.close()
                    driver = None  # the next batch opens another
            if stop:
                return
    finally:
        if driver is not None:
            driver.close()


def _next_batch(jobs: "queue.SimpleQueue[_Item | object]") -> tuple[list[_Item], bool]:
    """The jobs waiting (at least one, waited for), and whether the writer is to stop after
    them."""
    batch: list[_Item] = []
    item = jobs.get()
    while item is not _STOP:
        batch.append(item)  # type: ignore[arg-type]
        if len(batch) == MAX_BATCH:
            return batch, False
        try:
            item = jobs.get_nowait()
        except queue.Empty:
            return batch, False
    return batch, True


def _connect_for(connect: Connect, batch: list[_Item]) -> sqlite3.Connection | None:
    try:
        return connect()
    except Exception as error:
        for _, future in batch:
            _settle(future, None, error)
        return None


def _run_batch(driver: sqlite3.Connection, dialect: Dialect, batch: list[_Item]) -> bool:
    """Run and commit the batch and answer each job; False when the connection failed."""
    conn = WriterConnection(driver, dialect)
    outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
    try:
        driver.execute("BEGIN IMMEDIATE")
        try:
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
            driver.execute("COMMIT")
        except BaseException:
            if driver.in_transaction:
                driver.execute("ROLLBACK")
            raise
    except Exception as error:
        # Nothing of the batch was committed: every job fails.
        for _, future in batch:
            _settle(future, None, error)
        return False
    for future, result, failure in outcomes:
        _settle(future, result, failure)
    return True


def _settle(future: "asyncio.Future[Any]", result: Any, error: BaseException | None) -> None:
    def settle() -> None:
        if future.cancelled():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    # The caller's event loop may be closed: then nobody is waiting.
    with contextlib.suppress(RuntimeError):
        future.get_loop().call_soon_threadsafe(settle)


_writers: "weakref.WeakKeyDictionary[Engine, SqliteWriter]" = weakref.WeakKeyDictionary()


def attach_writer(engine: AsyncEngine, writer: SqliteWriter) -> None:
    """Make `writer` the one every save on `engine` goes through. It is closed when the engine
    is disposed; its thread stops when the engine is gone, if nobody disposed it."""
    _writers[engine.sync_engine] = writer
    event.listen(engine.sync_engine, "engine_disposed", lambda _engine: writer.close())
    weakref.finalize(engine.sync_engine, writer._stop)


def writer_of(conn: AsyncConnection) -> SqliteWriter | None:
    """The writer of the engine `conn` belongs to; None on PostgreSQL."""
    writer = _writers.get(conn.sync_engine)
    if writer is None and conn.dialect.name == "sqlite":
        raise RuntimeError("a SQLite engine saves steps only if made by db.engine.create_engine")
    return writer
