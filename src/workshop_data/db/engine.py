import uuid
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from workshop_data.settings import Settings


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.async_database_url
    if settings.is_sqlite:
        engine = create_async_engine(
            url,
            # Errors never carry a statement's values (password hashes, token hashes) into
            # a log or a traceback.
            hide_parameters=True,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"timeout": 30},
        )
        _configure_sqlite(engine, settings.sqlite_synchronous)
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
        max_overflow=settings.database_pool_size,
        # No pre-ping: it would add a round trip to every request. A connection broken by a
        # database restart fails one request (503 database_unavailable, which the client
        # retries) and is replaced.
        pool_recycle=1800,
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


def _configure_sqlite(engine: AsyncEngine, synchronous: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
