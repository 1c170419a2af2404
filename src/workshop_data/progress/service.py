"""Workshop participation: completing a workshop, which locks it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.catalog.service import Catalog
from workshop_data.db.dialect import upsertable_insert
from workshop_data.db.tables import navigation_progress, workshop_participation
from workshop_data.errors import Conflict, ServiceBusy
from workshop_data.timeutil import utc_now

p = workshop_participation
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


async def workshop_status(
    conn: AsyncConnection, user_id: int, workshop_type: str
) -> WorkshopStatus:
    row = (
        await conn.execute(
            select(p.c.completed_at, p.c.reopened_at, p.c.reopened_by).where(
                p.c.user_id == user_id, p.c.workshop_type == workshop_type
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
    which compares the version too, fails and then finds the workshop completed). That needs
    a transaction: call it with a `DbDep` connection, not an autocommit one."""
    np = navigation_progress
    for _attempt in range(MAX_COMPLETE_ATTEMPTS):
        progress = (
            await conn.execute(
                select(np.c.id, np.c.completed_steps, np.c.version).where(
                    np.c.user_id == user_id, np.c.workshop_type == workshop_type
                )
            )
        ).first()
        if progress is not None:
            done = set(progress.completed_steps)
            missing = [s for s in catalog.required_steps(workshop_type) if s not in done]
            if missing:
                await conn.rollback()
                raise Conflict(
                    f"The workshop cannot be completed yet: {len(missing)} required steps "
                    "are not completed.",
                    code="steps_incomplete",
                    missing_steps=missing,
                )
            claimed = (
                await conn.execute(
                    update(np)
                    .where(np.c.id == progress.id, np.c.version == progress.version)
                    .values(version=np.c.version + 1)
                    .returning(np.c.id)
                )
            ).first()
            if claimed is None:
                await conn.rollback()
                continue
        now = utc_now()
        insert = upsertable_insert(conn.dialect.name, p).values(
            user_id=user_id, workshop_type=workshop_type, started_at=now, completed_at=now
        )
        statement = insert.on_conflict_do_update(
            index_elements=[p.c.user_id, p.c.workshop_type],
            set_={"completed_at": func.coalesce(p.c.completed_at, insert.excluded.completed_at)},
        ).returning(p.c.completed_at, p.c.reopened_at, p.c.reopened_by)
        row = (await conn.execute(statement)).one()
        await conn.commit()
        return WorkshopStatus(workshop_type, row.completed_at, row.reopened_at, row.reopened_by)
    raise ServiceBusy("The progress was changed too often at once; try again.")


async def reopen_workshop(
    conn: AsyncConnection, user_id: int, workshop_type: str, reopened_by: int | None
) -> WorkshopStatus | None:
    """Unlock a completed workshop (an admin's decision, recorded; `reopened_by` None: from
    the command line); None if never started.
    Reopening a workshop that is not completed changes nothing."""
    row = (
        await conn.execute(
            update(p)
            .where(
                p.c.user_id == user_id,
                p.c.workshop_type == workshop_type,
                p.c.completed_at.is_not(None),
            )
            .values(completed_at=None, reopened_at=utc_now(), reopened_by=reopened_by)
            .returning(p.c.id)
        )
    ).first()
    if row is not None:
        await conn.commit()
    else:
        await conn.rollback()
        exists = (
            await conn.execute(
                select(p.c.id).where(p.c.user_id == user_id, p.c.workshop_type == workshop_type)
            )
        ).first()
        if exists is None:
            return None
    return await workshop_status(conn, user_id, workshop_type)
