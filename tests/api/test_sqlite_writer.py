"""The SQLite writer (db/sqlite_writer.py): the saves waiting when it is free are committed
together; a job that fails is rolled back alone; nobody is answered before the commit, and when
the commit fails nobody is told their save was kept; the step saves of an app go through it."""

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, text
from sqlalchemy.dialects import sqlite

from tests.support import Account, Backend
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.db.sqlite_writer import (
    SqliteWriter,
    WriterConnection,
    writer_of,
)
from workshop_data.db.url import UnsupportedDatabaseURL
from workshop_data.settings import Settings
from workshop_data.step_data import service
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.users.service import create_user

pytestmark = pytest.mark.backends("sqlite")

scratch_tables = MetaData()
notes = Table(
    "notes", scratch_tables, Column("id", Integer, primary_key=True), Column("text", String)
)
children = Table(
    "children",
    scratch_tables,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer),
)
ADD_ORPHAN = insert(children).values(parent_id=bindparam("p_parent", type_=Integer()))
ADD_NOTE = insert(notes).values(text=bindparam("p_text", type_=String())).returning(notes.c.id)


class Scratch:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.statements: list[str] = []

    def connect(self) -> sqlite3.Connection:
        driver = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=0
        )
        driver.execute("PRAGMA foreign_keys=ON")
        driver.set_trace_callback(self.statements.append)
        return driver

    def texts(self) -> list[str]:
        with closing(sqlite3.connect(self.path)) as driver:
            return [row[0] for row in driver.execute("SELECT text FROM notes ORDER BY id")]

    def commits(self) -> int:
        return self.statements.count("COMMIT")

    @contextmanager
    def written_elsewhere(self) -> Iterator[None]:
        """Another connection holds the write lock during the block."""
        with closing(sqlite3.connect(self.path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                other.execute("ROLLBACK")


@pytest.fixture
async def scratch(tmp_path: Path) -> AsyncIterator[tuple[Scratch, SqliteWriter]]:
    database = Scratch(tmp_path / "scratch.db")
    with closing(sqlite3.connect(database.path)) as driver:
        driver.execute("PRAGMA journal_mode=WAL")
        driver.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        driver.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
        driver.execute(
            "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER "
            "REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        driver.commit()
    writer = SqliteWriter(database.connect, sqlite.dialect())
    yield database, writer
    writer.close()


def add(note: str) -> Callable[[WriterConnection], int]:
    def job(conn: WriterConnection) -> int:
        row = conn.first(ADD_NOTE, {"p_text": note})
        assert row is not None
        return int(row["id"])

    return job


async def test_the_saves_waiting_are_committed_together(
    scratch: tuple[Scratch, SqliteWriter],
) -> None:
    database, writer = scratch
    with database.written_elsewhere():
        first = asyncio.ensure_future(writer.run(add("first")))
        await asyncio.sleep(0.02)  # the writer has taken it, and waits for the lock
        others = [asyncio.ensure_future(writer.run(add(f"note {n}"))) for n in range(20)]
        await asyncio.sleep(0.02)
    ids = [await first, *await asyncio.gather(*others)]

    assert len(set(ids)) == 21
    assert database.texts() == ["first", *(f"note {n}" for n in range(20))]
    assert database.commits() == 2  # the first alone, then the twenty that waited


async def test_the_loop_goes_on_while_another_connection_writes(
    scratch: tuple[Scratch, SqliteWriter],
) -> None:
    database, writer = scratch
    with database.written_elsewhere():
        saved = asyncio.ensure_future(writer.run(add("after the other")))
        # The loop is free to time this out: the writer does not block it waiting for the lock.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(saved), 0.2)
    assert await saved > 0
    assert database.texts() == ["after the other"]


async def test_a_job_that_fails_is_rolled_back_alone(
    scratch: tuple[Scratch, SqliteWriter],
) -> None:
    database, writer = scratch

    def half_done(conn: WriterConnection) -> None:
        add("half")(conn)
        raise LookupError("refused after its first statement")

    before, failed, after = await asyncio.gather(
        writer.run(add("before")),
        writer.run(half_done),
        writer.run(add("after")),
        return_exceptions=True,
    )

    assert isinstance(before, int)
    assert isinstance(after, int)
    assert isinstance(failed, LookupError)
    assert database.texts() == ["before", "after"]
    assert database.commits() == 1


async def test_nobody_is_told_kept_when_the_commit_fails(
    scratch: tuple[Scratch, SqliteWriter],
) -> None:
    database, writer = scratch

    def orphan(conn: WriterConnection) -> None:
        # A deferred foreign key is checked at COMMIT: the whole batch's commit fails.
        conn.rows(ADD_ORPHAN, {"p_parent": 42})

    kept, orphaned = await asyncio.gather(
        writer.run(add("with the orphan")), writer.run(orphan), return_exceptions=True
    )

    assert isinstance(kept, sqlite3.IntegrityError)
    assert isinstance(orphaned, sqlite3.IntegrityError)
    assert database.texts() == []
    # The writer goes on, on a new connection.
    assert await writer.run(add("later")) > 0
    assert database.texts() == ["later"]


async def test_a_closed_writer_opens_a_connection_again_when_used(
    scratch: tuple[Scratch, SqliteWriter],
) -> None:
    database, writer = scratch
    await writer.run(add("one"))
    writer.close()
    await writer.run(add("two"))
    assert database.texts() == ["one", "two"]


async def test_step_saves_go_through_the_writer_and_keep_history_atomically(
    backend: Backend, accounts: dict[str, Account]
) -> None:
    engine = create_engine(backend.settings())
    step = load_catalog().step("ia", "ia-3-4")
    user_id = accounts["bob"].id
    history = HistoryPolicy(keep_versions=5, hourly_days=0)
    try:
        async with engine.connect() as conn:
            save = partial(
                service.save_step,
                conn,
                user_id=user_id,
                step=step,
                base_version=None,
                request_id=None,
                history=history,
            )
            before = (await save(data={"whyReflection": "kept"})).record
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_history BEFORE INSERT ON workshop_step_history "
                    "BEGIN SELECT RAISE(ABORT, 'history refused'); END"
                )
            )
            await conn.commit()
            try:
                with pytest.raises(sqlite3.IntegrityError, match="history refused"):
                    await save(data={"whyReflection": "not kept: its history row failed"})
            finally:
                await conn.execute(text("DROP TRIGGER refuse_history"))
                await conn.commit()
            after = await service.get_step(conn, user_id, "ia", "ia-3-4")
            assert writer_of(conn) is not None
    finally:
        await engine.dispose()
    assert after is not None
    assert (after.version, after.data) == (before.version, before.data)


async def test_a_save_with_a_write_open_on_its_connection_is_refused_at_once(
    backend: Backend, accounts: dict[str, Account]
) -> None:
    engine = create_engine(backend.settings())
    step = load_catalog().step("ia", "ia-3-4")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("UPDATE users SET name = name WHERE id = :id"), {"id": 0})
            with pytest.raises(RuntimeError, match="commit"):
                await asyncio.wait_for(
                    service.save_step(
                        conn,
                        user_id=accounts["bob"].id,
                        step=step,
                        data={"whyReflection": "x"},
                        base_version=None,
                        request_id=None,
                    ),
                    timeout=5,
                )
            await conn.rollback()
    finally:
        await engine.dispose()


def test_an_in_memory_database_is_refused_with_a_clear_message() -> None:
    with pytest.raises(UnsupportedDatabaseURL, match="in-memory"):
        create_engine(Settings(database_url="sqlite:///:memory:"))


async def test_disposing_the_engine_closes_the_writers_connection(
    tmp_path: Path,
) -> None:
    database = tmp_path / "alone.db"
    engine = create_engine(Settings(database_url=f"sqlite:///{database}"))
    await upgrade_to_head(engine)
    async with engine.connect() as conn:
        user = await create_user(conn, username="wen", password="wen-quiet-harbor-71")
        await service.save_step(
            conn,
            user_id=user.id,
            step=load_catalog().step("ia", "ia-3-4"),
            data={"whyReflection": "kept"},
            base_version=None,
            request_id=None,
        )
    await engine.dispose()
    # The last connection to close takes SQLite's log and index files with it.
    assert sorted(os.listdir(tmp_path)) == ["alone.db"]
