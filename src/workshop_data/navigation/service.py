"""Navigation progress: where a participant is in a workshop, what they completed and unlocked,
how much of each video they watched.

A client's report is merged into the stored row, never written over it: completed and unlocked
steps only grow (set union, in catalogue order) and each video keeps its highest percentage, so a
stale tab cannot erase anything. Every write is a compare-and-swap on the row's `version`; a
writer that loses the race re-reads and merges again. Only `reset_progress` removes steps."""

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.catalog.service import Catalog
from workshop_data.db.dialect import upsertable_insert
from workshop_data.db.tables import navigation_progress
from workshop_data.errors import InvalidInput, ServiceBusy
from workshop_data.json_input import DEFAULT_LIMITS, JsonLimits, check_document
from workshop_data.navigation.schemas import MAX_VIDEOS, ProgressUpdate
from workshop_data.participation import service as participation_service
from workshop_data.timeutil import utc_now

# Each failed attempt means another writer of the same row committed, so this many concurrent
# writers of one user's progress in one workshop can all get through.
MAX_ATTEMPTS = 64
_COLUMNS = (
    navigation_progress.c.id,
    navigation_progress.c.workshop_type,
    navigation_progress.c.current_step_id,
    navigation_progress.c.completed_steps,
    navigation_progress.c.unlocked_steps,
    navigation_progress.c.video_progress,
    navigation_progress.c.last_visited_at,
    navigation_progress.c.version,
    navigation_progress.c.created_at,
    navigation_progress.c.updated_at,
)


@dataclass(frozen=True)
class Progress:
    id: int
    workshop_type: str
    current_step_id: str | None
    completed_steps: list[str]
    unlocked_steps: list[str]
    video_progress: dict[str, int | float]
    last_visited_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ProgressChange:
    """A checked client report: every step id is in the catalogue of its workshop."""

    workshop_type: str
    sets_current_step: bool
    current_step_id: str | None
    completed_steps: list[str]
    unlocked_steps: list[str]
    video_progress: dict[str, int | float]
    last_visited_at: datetime | None


def _progress(row: Any) -> Progress:
    return Progress(
        id=row.id,
        workshop_type=row.workshop_type,
        current_step_id=row.current_step_id,
        completed_steps=list(row.completed_steps),
        unlocked_steps=list(row.unlocked_steps),
        video_progress=dict(row.video_progress),
        last_visited_at=row.last_visited_at,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_steps(catalog: Catalog, workshop_type: str, field: str, ids: list[str]) -> list[str]:
    for index, step_id in enumerate(ids):
        try:
            catalog.step(workshop_type, step_id)
        except InvalidInput as error:
            raise InvalidInput(f"{field}[{index}]: {error.message}", code=error.code) from None
    return list(dict.fromkeys(ids))


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def check_change(
    catalog: Catalog,
    workshop_type: str,
    body: ProgressUpdate,
    limits: JsonLimits = DEFAULT_LIMITS,
) -> ProgressChange:
    """The report checked against the catalogue and the document limits: what
    `update_progress` takes."""
    check_document(body.video_progress, ("videoProgress",), limits)
    workshop = catalog.check_workshop_type(workshop_type)
    sets_current = "current_step_id" in body.model_fields_set
    if sets_current and body.current_step_id is not None:
        try:
            catalog.step(workshop, body.current_step_id)
        except InvalidInput as error:
            raise InvalidInput(f"currentStepId: {error.message}", code=error.code) from None
    return ProgressChange(
        workshop_type=workshop,
        sets_current_step=sets_current,
        current_step_id=body.current_step_id,
        completed_steps=_check_steps(catalog, workshop, "completedSteps", body.completed_steps),
        unlocked_steps=_check_steps(catalog, workshop, "unlockedSteps", body.unlocked_steps),
        video_progress=dict(body.video_progress),
        last_visited_at=None if body.last_visited_at is None else _naive_utc(body.last_visited_at),
    )


def union_in_catalog_order(
    catalog: Catalog, workshop_type: str, stored: Iterable[str], reported: Iterable[str]
) -> list[str]:
    everything = list(dict.fromkeys([*stored, *reported]))
    present = set(everything)
    ordered = [s.step_id for s in catalog.steps_of(workshop_type) if s.step_id in present]
    # A step the catalogue no longer lists stays: nothing a participant completed is dropped.
    listed = set(ordered)
    return ordered + [step_id for step_id in everything if step_id not in listed]


def merge_videos(
    stored: dict[str, int | float], reported: dict[str, int | float]
) -> dict[str, int | float]:
    merged = dict(stored)
    for video, percentage in reported.items():
        if video not in merged or percentage > merged[video]:
            merged[video] = percentage
    if len(merged) > MAX_VIDEOS:
        raise InvalidInput(
            f"videoProgress: at most {MAX_VIDEOS} videos are tracked per workshop.",
            code="invalid_body",
        )
    return merged


def _merged_values(
    catalog: Catalog, stored: Progress | None, change: ProgressChange, now: datetime
) -> dict[str, Any]:
    visited = min(change.last_visited_at or now, now)
    if stored is not None and stored.last_visited_at is not None:
        visited = max(visited, stored.last_visited_at)
    if change.sets_current_step or stored is None:
        current = change.current_step_id
    else:
        current = stored.current_step_id
    workshop = change.workshop_type
    return {
        "current_step_id": current,
        "completed_steps": union_in_catalog_order(
            catalog, workshop, stored.completed_steps if stored else [], change.completed_steps
        ),
        "unlocked_steps": union_in_catalog_order(
            catalog, workshop, stored.unlocked_steps if stored else [], change.unlocked_steps
        ),
        "video_progress": merge_videos(
            stored.video_progress if stored else {}, change.video_progress
        ),
        "last_visited_at": visited,
        "updated_at": now,
    }


async def get_progress(conn: AsyncConnection, user_id: int, workshop_type: str) -> Progress | None:
    row = (
        await conn.execute(
            select(*_COLUMNS).where(
                navigation_progress.c.user_id == user_id,
                navigation_progress.c.workshop_type == workshop_type,
            )
        )
    ).first()
    return None if row is None else _progress(row)


async def list_progress(conn: AsyncConnection, user_id: int) -> list[Progress]:
    rows = await conn.execute(
        select(*_COLUMNS)
        .where(navigation_progress.c.user_id == user_id)
        .order_by(navigation_progress.c.workshop_type)
    )
    return [_progress(row) for row in rows]


async def _back_off(attempt: int) -> None:
    await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))  # noqa: S311


async def update_progress(
    conn: AsyncConnection, catalog: Catalog, user_id: int, change: ProgressChange
) -> Progress:
    """Merge `change` into the user's progress and return the stored result. The first report
    also records that the user started the workshop (workshop_participation.started_at)."""
    workshop = change.workshop_type
    for attempt in range(MAX_ATTEMPTS):
        stored = await get_progress(conn, user_id, workshop)
        now = utc_now()
        values = _merged_values(catalog, stored, change, now)
        statement: Any
        if stored is None:
            # Recorded first so that each statement stands alone on an autocommit connection;
            # it is true (the user started) even if another request creates the row first.
            await participation_service.record_start(conn, user_id, workshop, now)
            statement = (
                upsertable_insert(conn.dialect.name, navigation_progress)
                .values(user_id=user_id, workshop_type=workshop, created_at=now, **values)
                .on_conflict_do_nothing(
                    index_elements=[
                        navigation_progress.c.user_id,
                        navigation_progress.c.workshop_type,
                    ]
                )
                .returning(*_COLUMNS)
            )
        else:
            statement = (
                update(navigation_progress)
                .where(
                    navigation_progress.c.id == stored.id,
                    navigation_progress.c.version == stored.version,
                )
                .values(version=navigation_progress.c.version + 1, **values)
                .returning(*_COLUMNS)
            )
        row = (await conn.execute(statement)).first()
        if row is not None:
            await conn.commit()
            return _progress(row)
        await conn.rollback()
        await _back_off(attempt)
    raise ServiceBusy("The progress was changed too often at once; try again.")


async def reset_progress(
    conn: AsyncConnection, user_id: int, workshop_type: str
) -> Progress | None:
    """Clear the user's progress in a workshop that is not completed; None if there was none.

    The completion check and the reset are one compare-and-swap on `version`, which completing
    a workshop also bumps: a reset and a completion racing each other never both succeed."""
    completed_at = participation_service.completed_at(user_id, workshop_type).scalar_subquery()
    for attempt in range(MAX_ATTEMPTS):
        # One statement, so the version and the completion are read from the same snapshot.
        found = (
            await conn.execute(
                select(
                    navigation_progress.c.id,
                    navigation_progress.c.version,
                    completed_at.label("completed_at"),
                ).where(
                    navigation_progress.c.user_id == user_id,
                    navigation_progress.c.workshop_type == workshop_type,
                )
            )
        ).first()
        if found is None:
            since = await participation_service.locked_since(conn, user_id, workshop_type)
            await conn.rollback()
            _refuse_if_locked(workshop_type, since)
            return None
        if found.completed_at is not None:
            await conn.rollback()
            _refuse_if_locked(workshop_type, found.completed_at)
        row = (
            await conn.execute(
                update(navigation_progress)
                .where(
                    navigation_progress.c.id == found.id,
                    navigation_progress.c.version == found.version,
                )
                .values(
                    current_step_id=None,
                    completed_steps=[],
                    unlocked_steps=[],
                    video_progress={},
                    version=navigation_progress.c.version + 1,
                    updated_at=utc_now(),
                )
                .returning(*_COLUMNS)
            )
        ).first()
        if row is not None:
            await conn.commit()
            return _progress(row)
        await conn.rollback()
        await _back_off(attempt)
    raise ServiceBusy("The progress was changed too often at once; try again.")


def _refuse_if_locked(workshop_type: str, locked_since: datetime | None) -> None:
    if locked_since is not None:
        raise participation_service.workshop_locked(
            workshop_type,
            locked_since,
            "its progress cannot be reset; an administrator can reopen it",
        )
