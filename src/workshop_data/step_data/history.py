"""Step history: every version of a step that a save wrote, so a participant can see and
restore what they had.

Each save that changes a step writes the new version here too, in the same transaction as the
save, and prunes the step's history in that transaction: what stays is the last
`keep_versions` versions plus, for `hourly_days` days, the newest version of each hour. So a
step holds at most `keep_versions + 24 * hourly_days + 1` history rows, however often it is
saved. The current version is in the history as well: restoring any listed version needs
nothing but this table.

A device that is about to replace its own unsaved text with a merge (another device changed
the same words) first sends that text here (`keep_device_copy`): a row with `source` "device"
and a version below 1 (-1, -2, … in the order they were kept), restorable like any other.
Those rows are pruned among themselves by the same rule, when one is kept, so a step holds at
most twice the rows above."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.db.dialect import upsertable_insert
from workshop_data.db.sqlite_writer import WriterConnection
from workshop_data.db.tables import workshop_step_history
from workshop_data.db.transaction import transaction
from workshop_data.errors import ServiceBusy
from workshop_data.json_input import encoded_size
from workshop_data.timeutil import iso

h = workshop_step_history
PREVIEW_LENGTH = 120
SAVE = "save"
DEVICE = "device"


@dataclass(frozen=True)
class HistoryPolicy:
    keep_versions: int
    hourly_days: int

    @property
    def enabled(self) -> bool:
        return self.keep_versions > 0 or self.hourly_days > 0

    @property
    def max_rows(self) -> int:
        """The most history rows one step can have."""
        return self.keep_versions + (24 * self.hourly_days + 1 if self.hourly_days else 0)


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    saved_at: datetime
    size: int
    preview: str
    source: str = SAVE


@dataclass(frozen=True)
class StoredVersion:
    version: int
    saved_at: datetime
    data: dict[str, Any]
    schema_version: int | None


def preview(data: Any, limit: int = PREVIEW_LENGTH) -> str:
    """The document's text, in order, on one line: what a participant recognises a version by.
    Images (data URLs, upload URLs) are named, not shown."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if sum(len(p) + 1 for p in parts) > limit:
            return
        if isinstance(value, str):
            if value.startswith("data:image/") or value.startswith("/api/uploads/"):
                parts.append("[image]")
            elif value.strip():
                parts.append(" ".join(value.split()))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, bool | int | float):
            parts.append(str(value).lower() if isinstance(value, bool) else str(value))

    walk(data)
    text = " · ".join(parts)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def versions_to_prune(
    rows: Sequence[tuple[int, int, datetime]], policy: HistoryPolicy, now: datetime
) -> list[int]:
    """Ids of the history rows `policy` does not keep. `rows` are (id, version, saved_at)."""
    by_version = sorted(rows, key=lambda row: row[1], reverse=True)
    keep = {row_id for row_id, _, _ in by_version[: policy.keep_versions]}
    if policy.hourly_days:
        since = now - timedelta(days=policy.hourly_days)
        hours_seen: set[datetime] = set()
        for row_id, _, saved_at in by_version:  # newest first: the first of each hour stays
            if saved_at < since:
                continue
            hour = saved_at.replace(minute=0, second=0, microsecond=0)
            if hour not in hours_seen:
                hours_seen.add(hour)
                keep.add(row_id)
    return [row_id for row_id, _, _ in rows if row_id not in keep]


@lru_cache
def recorded_save_statement(save: Any) -> Any:
    """PostgreSQL: `save` (an INSERT or UPDATE of the step returning its record) with the
    history row of the version it wrote and the pruning of the step's history, in one
    statement returning what `save` returns. Writes nothing more when `save` writes nothing.
    Its values besides the save's: `recorded_values`.

    Every part of the statement sees the table as it was before the statement, so the new
    version is not in `h` yet: it takes part in the ranking as a row of its own, and a row
    left with the same version (which the history insert replaces) takes no part. Of two
    saves of one step at the same moment, the later (it waits for the earlier's row lock)
    does not see the earlier's history row: the step may then hold one row more than the
    policy keeps until its next save prunes it."""
    saved = save.cte("saved")
    same_step = and_(
        h.c.user_id == saved.c.user_id,
        h.c.workshop_type == saved.c.workshop_type,
        h.c.step_id == saved.c.step_id,
    )
    inserted = postgresql.insert(h).from_select(
        [
            h.c.user_id,
            h.c.workshop_type,
            h.c.step_id,
            h.c.version,
            h.c.data,
            h.c.size,
            h.c.preview,
            h.c.saved_at,
            h.c.schema_version,
        ],
        select(
            saved.c.user_id,
            saved.c.workshop_type,
            saved.c.step_id,
            saved.c.version,
            # The stored document: the same JSONB the step now holds, not sent a second time.
            saved.c.data,
            bindparam("p_history_size", type_=Integer()),
            bindparam("p_history_preview", type_=String()),
            saved.c.updated_at,
            saved.c.schema_version,
        ),
    )
    recorded = inserted.on_conflict_do_update(
        index_elements=[h.c.user_id, h.c.workshop_type, h.c.step_id, h.c.version],
        set_={
            "data": inserted.excluded.data,
            "size": inserted.excluded.size,
            "preview": inserted.excluded.preview,
            "saved_at": inserted.excluded.saved_at,
            "schema_version": inserted.excluded.schema_version,
        },
    ).cte("recorded")
    candidates = union_all(
        select(
            cast(null(), BigInteger()).label("id"),
            saved.c.version,
            saved.c.updated_at.label("saved_at"),
        ),
        select(h.c.id, h.c.version, h.c.saved_at)
        .select_from(h.join(saved, same_step))
        .where(h.c.version != saved.c.version, h.c.source == SAVE),
    ).subquery("candidates")
    recent = candidates.c.saved_at >= bindparam("p_hourly_since", type_=DateTime())
    newest_first = candidates.c.version.desc()
    ranked = select(
        candidates.c.id,
        recent.label("recent"),
        func.row_number().over(order_by=newest_first).label("by_version"),
        func.row_number()
        .over(
            partition_by=[func.date_trunc("hour", candidates.c.saved_at), recent],
            order_by=newest_first,
        )
        .label("in_hour"),
    ).subquery("ranked")
    kept = or_(
        ranked.c.by_version <= bindparam("p_keep_versions", type_=Integer()),
        and_(bindparam("p_keep_hourly", type_=Boolean()), ranked.c.recent, ranked.c.in_hour == 1),
    )
    pruned = (
        delete(h)
        .where(h.c.id.in_(select(ranked.c.id).where(ranked.c.id.is_not(None), ~kept)))
        .returning(h.c.id)
        .cte("pruned")
    )
    return select(*saved.c).add_cte(recorded, pruned)


def recorded_values(policy: HistoryPolicy, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The values `recorded_save_statement` needs besides the save's own (`now` is the save's
    time, which the version will be saved at)."""
    return {
        "p_history_size": encoded_size(data),
        "p_history_preview": preview(data),
        "p_keep_versions": policy.keep_versions,
        "p_keep_hourly": policy.hourly_days > 0,
        "p_hourly_since": now - timedelta(days=policy.hourly_days),
    }


def record_version(
    conn: WriterConnection,
    policy: HistoryPolicy,
    *,
    user_id: int,
    workshop_type: str,
    step_id: str,
    version: int,
    data: dict[str, Any],
    saved_at: datetime,
    schema_version: int | None,
) -> None:
    """On SQLite (on PostgreSQL `recorded_save_statement` does it): keep this new version and
    prune the step's history, in the transaction of the save that wrote the version (a job of
    the SQLite writer, db/sqlite_writer.py)."""
    step = {"p_user_id": user_id, "p_workshop_type": workshop_type, "p_step_id": step_id}
    conn.rows(
        _record_statement(conn.dialect.name),
        {
            **step,
            "p_version": version,
            "p_data": data,
            "p_size": encoded_size(data),
            "p_preview": preview(data),
            "p_saved_at": saved_at,
            "p_schema_version": schema_version,
        },
    )
    kept = conn.rows(_kept_statement(), step)
    for row_id in versions_to_prune(
        [(row["id"], row["version"], row["saved_at"]) for row in kept], policy, saved_at
    ):
        conn.rows(_prune_statement(), {"p_id": row_id})


@lru_cache
def _record_statement(dialect: str) -> Any:
    statement = upsertable_insert(dialect, h).values(
        user_id=bindparam("p_user_id", type_=BigInteger()),
        workshop_type=bindparam("p_workshop_type", type_=String()),
        step_id=bindparam("p_step_id", type_=String()),
        version=bindparam("p_version", type_=Integer()),
        data=bindparam("p_data", type_=h.c.data.type),
        size=bindparam("p_size", type_=Integer()),
        preview=bindparam("p_preview", type_=String()),
        saved_at=bindparam("p_saved_at", type_=DateTime()),
        schema_version=bindparam("p_schema_version", type_=Integer()),
    )
    # A row left from a step that was deleted and started again is replaced, not a failure.
    return statement.on_conflict_do_update(
        index_elements=[h.c.user_id, h.c.workshop_type, h.c.step_id, h.c.version],
        set_={
            name: statement.excluded[name]
            for name in ("data", "size", "preview", "saved_at", "schema_version")
        },
    )


@lru_cache
def _kept_statement() -> Any:
    return select(h.c.id, h.c.version, h.c.saved_at).where(
        h.c.user_id == bindparam("p_user_id", type_=BigInteger()),
        h.c.workshop_type == bindparam("p_workshop_type", type_=String()),
        h.c.step_id == bindparam("p_step_id", type_=String()),
        h.c.source == SAVE,
    )


@lru_cache
def _prune_statement() -> Any:
    return delete(h).where(h.c.id == bindparam("p_id", type_=BigInteger()))


async def list_versions(
    conn: AsyncConnection, user_id: int, workshop_type: str, step_id: str
) -> list[HistoryEntry]:
    """The step's kept versions, newest first: the saves by version, each device copy before
    the first save that is not newer than it."""
    rows = await conn.execute(
        select(h.c.version, h.c.saved_at, h.c.size, h.c.preview, h.c.source)
        .where(h.c.user_id == user_id, h.c.workshop_type == workshop_type, h.c.step_id == step_id)
        .order_by(h.c.version.desc())
    )
    entries = [HistoryEntry(r.version, r.saved_at, r.size, r.preview, r.source) for r in rows]
    saves = [e for e in entries if e.source == SAVE]
    # Device copies' versions fall as they are kept (-1, -2, …): the lowest is the newest.
    copies = sorted((e for e in entries if e.source != SAVE), key=lambda e: e.version)
    ordered: list[HistoryEntry] = []
    for entry in saves:
        while copies and copies[0].saved_at >= entry.saved_at:
            ordered.append(copies.pop(0))
        ordered.append(entry)
    return ordered + copies


async def keep_device_copy(
    conn: AsyncConnection,
    policy: HistoryPolicy,
    *,
    user_id: int,
    workshop_type: str,
    step_id: str,
    data: dict[str, Any],
    schema_version: int | None,
    now: datetime,
) -> HistoryEntry | None:
    """Keep `data`, a device's own text before a merge replaced it, as a device copy of the
    step, and prune the step's device copies by `policy`, in one transaction. The same copy
    sent again (a retry) is the newest one already kept: it is answered, not kept twice. None
    when the policy keeps nothing."""
    if not policy.enabled:
        return None
    for _attempt in range(3):
        try:
            async with transaction(conn):
                return await _keep_device_copy(
                    conn, policy, user_id, workshop_type, step_id, data, schema_version, now
                )
        except IntegrityError:
            continue  # another copy of this step took that version at the same moment
    raise ServiceBusy("This step's versions were changed too often at once; try again.")


async def _keep_device_copy(
    conn: AsyncConnection,
    policy: HistoryPolicy,
    user_id: int,
    workshop_type: str,
    step_id: str,
    data: dict[str, Any],
    schema_version: int | None,
    now: datetime,
) -> HistoryEntry:
    step = (h.c.user_id == user_id, h.c.workshop_type == workshop_type, h.c.step_id == step_id)
    rows = (
        await conn.execute(
            select(h.c.id, h.c.version, h.c.saved_at, h.c.size, h.c.preview)
            .where(*step, h.c.source == DEVICE)
            .order_by(h.c.version)
        )
    ).all()
    if rows:
        newest = rows[0]
        kept = (
            await conn.execute(select(h.c.data, h.c.schema_version).where(h.c.id == newest.id))
        ).one()
        if kept.data == data and kept.schema_version == schema_version:
            return HistoryEntry(
                newest.version, newest.saved_at, newest.size, newest.preview, DEVICE
            )
    version = min([0, *(row.version for row in rows)]) - 1
    entry = HistoryEntry(version, now, encoded_size(data), preview(data), DEVICE)
    inserted = await conn.execute(
        insert(h)
        .values(
            user_id=user_id,
            workshop_type=workshop_type,
            step_id=step_id,
            version=version,
            data=data,
            size=entry.size,
            preview=entry.preview,
            saved_at=now,
            schema_version=schema_version,
            source=DEVICE,
        )
        .returning(h.c.id)
    )
    candidates = [(row.id, -row.version, row.saved_at) for row in rows]
    candidates.append((inserted.scalar_one(), -version, now))
    pruned = versions_to_prune(candidates, policy, now)
    if pruned:
        await conn.execute(delete(h).where(h.c.id.in_(pruned)))
    return entry


async def get_version(
    conn: AsyncConnection, user_id: int, workshop_type: str, step_id: str, version: int
) -> StoredVersion | None:
    row = (
        await conn.execute(
            select(h.c.version, h.c.saved_at, h.c.data, h.c.schema_version).where(
                h.c.user_id == user_id,
                h.c.workshop_type == workshop_type,
                h.c.step_id == step_id,
                h.c.version == version,
            )
        )
    ).first()
    if row is None:
        return None
    return StoredVersion(row.version, row.saved_at, row.data, row.schema_version)


async def history_of_users(
    conn: AsyncConnection, user_ids: Sequence[int]
) -> dict[int, dict[str, dict[str, list[dict[str, Any]]]]]:
    """For the export: every kept version of every step of these users, newest first."""
    found: dict[int, dict[str, dict[str, list[dict[str, Any]]]]] = {u: {} for u in user_ids}
    rows = await conn.execute(
        select(
            h.c.user_id,
            h.c.workshop_type,
            h.c.step_id,
            h.c.version,
            h.c.saved_at,
            h.c.data,
            h.c.schema_version,
            h.c.source,
        )
        .where(h.c.user_id.in_(user_ids))
        .order_by(h.c.user_id, h.c.workshop_type, h.c.step_id, h.c.version.desc())
    )
    for row in rows:
        steps = found[row.user_id].setdefault(row.workshop_type, {})
        steps.setdefault(row.step_id, []).append(
            {
                "version": row.version,
                "savedAt": iso(row.saved_at),
                "data": row.data,
                "schemaVersion": row.schema_version,
                "source": row.source,
            }
        )
    return found
