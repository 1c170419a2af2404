"""The save's statements, one definition for both dialects, built once per shape and reused
with new values (building them is most of the cost of a save on the Python side), and the
record they return. What the statements check: step_data/service.py."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    literal,
    or_,
    select,
    true,
    update,
)

from workshop_data.db.dialect import upsertable_insert
from workshop_data.db.tables import sessions, workshop_step_data
from workshop_data.participation.service import workshop_not_locked

steps = workshop_step_data
RECORD_COLUMNS = (
    steps.c.id,
    steps.c.user_id,
    steps.c.workshop_type,
    steps.c.step_id,
    steps.c.data,
    steps.c.version,
    steps.c.schema_version,
    steps.c.created_at,
    steps.c.updated_at,
)


@dataclass(frozen=True)
class StepRecord:
    id: int
    user_id: int
    workshop_type: str
    step_id: str
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    schema_version: int | None = None


_RECORD_NAMES = tuple(column.name for column in RECORD_COLUMNS)


def record_of(columns: Mapping[Any, Any]) -> StepRecord:
    """The record in a row of `RECORD_COLUMNS` (and maybe more), its columns by name: an
    asyncpg record, or a SQLAlchemy row's `_mapping`."""
    return StepRecord(**{name: columns[name] for name in _RECORD_NAMES})


def live_session() -> ColumnElement[bool]:
    # The rule of auth_service.user_for_session: the token's session exists (not signed out,
    # its user not deleted: deleting a user deletes their sessions), the device secret is the
    # session's, and it has not expired.
    return and_(
        sessions.c.token_hash == bindparam("p_token_hash", type_=String()),
        sessions.c.device_hash == bindparam("p_device_hash", type_=String()),
        sessions.c.expires_at > bindparam("p_now", type_=DateTime()),
    )


def _session_user_id() -> ColumnElement[Any]:
    return select(sessions.c.user_id).where(live_session()).scalar_subquery()


@lru_cache
def insert_statement(dialect: str, upsert: bool, guarded: bool, by_session: bool) -> Any:
    # INSERT ... SELECT ... WHERE <not locked>: a locked workshop makes the row set empty, so
    # neither the insert nor the update branch runs. SQLite needs some WHERE there anyway.
    # By session, the row comes from the live session's row: no session, no row to write.
    user_id: ColumnElement[Any] = (
        sessions.c.user_id if by_session else bindparam("p_user_id", type_=BigInteger())
    )
    conditions: list[ColumnElement[bool]] = [live_session()] if by_session else []
    if guarded:
        conditions.append(workshop_not_locked(user_id, bindparam("p_workshop_type")))
    source = select(
        user_id,
        bindparam("p_workshop_type", type_=String()),
        bindparam("p_step_id", type_=String()),
        bindparam("p_data", type_=steps.c.data.type),
        literal(1, Integer()),
        bindparam("p_now", type_=DateTime()),
        bindparam("p_now", type_=DateTime()),
        bindparam("p_request_id", type_=String()),
        bindparam("p_schema_version", type_=Integer()),
    ).where(and_(*conditions) if conditions else true())
    if by_session:
        source = source.select_from(sessions)
    statement = upsertable_insert(dialect, steps).from_select(
        [
            steps.c.user_id,
            steps.c.workshop_type,
            steps.c.step_id,
            steps.c.data,
            steps.c.version,
            steps.c.created_at,
            steps.c.updated_at,
            steps.c.last_request_id,
            steps.c.schema_version,
        ],
        source,
    )
    keys = [steps.c.user_id, steps.c.workshop_type, steps.c.step_id]
    if upsert:
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={
                "data": statement.excluded.data,
                "version": steps.c.version + 1,
                "updated_at": statement.excluded.updated_at,
                "last_request_id": statement.excluded.last_request_id,
                "schema_version": statement.excluded.schema_version,
            },
            where=or_(
                steps.c.data.is_distinct_from(statement.excluded.data),
                steps.c.schema_version.is_distinct_from(statement.excluded.schema_version),
            ),
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    return statement.returning(*RECORD_COLUMNS)


@lru_cache
def update_statement(guarded: bool, by_session: bool) -> Any:
    user_id = _session_user_id() if by_session else bindparam("p_user_id")
    conditions = [
        steps.c.user_id == user_id,
        steps.c.workshop_type == bindparam("p_workshop_type"),
        steps.c.step_id == bindparam("p_step_id"),
        steps.c.version == bindparam("p_base_version"),
        or_(
            steps.c.data.is_distinct_from(bindparam("p_data", type_=steps.c.data.type)),
            steps.c.schema_version.is_distinct_from(bindparam("p_schema_version", type_=Integer())),
        ),
    ]
    if guarded:
        conditions.append(workshop_not_locked(steps.c.user_id, bindparam("p_workshop_type")))
    return (
        update(steps)
        .where(and_(*conditions))
        .values(
            data=bindparam("p_data", type_=steps.c.data.type),
            version=steps.c.version + 1,
            updated_at=bindparam("p_now", type_=DateTime()),
            last_request_id=bindparam("p_request_id", type_=String()),
            schema_version=bindparam("p_schema_version", type_=Integer()),
        )
        .returning(*RECORD_COLUMNS)
    )


@lru_cache
def patch_read_statement(by_session: bool) -> Any:
    """The stored step a patch applies to. By session, the live session's row outer-joined to
    its user's step: one row with `session_user_id` (and null step columns if the step was
    never saved) for a live session, none otherwise."""
    where_step = and_(
        steps.c.workshop_type == bindparam("p_workshop_type", type_=String()),
        steps.c.step_id == bindparam("p_step_id", type_=String()),
    )
    if not by_session:
        return select(*RECORD_COLUMNS).where(
            steps.c.user_id == bindparam("p_user_id", type_=BigInteger()), where_step
        )
    return (
        select(sessions.c.user_id.label("session_user_id"), *RECORD_COLUMNS)
        .select_from(
            sessions.outerjoin(steps, and_(steps.c.user_id == sessions.c.user_id, where_step))
        )
        .where(live_session())
    )
