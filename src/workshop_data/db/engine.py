import sqlite3
import uuid
from typing import Any

import orjson
from sqlalchemy import Engine, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from workshop_data.db.availability import is_database_unavailable
from workshop_data.db.driver_statements import for_driver
from workshop_data.db.sqlite_writer import SqliteWriter, attach_writer
from workshop_data.db.url import UnsupportedDatabaseURL
from workshop_data.settings import Settings

# A pooled connection older than this is replaced at its next checkout.
POOL_RECYCLE_SECONDS = 1800


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.async_database_url
    if settings.is_sqlite:
        database = _sqlite_file(url)
        engine = create_async_engine(
            url,
            # As on PostgreSQL: a fixed pool. An overflow connection (a thread and a file
            # handle with aiosqlite) would be opened and closed for one request.
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_overflow,
            **_SQLITE_OPTIONS,
        )
        _configure_sqlite(engine.sync_engine, settings.sqlite_synchronous)
        attach_writer(engine, _sqlite_writer(database, engine.dialect, settings.sqlite_synchronous))
        return engine
    options: dict[str, Any] = {}
    if settings.database_pgbouncer:
        options = {
            # PgBouncer (transaction pooling) hands each transaction to any server
            # connection: a statement prepared and cached on one is unknown on the next.
            # No cache, and each statement a name of its own so names never collide.
            "connect_args": {
                "statement_cache_size": 0,
                "prepared_statement_cache_size": 0,
                "prepared_statement_name_func": _unique_statement_name,
            },
        }
    return create_async_engine(
        url,
        hide_parameters=True,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_overflow,
        # No pre-ping: it would add a round trip to every request. A connection broken by a
        # database restart fails one request (503 database_unavailable, which the client
        # retries) and is replaced.
        pool_recycle=POOL_RECYCLE_SECONDS,
        **options,
    )


def autocommit_engine(engine: AsyncEngine, settings: Settings) -> AsyncEngine:
    """The engine for services whose every write is one atomic statement: each statement
    commits by itself, one round trip. SQLite's driver starts a transaction only before a
    write, and switching a connection's isolation level costs more than the COMMIT it saves
    there. Through PgBouncer a statement outside a transaction is prepared and executed in
    two round trips that PgBouncer may send to different server connections, so there the
    statements run in transactions too."""
    if settings.is_sqlite or settings.database_pgbouncer:
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _unique_statement_name() -> str:
    return f"__wd_{uuid.uuid4().hex}__"


_SQLITE_OPTIONS: dict[str, Any] = {
    # Errors never carry a statement's values (password hashes, token hashes) into a log or
    # a traceback.
    "hide_parameters": True,
    "json_serializer": _json_dumps,
    "json_deserializer": orjson.loads,
    "connect_args": {"timeout": 30},
}


def _sqlite_file(async_url: str) -> str:
    database = make_url(async_url).database
    if not database or database == ":memory:":
        # Each connection would have a database of its own, the writer's too.
        raise UnsupportedDatabaseURL(
            "an in-memory SQLite database is not shared between connections; "
            "use sqlite:///path/to/file.db"
        )
    return database


def _sqlite_writer(database: str, dialect: Dialect, synchronous: str) -> SqliteWriter:
    """The writer every step save on the engine goes through (db/sqlite_writer.py). Its
    connection is Python's own sqlite3 driver, configured as the engine's, with the driver's
    own transaction handling off: the writer begins and commits."""

    def connect() -> sqlite3.Connection:
        driver = sqlite3.connect(
            database, timeout=30, isolation_level=None, check_same_thread=False
        )
        _apply_sqlite_pragmas(driver, synchronous)
        # The writer waits for another connection's write itself, without blocking its loop.
        driver.execute("PRAGMA busy_timeout=0")
        return driver

    return SqliteWriter(connect, dialect)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _apply_sqlite_pragmas(dbapi_connection, synchronous)


def _apply_sqlite_pragmas(dbapi_connection: Any, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def runs_on_driver(conn: AsyncConnection) -> bool:
    """Whether `first_row_on_driver` may run statements on this connection: PostgreSQL
    (asyncpg) in autocommit. In a transaction (PgBouncer), statements go through SQLAlchemy,
    which owns the transaction."""
    options = conn.sync_connection.get_execution_options() if conn.sync_connection else {}
    return conn.dialect.driver == "asyncpg" and options.get("isolation_level") == "AUTOCOMMIT"


async def first_row_on_driver(
    conn: AsyncConnection, statement: Any, values: dict[str, Any]
) -> Any | None:
    """The first row of `statement` (a SQLAlchemy Core statement, compiled once per dialect)
    run by asyncpg itself on `conn`'s connection, without SQLAlchemy's execution and its
    bridge between asyncpg and synchronous code: for the statement of every save. Only where
    `runs_on_driver`. The row's columns are read by name (`row["id"]`). A connection that
    broke is invalidated, as SQLAlchemy does with its own."""
    prepared = for_driver(statement, conn.dialect)
    sync = conn.sync_connection
    # The pooled connection itself, without a trip through SQLAlchemy's greenlet where it can.
    raw = sync.connection if sync is not None and not sync.invalidated else None
    driver = (raw or await conn.get_raw_connection()).driver_connection
    assert driver is not None
    if driver.is_closed():
        # The server ended it while it was idle (a restart, the database dropped): as
        # SQLAlchemy does with its own, it is invalidated, and the request answered 503.
        await conn.invalidate()
        raise ConnectionError("the database closed this connection")
    try:
        return await driver.fetchrow(prepared.sql, *prepared.arguments(values))
    except Exception as error:
        if is_database_unavailable(error):
            await conn.invalidate()
        raise
