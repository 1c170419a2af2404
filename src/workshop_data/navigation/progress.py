"""The navigation progress row's own writes that another package's rule needs: completing a
workshop (participation/service.py) claims the progress it checked, so that a reset racing it
fails. Here, in navigation/ (which owns the table), with no import of participation/ (whose
lock navigation/service.py reads)."""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.db.tables import navigation_progress


@dataclass(frozen=True, slots=True)
class CheckedProgress:
    id: int
    completed_steps: list[str]
    version: int


async def progress_to_check(
    conn: AsyncConnection, user_id: int, workshop_type: str
) -> CheckedProgress | None:
    """The user's progress row in the workshop, to check and then `claim`; None if none."""
    row = (
        await conn.execute(
            select(
                navigation_progress.c.id,
                navigation_progress.c.completed_steps,
                navigation_progress.c.version,
            ).where(
                navigation_progress.c.user_id == user_id,
                navigation_progress.c.workshop_type == workshop_type,
            )
        )
    ).first()
    return None if row is None else CheckedProgress(row.id, list(row.completed_steps), row.version)


async def claim(conn: AsyncConnection, progress: CheckedProgress) -> bool:
    """Bump the row's version if it is still the one checked (in the caller's transaction):
    whether it was."""
    claimed = (
        await conn.execute(
            update(navigation_progress)
            .where(
                navigation_progress.c.id == progress.id,
                navigation_progress.c.version == progress.version,
            )
            .values(version=navigation_progress.c.version + 1)
            .returning(navigation_progress.c.id)
        )
    ).first()
    return claimed is not None
