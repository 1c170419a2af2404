"""Where a save is written: one repository per dialect, each owning its commit, the history
row and its pruning, and the session's touch. The service (service.py) builds a `SaveCommand`
and asks `repository_for(conn)`; it never knows the dialect. A repository answers the stored
record when the save wrote, None when its statement wrote nothing (the service explains why).

- `PostgresSaves`: the one statement (statements.py, history.recorded_save_statement: the
  history row and the pruning in it) on asyncpg itself in autocommit (`first_row_on_driver`),
  through SQLAlchemy in a transaction it commits behind PgBouncer.
- `SqliteSaves`: a job of the process's SQLite writer (db/sqlite_writer.py): the save
  statement, the history row and pruning, the touch, committed with the writer's batch.

Either marks the uploads the document refers to in the save's own transaction (a save that
refers to none, nearly every one, pays nothing for it)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.auth import service as auth_service
from workshop_data.auth.service import SessionCredential
from workshop_data.catalog.service import StepInfo
from workshop_data.db import sqlite_writer
from workshop_data.db.engine import first_row_on_driver, runs_on_driver
from workshop_data.db.sqlite_writer import SqliteWriter, WriterConnection
from workshop_data.db.transaction import transaction
from workshop_data.step_data import history as step_history
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.step_data.statements import (
    StepRecord,
    insert_statement,
    record_of,
    update_statement,
)
from workshop_data.uploads.storage import mark_referenced_statement, mark_referenced_values


@dataclass(frozen=True, slots=True)
class SaveCommand:
    """One save, as the service checked it: who writes (`user_id` or `session`), which step,
    the document, the base version (None: last write wins; 0: the step must not exist yet),
    the request id of retries, the schema version, the history policy and the time."""

    user_id: int | None
    session: SessionCredential | None
    step: StepInfo
    data: dict[str, Any]
    base_version: int | None
    request_id: str | None
    schema_version: int | None
    history: HistoryPolicy | None
    now: datetime
    # The uploads the document refers to ("/api/uploads/<id>"): marked referenced in the
    # save's own transaction (uploads/storage.py), so that no save leaves them unmarked.
    upload_ids: tuple[str, ...] = ()

    def statement(self, dialect: str) -> Any:
        guarded = self.step.locks_on_completion
        by_session = self.session is not None
        if self.base_version is None or self.base_version == 0:
            return insert_statement(dialect, self.base_version is None, guarded, by_session)
        return update_statement(guarded, by_session)

    def values(self) -> dict[str, Any]:
        session = self.session
        return {
            "p_user_id": self.user_id,
            "p_token_hash": None if session is None else session.hashed,
            "p_device_hash": None if session is None else session.device_hashed,
            "p_workshop_type": self.step.workshop_type,
            "p_step_id": self.step.step_id,
            "p_data": self.data,
            "p_now": self.now,
            "p_request_id": self.request_id,
            "p_base_version": self.base_version,
            "p_schema_version": self.schema_version,
        }

    @property
    def keeps_history(self) -> bool:
        return self.history is not None and self.history.enabled


class SaveRepository(Protocol):
    async def write(self, conn: AsyncConnection, command: SaveCommand) -> StepRecord | None:
        """Write and commit the save; the stored record, or None if its statement wrote
        nothing (nothing is left open then)."""
        ...


async def first_row(
    conn: AsyncConnection, statement: Any, values: dict[str, Any]
) -> Mapping[Any, Any] | None:
    """The first row of one of the statements of statements.py, its columns by name: on
    asyncpg directly where it can, through SQLAlchemy otherwise."""
    if runs_on_driver(conn):
        found: Mapping[Any, Any] | None = await first_row_on_driver(conn, statement, values)
        return found
    row = (await conn.execute(statement, values)).first()
    return None if row is None else row._mapping


class PostgresSaves:
    async def write(self, conn: AsyncConnection, command: SaveCommand) -> StepRecord | None:
        statement = command.statement(conn.dialect.name)
        values = command.values()
        if command.keeps_history:
            assert command.history is not None
            statement = step_history.recorded_save_statement(statement)
            values.update(step_history.recorded_values(command.history, command.data, command.now))
        if command.upload_ids:
            # The rare save that refers to images: the mark commits with it.
            async with transaction(conn):
                return await self._written(conn, command, statement, values)
        record = await self._written(conn, command, statement, values)
        if record is not None and conn.in_transaction():  # not after the driver alone
            await conn.commit()
        return record

    async def _written(
        self, conn: AsyncConnection, command: SaveCommand, statement: Any, values: dict[str, Any]
    ) -> StepRecord | None:
        found = await first_row(conn, statement, values)
        if found is None:
            return None
        record = record_of(found)
        if command.upload_ids:
            await conn.execute(
                mark_referenced_statement(len(command.upload_ids)),
                mark_referenced_values(record.user_id, command.upload_ids, command.now),
            )
        session = command.session
        if session is not None:
            await auth_service.touch_session_when_due(conn, session, session.hashed, command.now)
        return record


@dataclass(frozen=True, slots=True)
class SqliteSaves:
    writer: SqliteWriter

    async def write(self, conn: AsyncConnection, command: SaveCommand) -> StepRecord | None:
        statement = command.statement(conn.dialect.name)
        return await self.writer.run(partial(_save_job, statement, command))


def _save_job(statement: Any, command: SaveCommand, conn: WriterConnection) -> StepRecord | None:
    """The save as a job of the SQLite writer: the save statement, then (when it wrote) the
    history row and its pruning and the session's touch, in the writer's transaction."""
    row = conn.first(statement, command.values())
    if row is None:
        return None
    record = record_of(row)
    if command.keeps_history:
        assert command.history is not None
        step_history.record_version(
            conn,
            command.history,
            user_id=record.user_id,
            workshop_type=record.workshop_type,
            step_id=record.step_id,
            version=record.version,
            data=command.data,  # as sent: its preview keeps the participant's order of fields
            saved_at=record.updated_at,
            schema_version=record.schema_version,
        )
    if command.upload_ids:
        conn.rows(
            mark_referenced_statement(len(command.upload_ids)),
            mark_referenced_values(record.user_id, command.upload_ids, command.now),
        )
    session = command.session
    if session is not None:
        auth_service.touch_session_when_due_in(conn, session, session.hashed, command.now)
    return record


_POSTGRES = PostgresSaves()


def repository_for(conn: AsyncConnection) -> SaveRepository:
    """The repository of `conn`'s engine: its SQLite writer's, or PostgreSQL's."""
    writer = sqlite_writer.writer_of(conn)
    return _POSTGRES if writer is None else SqliteSaves(writer)
