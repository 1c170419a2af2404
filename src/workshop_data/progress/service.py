"""Workshop participation: completing a workshop, which locks it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.catalog.service import Catalog
from workshop_data.db.dialect import upsertable_insert
from workshop_data.db.tables import navigation_progress, workshop_participation
from workshop_data.errors import Conflict
from workshop_data.timeutil import utc_now

p = workshop_participation


@dataclass(frozen=True)
class WorkshopStatus:
    workshop_type: str
    completed_at: datetime | None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


async def workshop_status(
    conn: AsyncConnection, user_id: int, workshop_type: str
) -> WorkshopStatus:
    completed_at = (
        await conn.execute(
            select(p.c.completed_at).where(
                p.c.user_id == user_id, p.c.workshop_type == workshop_type
            )
        )
    ).scalar()
    return WorkshopStatus(workshop_type, completed_at)


async def complete_workshop(
    conn: AsyncConnection, catalog: Catalog, user_id: int, workshop_type: str
) -> WorkshopStatus:
    """Complete (and so lock) the workshop; completing it again changes nothing.

    Once the user has navigation progress, every step the catalogue requires must be in
    its completed steps."""
    completed_steps = (
        await conn.execute(
            select(navigation_progress.c.completed_steps).where(
                navigation_progress.c.user_id == user_id,
                navigation_progress.c.workshop_type == workshop_type,
            )
        )
    ).scalar()
    if completed_steps is not None:
        done = set(completed_steps)
        missing = [s for s in catalog.required_steps(workshop_type) if s not in done]
        if missing:
            await conn.rollback()
            raise Conflict(
                f"The workshop cannot be completed yet: {len(missing)} required steps "
                "are not completed.",
                code="steps_incomplete",
                missing_steps=missing,
            )
    now = utc_now()
    insert = upsertable_insert(conn.dialect.name, p).values(
        user_id=user_id, workshop_type=workshop_type, started_at=now, completed_at=now
    )
    statement = insert.on_conflict_do_update(
        index_elements=[p.c.user_id, p.c.workshop_type],
        set_={"completed_at": func.coalesce(p.c.completed_at, insert.excluded.completed_at)},
    ).returning(p.c.completed_at)
    completed_at = (await conn.execute(statement)).scalar_one()
    await conn.commit()
    return WorkshopStatus(workshop_type, completed_at)
