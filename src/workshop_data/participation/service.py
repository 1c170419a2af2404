"""Workshop participation (the workshop_participation table): when a user started a workshop,
completing it, which locks it, and an administrator reopening it.

This package owns the lock: the condition a write of a locking step must meet
(`workshop_not_locked`), when a workshop was locked (`locked_since`) and the refusal
(`workshop_locked`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.catalog.service import Catalog
from workshop_data.db.dialect import upsertable_insert
from workshop_data.db.tables import workshop_participation
from workshop_data.db.transaction import transaction
from workshop_data.errors import Conflict, ServiceBusy, WorkshopLocked, WorkshopNotStarted
from workshop_data.navigation import progress as navigation_progress
from workshop_data.timeutil import iso, utc_now

_ONE_ROW_PER_USER_AND_WORKSHOP = [
    workshop_participation.c.user_id,
    workshop_participation.c.workshop_type,
]
# Attempts at completing while the navigation progress keeps changing underneath.
MAX_COMPLETE_ATTEMPTS = 64


@dataclass(frozen=True)
class WorkshopStatus:
    workshop_type: str
    completed_at: datetime | None
    reopened_at: datetime | None = None
    reopened_by: int | None = None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


def workshop_not_locked(
    user_id: ColumnElement[Any], workshop_type: ColumnElement[Any]
) -> ColumnElement[bool]:
    """True while the user has not completed the workshop: the guard of every write to a step
    of a locking section, in the write statement itself."""
    return ~exists().where(
        workshop_participation.c.user_id == user_id,
        workshop_participation.c.workshop_type == workshop_type,
        workshop_participation.c.completed_at.is_not(None),
    )


def completed_at(user_id: int, workshop_type: str) -> Select[Any]:
    """When the user completed the workshop, as a query to embed in a statement."""
    return select(workshop_participation.c.completed_at).where(
        workshop_participation.c.user_id == user_id,
        workshop_participation.c.workshop_type == workshop_type,
    )


async def locked_since(conn: AsyncConnection, user_id: int, workshop_type: str) -> datetime | None:
    """When the user completed (and so locked) the workshop; None while it is open."""
    since: datetime | None = (await conn.execute(completed_at(user_id, workshop_type))).scalar()
    return since


def workshop_locked(
    workshop_type: str, locked_since: datetime, consequence: str, **details: Any
) -> WorkshopLocked:
    """The refusal of a change to a locked workshop; `consequence` says what cannot happen."""
    return WorkshopLocked(
        f"The {workshop_type.upper()} workshop was completed, so {consequence}.",
        workshop_type=workshop_type,
        **details,
        locked_since=iso(locked_since),
    )


async def record_start(
    conn: AsyncConnection, user_id: int, workshop_type: str, now: datetime
) -> None:
    """Record that the user started the workshop (their first report of navigation progress);
    a start already recorded is kept."""
    await conn.execute(
        upsertable_insert(conn.dialect.name, workshop_participation)
        .values(user_id=user_id, workshop_type=workshop_type, started_at=now)
        .on_conflict_do_nothing(
            index_elements=[
                workshop_participation.c.user_id,
                workshop_participation.c.workshop_type,
            ]
        )
    )


async def workshop_status(
    conn: AsyncConnection, user_id: int, workshop_type: str
) -> WorkshopStatus:
    row = (
        await conn.execute(
            select(
                workshop_participation.c.completed_at,
                workshop_participation.c.reopened_at,
                workshop_participation.c.reopened_by,
            ).where(
                workshop_participation.c.user_id == user_id,
                workshop_participation.c.workshop_type == workshop_type,
            )
        )
    ).first()
    if row is None:
        return WorkshopStatus(workshop_type, None)
    return WorkshopStatus(workshop_type, row.completed_at, row.reopened_at, row.reopened_by)


async def complete_workshop(
    conn: AsyncConnection, catalog: Catalog, user_id: int, workshop_type: str
) -> WorkshopStatus:
    """Complete (and so lock) the workshop; completing it again changes nothing.

    Once the user has navigation progress, every step the catalogue requires must be in
    its completed steps. The check and the completion commit together only if the progress
    row is still at the version that was checked (and bump it, so that a concurrent reset,
    which compares the version too, fails and then finds the workshop completed). Each attempt
    is one transaction."""
    for _attempt in range(MAX_COMPLETE_ATTEMPTS):
        async with transaction(conn):
            status = await _complete_unless_progress_moved(conn, catalog, user_id, workshop_type)
        if status is not None:
            return status
    raise ServiceBusy("The progress was changed too often at once; try again.")


async def _complete_unless_progress_moved(
    conn: AsyncConnection, catalog: Catalog, user_id: int, workshop_type: str
) -> WorkshopStatus | None:
    progress = await navigation_progress.progress_to_check(conn, user_id, workshop_type)
    if progress is not None:
        done = set(progress.completed_steps)
        missing = [s for s in catalog.required_steps(workshop_type) if s not in done]
        if missing:
            raise Conflict(
                f"The workshop cannot be completed yet: {len(missing)} required steps "
                "are not completed.",
                code="steps_incomplete",
                missing_steps=missing,
            )
        if not await navigation_progress.claim(conn, progress):
            return None
    now = utc_now()
    insert = upsertable_insert(conn.dialect.name, workshop_participation).values(
        user_id=user_id, workshop_type=workshop_type, started_at=now, completed_at=now
    )
    statement = insert.on_conflict_do_update(
        index_elements=_ONE_ROW_PER_USER_AND_WORKSHOP,
        set_={
            "completed_at": func.coalesce(
                workshop_participation.c.completed_at, insert.excluded.completed_at
            )
        },
    ).returning(
        workshop_participation.c.completed_at,
        workshop_participation.c.reopened_at,
        workshop_participation.c.reopened_by,
    )
    row = (await conn.execute(statement)).one()
    return WorkshopStatus(workshop_type, row.completed_at, row.reopened_at, row.reopened_by)


async def reopen_workshop(
    conn: AsyncConnection, user_id: int, workshop_type: str, reopened_by: int | None
) -> WorkshopStatus:
    """Unlock a completed workshop (an admin's decision, recorded; `reopened_by` None: from
    the command line). Reopening a workshop that is not completed changes nothing; one never
    started is refused (404)."""
    row = (
        await conn.execute(
            update(workshop_participation)
            .where(
                workshop_participation.c.user_id == user_id,
                workshop_participation.c.workshop_type == workshop_type,
                workshop_participation.c.completed_at.is_not(None),
            )
            .values(completed_at=None, reopened_at=utc_now(), reopened_by=reopened_by)
            .returning(workshop_participation.c.id)
        )
    ).first()
    if row is not None:
        await conn.commit()
    else:
        await conn.rollback()
        started = (
            await conn.execute(
                select(workshop_participation.c.id).where(
                    workshop_participation.c.user_id == user_id,
                    workshop_participation.c.workshop_type == workshop_type,
                )
            )
        ).first()
        if started is None:
            raise WorkshopNotStarted(
                f"User {user_id} has not started the {workshop_type.upper()} workshop."
            )
    return await workshop_status(conn, user_id, workshop_type)
