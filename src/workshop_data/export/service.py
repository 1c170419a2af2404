"""The export of everything a user entered (the spec's `ExportData`), for the HTTP download and
for `workshop-data export`. Users are exported in batches: a handful of queries per batch, each
covering all of the batch's users, and users read by keyset pagination, so exporting every user
holds one batch in memory at a time however many users there are. Uploaded files are read one
user at a time, just before that user's document is built, so only one user's files are held."""

import base64
import re
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import quote

import orjson
from sqlalchemy import ColumnElement, Result, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.catalog.service import Catalog
from workshop_data.db.tables import (
    assessments,
    navigation_progress,
    users,
    workshop_participation,
    workshop_step_data,
)
from workshop_data.errors import NotFound
from workshop_data.step_data import history as step_history
from workshop_data.timeutil import iso, utc_now
from workshop_data.uploads.storage import DatabaseUploadStore, UploadInfo, UploadStore
from workshop_data.users.service import ACCOUNT_COLUMNS

DATA_VERSION = "2.1"
DEFAULT_BATCH_SIZE = 200
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class _UserData:
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)
    assessments: dict[str, Any] = field(default_factory=dict)
    participation: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[UploadInfo] = field(default_factory=list)


def _user_info(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "name": row.name,
        "email": row.email,
        "role": row.role,
        "facilitatorId": row.facilitator_id,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def workshop_steps_summary(catalog: Catalog) -> str:
    """As in the spec: "AST: 2-1 through 4-5, IA: ia-1-1 through ia-4-6" (from the catalogue)."""
    parts = []
    for workshop in catalog.workshop_types:
        steps = catalog.steps_of(workshop)
        if steps:
            parts.append(f"{workshop.upper()}: {steps[0].step_id} through {steps[-1].step_id}")
    return ", ".join(parts)


async def _rows_of_users(
    conn: AsyncConnection, table: Table, user_ids: Sequence[int], *order: ColumnElement[Any]
) -> Result[Any]:
    """The rows of `table` belonging to the users, by user and then `order`."""
    return await conn.execute(
        select(table).where(table.c.user_id.in_(user_ids)).order_by(table.c.user_id, *order)
    )


def _step_entry(row: Any) -> dict[str, Any]:
    return {
        "data": row.data,
        "version": row.version,
        "schemaVersion": row.schema_version,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def _progress_entry(row: Any) -> dict[str, Any]:
    return {
        "currentStepId": row.current_step_id,
        "completedSteps": row.completed_steps,
        "unlockedSteps": row.unlocked_steps,
        "videoProgress": row.video_progress,
        "lastVisitedAt": iso(row.last_visited_at),
        "version": row.version,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def _assessment_entry(row: Any) -> dict[str, Any]:
    return {
        "results": row.results,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def _participation_entry(row: Any) -> dict[str, Any]:
    return {
        "workshopType": row.workshop_type,
        "startedAt": iso(row.started_at),
        "completedAt": iso(row.completed_at),
        "reopenedAt": iso(row.reopened_at),
        "reopenedBy": row.reopened_by,
    }


async def _load(
    conn: AsyncConnection, catalog: Catalog, store: UploadStore, user_ids: Sequence[int]
) -> dict[int, _UserData]:
    """Everything the users entered, one query per table for all of them."""
    found = {user_id: _UserData() for user_id in user_ids}
    for user_data in found.values():
        user_data.steps = {workshop: {} for workshop in catalog.workshop_types}

    steps = workshop_step_data
    for row in await _rows_of_users(conn, steps, user_ids, steps.c.workshop_type, steps.c.id):
        found[row.user_id].steps.setdefault(row.workshop_type, {})[row.step_id] = _step_entry(row)
    progress = navigation_progress
    for row in await _rows_of_users(conn, progress, user_ids, progress.c.workshop_type):
        found[row.user_id].progress[row.workshop_type] = _progress_entry(row)
    for row in await _rows_of_users(conn, assessments, user_ids, assessments.c.assessment_type):
        found[row.user_id].assessments[row.assessment_type] = _assessment_entry(row)
    participation = workshop_participation
    for row in await _rows_of_users(conn, participation, user_ids, participation.c.workshop_type):
        found[row.user_id].participation.append(_participation_entry(row))

    for info in await store.list_for_users(conn, user_ids):
        found[info.user_id].uploads.append(info)
    return found


def _upload(info: UploadInfo, content: bytes) -> dict[str, Any]:
    return {
        "id": info.id,
        "url": info.url,
        "contentType": info.content_type,
        "size": info.size,
        "sha256": info.sha256,
        "createdAt": iso(info.created_at),
        "base64": base64.b64encode(content).decode("ascii"),
    }


def _document(
    user_row: Any,
    data: _UserData,
    contents: dict[str, bytes],
    exported_by: str,
    exported_at: datetime,
    steps_summary: str,
) -> dict[str, Any]:
    step_counts = {workshop: len(steps) for workshop, steps in data.steps.items()}
    return {
        "userInfo": _user_info(user_row),
        "navigationProgress": data.progress,
        "assessments": data.assessments,
        "workshopStepData": data.steps,
        "workshopParticipation": data.participation,
        "uploads": [
            _upload(info, contents[info.id]) for info in data.uploads if info.id in contents
        ],
        "exportMetadata": {
            "exportedAt": iso(exported_at),
            "exportedBy": exported_by,
            "dataVersion": DATA_VERSION,
            "totalWorkshopSteps": sum(step_counts.values()),
            "workshopSteps": steps_summary,
            "stepCounts": step_counts,
        },
    }


async def _export_rows(
    conn: AsyncConnection,
    catalog: Catalog,
    store: UploadStore,
    user_rows: Sequence[Any],
    exported_by: str,
    exported_at: datetime,
    history: bool = False,
) -> AsyncIterator[dict[str, Any]]:
    ids = [row.id for row in user_rows]
    loaded = await _load(conn, catalog, store, ids)
    histories = await step_history.history_of_users(conn, ids) if history else {}
    summary = workshop_steps_summary(catalog)
    for row in user_rows:
        data = loaded[row.id]
        contents = await store.contents_of_user(conn, row.id) if data.uploads else {}
        document = _document(row, data, contents, exported_by, exported_at, summary)
        if history:
            # Only when asked: every kept version of every step, newest first.
            document["workshopStepHistory"] = histories.get(row.id, {})
        yield document


async def export_user(
    conn: AsyncConnection,
    catalog: Catalog,
    user_id: int,
    exported_by: str,
    exported_at: datetime | None = None,
    store: UploadStore | None = None,
    history: bool = False,
) -> dict[str, Any]:
    row = (await conn.execute(select(*ACCOUNT_COLUMNS).where(users.c.id == user_id))).first()
    if row is None:
        raise NotFound(f"There is no user with id {user_id}.")
    documents = _export_rows(
        conn,
        catalog,
        store or DatabaseUploadStore(),
        [row],
        exported_by,
        exported_at or utc_now(),
        history,
    )
    (document,) = [document async for document in documents]
    return document


async def iter_exports(
    conn: AsyncConnection,
    catalog: Catalog,
    exported_by: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    store: UploadStore | None = None,
    history: bool = False,
) -> AsyncIterator[dict[str, Any]]:
    """Every user's export, in id order, reading `batch_size` users at a time."""
    store = store or DatabaseUploadStore()
    exported_at = utc_now()
    after = None
    while True:
        query = select(*ACCOUNT_COLUMNS).order_by(users.c.id).limit(batch_size)
        if after is not None:
            query = query.where(users.c.id > after)
        batch = (await conn.execute(query)).all()
        if not batch:
            return
        documents = _export_rows(conn, catalog, store, batch, exported_by, exported_at, history)
        async for document in documents:
            yield document
        after = batch[-1].id


def export_filename(username: str, exported_at: datetime) -> str:
    return f"workshop-data-{username}-{exported_at:%Y-%m-%d}.json"


def content_disposition(username: str, exported_at: datetime) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form."""
    exact = export_filename(username, exported_at)
    ascii_name = unicodedata.normalize("NFKD", username).encode("ascii", "ignore").decode()
    fallback = export_filename(_UNSAFE_IN_FILENAME.sub("_", ascii_name) or "user", exported_at)
    if fallback == exact:
        return f'attachment; filename="{exact}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(exact, safe='')}"


async def export_username(
    conn: AsyncConnection,
    catalog: Catalog,
    username: str,
    exported_by: str,
    history: bool = False,
) -> dict[str, Any]:
    user_id = (await conn.execute(select(users.c.id).where(users.c.username == username))).scalar()
    if user_id is None:
        raise NotFound(f"There is no user '{username}'.")
    return await export_user(conn, catalog, user_id, exported_by, history=history)


async def use_one_snapshot(conn: AsyncConnection) -> None:
    """Make the connection's next transaction read one snapshot throughout (PostgreSQL's
    REPEATABLE READ), so a long export is consistent; call it before the first statement."""
    if conn.dialect.name == "postgresql" and not conn.in_transaction():
        await conn.execution_options(isolation_level="REPEATABLE READ")


async def write_all(
    conn: AsyncConnection,
    catalog: Catalog,
    sink: BinaryIO,
    exported_by: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
    history: bool = False,
) -> int:
    """Write every user's export to `sink` as NDJSON (one document per line); return how many."""
    written = 0
    async for document in iter_exports(conn, catalog, exported_by, batch_size, history=history):
        sink.write(orjson.dumps(document))
        sink.write(b"\n")
        written += 1
        if on_progress is not None:
            on_progress(1)
    return written
