"""What facilitators read: the participants assigned to them."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.db.tables import (
    navigation_progress,
    users,
    workshop_participation,
    workshop_step_data,
)
from workshop_data.users import service as users_service
from workshop_data.users.service import Account


async def list_participants(
    conn: AsyncConnection, *, facilitator_id: int | None, q: str | None, page: int, page_size: int
) -> tuple[list[Account], int]:
    """The users assigned to a facilitator; with `facilitator_id` None, every participant."""
    assigned = (
        users.c.role == "participant"
        if facilitator_id is None
        else users.c.facilitator_id == facilitator_id
    )
    where = assigned & users_service.account_search(q)
    return await users_service.account_page(conn, where, page, page_size)


@dataclass(frozen=True)
class StepMark:
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class GridRow:
    """What a facilitator's grid shows of one participant in one workshop: facts, not verdicts
    (the page decides "in progress" or "done" from them and the catalogue)."""

    account: Account
    current_step_id: str | None
    completed_steps: list[str]
    last_visited_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    steps: dict[str, StepMark]

    @property
    def last_activity_at(self) -> datetime | None:
        moments = [m.updated_at for m in self.steps.values()]
        moments += [m for m in (self.last_visited_at, self.started_at, self.completed_at) if m]
        return max(moments, default=None)


async def workshop_grid(
    conn: AsyncConnection,
    workshop_type: str,
    *,
    facilitator_id: int | None,
    user_id: int | None,
    page: int,
    page_size: int,
) -> tuple[list[GridRow], int]:
    """One page of a facilitator's participants (every participant with `facilitator_id` None)
    with their progress in one workshop, in four queries whatever the page's size; `user_id`
    narrows it to that one participant (still within the facilitator's)."""
    assigned = (
        users.c.role == "participant"
        if facilitator_id is None
        else users.c.facilitator_id == facilitator_id
    )
    if user_id is not None:
        assigned = assigned & (users.c.id == user_id)
    accounts, total = await users_service.account_page(conn, assigned, page, page_size)
    ids = [account.id for account in accounts]
    if not ids:
        return [], total
    progress = {
        row.user_id: row
        for row in await conn.execute(
            select(
                navigation_progress.c.user_id,
                navigation_progress.c.current_step_id,
                navigation_progress.c.completed_steps,
                navigation_progress.c.last_visited_at,
            ).where(
                navigation_progress.c.user_id.in_(ids),
                navigation_progress.c.workshop_type == workshop_type,
            )
        )
    }
    participation = {
        row.user_id: row
        for row in await conn.execute(
            select(
                workshop_participation.c.user_id,
                workshop_participation.c.started_at,
                workshop_participation.c.completed_at,
            ).where(
                workshop_participation.c.user_id.in_(ids),
                workshop_participation.c.workshop_type == workshop_type,
            )
        )
    }
    steps: dict[int, dict[str, StepMark]] = {user: {} for user in ids}
    for row in await conn.execute(
        select(
            workshop_step_data.c.user_id,
            workshop_step_data.c.step_id,
            workshop_step_data.c.version,
            workshop_step_data.c.updated_at,
        ).where(
            workshop_step_data.c.user_id.in_(ids),
            workshop_step_data.c.workshop_type == workshop_type,
        )
    ):
        steps[row.user_id][row.step_id] = StepMark(row.version, row.updated_at)
    rows = []
    for account in accounts:
        moved = progress.get(account.id)
        took_part = participation.get(account.id)
        completed = moved.completed_steps if moved is not None else []
        rows.append(
            GridRow(
                account=account,
                current_step_id=moved.current_step_id if moved is not None else None,
                completed_steps=[s for s in completed if isinstance(s, str)]
                if isinstance(completed, list)
                else [],
                last_visited_at=moved.last_visited_at if moved is not None else None,
                started_at=took_part.started_at if took_part is not None else None,
                completed_at=took_part.completed_at if took_part is not None else None,
                steps=steps[account.id],
            )
        )
    return rows, total
