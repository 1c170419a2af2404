"""Saving and reading step data. Every save is one atomic statement that checks the version,
the lock and whether anything changed, and writes; only a refused save reads again to explain
why it was refused. On an autocommit connection that statement is the save's only round trip.

The step write routes pass the request's session (a `SessionCredential`) instead of a user id:
then the same statement also checks the session (live, not expired; the user is the session's
user), so no separate session lookup precedes the save. A refused save explains "not signed
in" (401) before the lock (423) and the version (409)."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.auth import service as auth_service
from workshop_data.auth.service import SessionCredential
from workshop_data.catalog.service import StepInfo
from workshop_data.db import sqlite_writer
from workshop_data.db.engine import first_row_on_driver, runs_on_driver
from workshop_data.db.sqlite_writer import WriterConnection
from workshop_data.db.tables import workshop_step_data
from workshop_data.errors import (
    Conflict,
    DomainError,
    PayloadTooLarge,
    ServiceBusy,
    VersionNotFound,
)
from workshop_data.events.schemas import Event, StepSaved
from workshop_data.json_input import DEFAULT_LIMITS, JsonLimits, check_document, encoded_size
from workshop_data.participation.service import locked_since, workshop_locked
from workshop_data.step_data import history as step_history
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.step_data.statements import (
    RECORD_COLUMNS,
    StepRecord,
    insert_statement,
    patch_read_statement,
    record_of,
    update_statement,
)
from workshop_data.timeutil import iso, utc_now

steps = workshop_step_data


@dataclass(frozen=True, slots=True)
class Saved:
    """What a save (patch, restore) stored, and the events its commit caused: one StepSaved
    when it wrote a new version, none when it changed nothing (the same data, or a retry of a
    save already committed). The caller publishes them (they are committed)."""

    record: StepRecord
    events: tuple[Event, ...]


def _written(record: StepRecord, device_id: str | None) -> Saved:
    return Saved(
        record,
        (
            StepSaved(
                user_id=record.user_id,
                workshop_type=record.workshop_type,
                step_id=record.step_id,
                version=record.version,
                saved_at=record.updated_at,
                device_id=device_id,
            ),
        ),
    )


def check_step_document(data: dict[str, Any], limits: JsonLimits) -> None:
    check_document(data, ("data",), limits)
    size = encoded_size(data)
    if size > limits.max_document_bytes:
        raise PayloadTooLarge(
            f"data is {size} bytes; a step may hold at most {limits.max_document_bytes} bytes.",
        )


def _check_writer(user_id: int | None, session: SessionCredential | None) -> None:
    """Exactly one of the two names who writes."""
    if (user_id is None) == (session is None):
        raise TypeError("pass either user_id or session")


async def _first_row(
    conn: AsyncConnection, statement: Any, values: dict[str, Any]
) -> Mapping[Any, Any] | None:
    """The first row of one of the statements of statements.py, its columns by name: on
    asyncpg directly where it can, through SQLAlchemy otherwise."""
    if runs_on_driver(conn):
        found: Mapping[Any, Any] | None = await first_row_on_driver(conn, statement, values)
        return found
    row = (await conn.execute(statement, values)).first()
    return None if row is None else row._mapping


async def _first_record(
    conn: AsyncConnection, statement: Any, values: dict[str, Any]
) -> StepRecord | None:
    found = await _first_row(conn, statement, values)
    return None if found is None else record_of(found)


async def save_step(
    conn: AsyncConnection,
    *,
    user_id: int | None = None,
    session: SessionCredential | None = None,
    step: StepInfo,
    data: dict[str, Any],
    base_version: int | None,
    request_id: str | None,
    history: HistoryPolicy | None = None,
    schema_version: int | None = None,
    limits: JsonLimits = DEFAULT_LIMITS,
    device_id: str | None = None,
) -> Saved:
    """Store `data` for the user's step and return the stored record with the events of its
    commit (`device_id`: the writing device, for its StepSaved). `data` must be within
    `limits` and storable (PayloadTooLarge, InvalidInput otherwise).

    base_version None: last write wins; 0: the step must not exist yet; n: it must be at n.
    `schema_version` is stored with it (None: the writer declared none). Saving what is
    already stored (data and schema version) changes nothing. A retry of a committed save (same
    request_id) returns the stored record instead of a conflict.

    With an enabled `history` policy the new version is also kept in the step's history, and
    the history pruned, atomically with the save: on PostgreSQL in the save statement itself,
    on SQLite in the transaction in which the process's writer commits the save
    (db/sqlite_writer.py; the caller must have no write of its own open on `conn` there).

    Who writes is either `user_id` or `session` (the statement checks the session, and a
    refusal for want of one is NotAuthenticated); with a session, the session is touched
    when due, in the same transaction."""
    _check_writer(user_id, session)
    try:
        check_step_document(data, limits)
    except DomainError:
        if session is not None:
            # As for every write: a refusal for want of a session comes first.
            await auth_service.signed_in_user_id(conn, session)
        raise
    hashed = None if session is None else session.hashed
    guarded = step.locks_on_completion
    by_session = session is not None
    if base_version is None or base_version == 0:
        statement = insert_statement(conn.dialect.name, base_version is None, guarded, by_session)
    else:
        statement = update_statement(guarded, by_session)
    now = utc_now()
    values = {
        "p_user_id": user_id,
        "p_token_hash": hashed,
        "p_device_hash": None if session is None else session.device_hashed,
        "p_workshop_type": step.workshop_type,
        "p_step_id": step.step_id,
        "p_data": data,
        "p_now": now,
        "p_request_id": request_id,
        "p_base_version": base_version,
        "p_schema_version": schema_version,
    }
    writer = sqlite_writer.writer_of(conn)
    if writer is not None:
        record = await writer.run(
            partial(_write_on_sqlite, statement, values, data, history, session, hashed)
        )
    else:
        if history is not None and history.enabled:
            statement = step_history.recorded_save_statement(statement)
            values.update(step_history.recorded_values(history, data, now))
        record = await _first_record(conn, statement, values)
        if record is not None:
            if session is not None and hashed is not None:
                await auth_service.touch_session_when_due(conn, session, hashed, now)
            if conn.in_transaction():  # not after a statement on the driver alone
                await conn.commit()
    if record is not None:
        return _written(record, device_id)
    try:
        if session is not None:
            user_id = await auth_service.signed_in_user_id(conn, session)
        assert user_id is not None
        stored = await _outcome_of_an_unwritten_save(conn, user_id, step, base_version, request_id)
        return Saved(stored, ())
    finally:
        await conn.rollback()


def _write_on_sqlite(
    statement: Any,
    values: dict[str, Any],
    data: dict[str, Any],
    history: HistoryPolicy | None,
    session: SessionCredential | None,
    hashed: str | None,
    conn: WriterConnection,
) -> StepRecord | None:
    """A save as a job of the SQLite writer: the save statement, then (when it wrote) the
    history row and the session's touch, in the writer's transaction."""
    row = conn.first(statement, values)
    if row is None:
        return None
    record = record_of(row)
    if history is not None and history.enabled:
        step_history.record_version(
            conn,
            history,
            user_id=record.user_id,
            workshop_type=record.workshop_type,
            step_id=record.step_id,
            version=record.version,
            data=data,  # as sent: its preview keeps the participant's order of fields
            saved_at=record.updated_at,
            schema_version=record.schema_version,
        )
    if session is not None and hashed is not None:
        auth_service.touch_session_when_due_in(conn, session, hashed, values["p_now"])
    return record


async def restore_step(
    conn: AsyncConnection,
    *,
    user_id: int | None = None,
    session: SessionCredential | None = None,
    step: StepInfo,
    version: int,
    base_version: int | None,
    request_id: str | None,
    history: HistoryPolicy,
    limits: JsonLimits = DEFAULT_LIMITS,
    device_id: str | None = None,
) -> Saved:
    """Save the content of a kept `version` of the step (with the schema version it was written
    in) as its new version, under the rules of any save (base_version, the lock, request_id for
    retries). Restoring what is already
    current changes nothing. Who restores: `user_id` or `session`, as for `save_step`."""
    _check_writer(user_id, session)
    # A restore is rare: by session, it looks the user up first (to read the kept version),
    # and its save still checks the session in the statement.
    reader = user_id if session is None else await auth_service.signed_in_user_id(conn, session)
    assert reader is not None
    stored = await step_history.get_version(conn, reader, step.workshop_type, step.step_id, version)
    if stored is None:
        await conn.rollback()
        raise VersionNotFound(
            f"Step '{step.step_id}' has no kept version {version}; list them at .../history."
        )
    return await save_step(
        conn,
        user_id=user_id,
        session=session,
        step=step,
        data=stored.data,
        base_version=base_version,
        request_id=request_id,
        history=history,
        schema_version=stored.schema_version,
        limits=limits,
        device_id=device_id,
    )


async def keep_device_copy(
    conn: AsyncConnection,
    *,
    user_id: int,
    step: StepInfo,
    data: dict[str, Any],
    schema_version: int | None,
    history: HistoryPolicy,
    limits: JsonLimits = DEFAULT_LIMITS,
) -> step_history.HistoryEntry | None:
    """Keep `data` in the user's step history as a device copy: a device's own unsaved text
    that a merge is about to replace (history.keep_device_copy). Checked like a save (`limits`)
    and refused like one when the workshop is locked (423); nothing is written then. None
    when the history policy keeps nothing."""
    check_step_document(data, limits)
    if step.locks_on_completion:
        completed_at = await locked_since(conn, user_id, step.workshop_type)
        if completed_at is not None:
            raise workshop_locked(
                step.workshop_type,
                completed_at,
                f"step '{step.step_id}' can no longer be changed",
                step_id=step.step_id,
            )
    return await step_history.keep_device_copy(
        conn,
        history,
        user_id=user_id,
        workshop_type=step.workshop_type,
        step_id=step.step_id,
        data=data,
        schema_version=schema_version,
        now=utc_now(),
    )


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge key by key, `null` removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = apply_merge_patch(merged.get(key), value)
    return merged


# Without a base version a patch is applied to whatever is stored; a concurrent writer that
# wins between our read and our write makes us read and apply it again, this often.
PATCH_ATTEMPTS = 16


async def _read_for_patch(
    conn: AsyncConnection,
    user_id: int | None,
    session: SessionCredential | None,
    step: StepInfo,
) -> tuple[int, StepRecord | None]:
    """(the writer's user id, the stored record or None). By session, one statement reads the
    live session and the step together; no live session is NotAuthenticated."""
    values = {
        "p_user_id": user_id,
        "p_token_hash": None if session is None else session.hashed,
        "p_device_hash": None if session is None else session.device_hashed,
        "p_now": utc_now(),
        "p_workshop_type": step.workshop_type,
        "p_step_id": step.step_id,
    }
    found = await _first_row(conn, patch_read_statement(session is not None), values)
    if session is None:
        assert user_id is not None
        return user_id, None if found is None else record_of(found)
    if found is None:
        return await auth_service.signed_in_user_id(conn, session), None
    return found["session_user_id"], None if found["id"] is None else record_of(found)


async def patch_step(
    conn: AsyncConnection,
    *,
    user_id: int | None = None,
    session: SessionCredential | None = None,
    step: StepInfo,
    patch: dict[str, Any],
    base_version: int | None,
    request_id: str | None,
    limits: JsonLimits,
    history: HistoryPolicy | None = None,
    schema_version: int | None = None,
    device_id: str | None = None,
) -> Saved:
    """Apply a merge patch to the user's step document and store the result.

    The stored row is read, the patch applied here, and the result written by the same
    compare-and-swap statements a save uses (on the version read, with the lock check in the
    statement). base_version as for `save_step`; without one, a lost race is retried. Who
    patches: `user_id` or `session`, as for `save_step`. `schema_version` None keeps the
    stored one."""
    _check_writer(user_id, session)
    check_document(patch, ("data",), limits)
    for _ in range(PATCH_ATTEMPTS):
        writer, row = await _read_for_patch(conn, user_id, session, step)
        read_version = 0 if row is None else row.version
        if base_version is not None and base_version != read_version:
            # Refused unless the workshop is locked or this is a retry of a committed patch.
            return Saved(await _refuse(conn, writer, step, base_version, request_id), ())
        merged = apply_merge_patch({} if row is None else row.data, patch)
        try:
            return await save_step(
                conn,
                user_id=user_id,
                session=session,
                step=step,
                data=merged,
                base_version=read_version,
                request_id=request_id,
                history=history,
                schema_version=schema_version
                if schema_version is not None or row is None
                else row.schema_version,
                limits=limits,
                device_id=device_id,
            )
        except Conflict:
            if base_version is not None:
                raise
    raise ServiceBusy("This step is being changed by many requests at once; try again.")


async def _refuse(
    conn: AsyncConnection,
    user_id: int,
    step: StepInfo,
    base_version: int,
    request_id: str | None,
) -> StepRecord:
    try:
        return await _outcome_of_an_unwritten_save(conn, user_id, step, base_version, request_id)
    finally:
        await conn.rollback()


async def _outcome_of_an_unwritten_save(
    conn: AsyncConnection,
    user_id: int,
    step: StepInfo,
    base_version: int | None,
    request_id: str | None,
) -> StepRecord:
    """Why a save wrote nothing: the workshop is locked (423), the version is not the stored
    one (409); or it was a retry of a save already committed, or the data was unchanged: the
    stored record, a success."""
    if step.locks_on_completion:
        completed_at = await locked_since(conn, user_id, step.workshop_type)
        if completed_at is not None:
            raise workshop_locked(
                step.workshop_type,
                completed_at,
                f"step '{step.step_id}' can no longer be changed",
                step_id=step.step_id,
            )
    row = (
        await conn.execute(
            select(*RECORD_COLUMNS, steps.c.last_request_id).where(
                steps.c.user_id == user_id,
                steps.c.workshop_type == step.workshop_type,
                steps.c.step_id == step.step_id,
            )
        )
    ).first()
    if row is not None:
        if request_id is not None and row.last_request_id == request_id:
            return record_of(row._mapping)
        if base_version is None or base_version == row.version:
            return record_of(row._mapping)
    raise Conflict(
        "This step was changed elsewhere since you loaded it."
        if row is not None
        else "This step no longer exists on the server.",
        code="version_conflict",
        current={
            "data": None if row is None else row.data,
            "version": None if row is None else row.version,
            "schemaVersion": None if row is None else row.schema_version,
            "updatedAt": None if row is None else iso(row.updated_at),
        },
    )


async def get_step(
    conn: AsyncConnection, user_id: int, workshop_type: str, step_id: str
) -> StepRecord | None:
    row = (
        await conn.execute(
            select(*RECORD_COLUMNS).where(
                steps.c.user_id == user_id,
                steps.c.workshop_type == workshop_type,
                steps.c.step_id == step_id,
            )
        )
    ).first()
    return None if row is None else record_of(row._mapping)


async def list_steps(conn: AsyncConnection, user_id: int, workshop_type: str) -> list[StepRecord]:
    rows = await conn.execute(
        select(*RECORD_COLUMNS)
        .where(steps.c.user_id == user_id, steps.c.workshop_type == workshop_type)
        .order_by(steps.c.step_id)
    )
    return [record_of(row._mapping) for row in rows]
