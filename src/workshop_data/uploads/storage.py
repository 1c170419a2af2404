"""Where uploads live. The service talks to an `UploadStore`; `DatabaseUploadStore` keeps the
files in the `uploads` table (BYTEA on PostgreSQL, BLOB on SQLite), so a backup of the
database holds every file and the workers stay stateless. Another store (an object store with
the metadata in the table, say) implements the same methods."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import Text

from workshop_data.db.tables import uploads, workshop_step_data
from workshop_data.db.transaction import transaction

URL_PREFIX = "/api/uploads/"
# A save that refers to an upload marks it only when the mark is older than this, so
# keystroke saves of a step with an image do not rewrite the upload's row every time.
MARK_REFERENCED_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class UploadInfo:
    id: str
    user_id: int
    sha256: str
    content_type: str
    size: int
    created_at: datetime
    last_referenced_at: datetime

    @property
    def url(self) -> str:
        return URL_PREFIX + self.id


@dataclass(frozen=True)
class NewUpload:
    id: str
    user_id: int
    sha256: str
    content_type: str
    content: bytes
    now: datetime


class UploadStore(Protocol):
    async def add(self, conn: AsyncConnection, new: NewUpload) -> tuple[UploadInfo, bool]:
        """Store the upload, or find the user's upload of the same SHA-256 and mark it as
        referenced now; True when it was stored by this call."""
        ...

    async def find(self, conn: AsyncConnection, upload_id: str) -> UploadInfo | None: ...

    async def content(self, conn: AsyncConnection, upload_id: str) -> bytes | None: ...

    async def list_for_users(
        self, conn: AsyncConnection, user_ids: Sequence[int]
    ) -> list[UploadInfo]:
        """Every upload of these users, ordered by user and creation (no file contents)."""
        ...

    async def contents_of_user(self, conn: AsyncConnection, user_id: int) -> dict[str, bytes]: ...

    async def mark_referenced(
        self, conn: AsyncConnection, user_id: int, upload_ids: Sequence[str], now: datetime
    ) -> None: ...

    async def prune(
        self, conn: AsyncConnection, unreferenced_since: datetime, now: datetime, dry_run: bool
    ) -> list[UploadInfo]:
        """Remove (or, dry, only list) the uploads marked referenced before
        `unreferenced_since` that no step document of their owner refers to now; mark those
        still referred to as referenced `now`. Returns what was (or would be) removed."""
        ...


@lru_cache(maxsize=8)
def mark_referenced_statement(count: int) -> Any:
    """The mark of `count` of a user's uploads as referenced now (at most once per
    MARK_REFERENCED_EVERY), with named parameters (`mark_referenced_values`), built once per
    count: a step save runs it in its own transaction (step_data/repository.py)."""
    return (
        update(uploads)
        .where(
            uploads.c.user_id == bindparam("p_user_id", type_=Integer()),
            uploads.c.id.in_([bindparam(f"p_upload_{i}", type_=String()) for i in range(count)]),
            uploads.c.last_referenced_at < bindparam("p_mark_before", type_=DateTime()),
        )
        .values(last_referenced_at=bindparam("p_marked_at", type_=DateTime()))
    )


def mark_referenced_values(
    user_id: int, upload_ids: Sequence[str], now: datetime
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "p_user_id": user_id,
        "p_mark_before": now - MARK_REFERENCED_EVERY,
        "p_marked_at": now,
    }
    values.update((f"p_upload_{i}", upload_id) for i, upload_id in enumerate(upload_ids))
    return values


_INFO_COLUMNS = (
    uploads.c.id,
    uploads.c.user_id,
    uploads.c.sha256,
    uploads.c.content_type,
    uploads.c.size,
    uploads.c.created_at,
    uploads.c.last_referenced_at,
)


def _info(row: Any) -> UploadInfo:
    return UploadInfo(
        id=row.id,
        user_id=row.user_id,
        sha256=row.sha256,
        content_type=row.content_type,
        size=row.size,
        created_at=row.created_at,
        last_referenced_at=row.last_referenced_at,
    )


def _referred_to_by_a_step() -> Any:
    # The step documents are JSON text on SQLite and jsonb on PostgreSQL; both render the
    # URL string unescaped, and ids are hex, so LIKE has no wildcard to trip on.
    s = workshop_step_data
    return exists().where(
        s.c.user_id == uploads.c.user_id,
        cast(s.c.data, Text()).like(literal("%" + URL_PREFIX) + uploads.c.id + literal("%")),
    )


class DatabaseUploadStore:
    async def add(self, conn: AsyncConnection, new: NewUpload) -> tuple[UploadInfo, bool]:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        for _ in range(3):
            row = (
                await conn.execute(
                    insert(uploads)
                    .values(
                        id=new.id,
                        user_id=new.user_id,
                        sha256=new.sha256,
                        content_type=new.content_type,
                        size=len(new.content),
                        content=new.content,
                        created_at=new.now,
                        last_referenced_at=new.now,
                    )
                    .on_conflict_do_nothing(index_elements=[uploads.c.user_id, uploads.c.sha256])
                    .returning(*_INFO_COLUMNS)
                )
            ).first()
            if row is not None:
                await conn.commit()
                return _info(row), True
            row = (
                await conn.execute(
                    update(uploads)
                    .where(uploads.c.user_id == new.user_id, uploads.c.sha256 == new.sha256)
                    .values(last_referenced_at=new.now)
                    .returning(*_INFO_COLUMNS)
                )
            ).first()
            await conn.commit()
            if row is not None:
                return _info(row), False
            # Pruned between the two statements: store it again.
        raise RuntimeError("an upload was neither stored nor found three times in a row")

    async def find(self, conn: AsyncConnection, upload_id: str) -> UploadInfo | None:
        row = (await conn.execute(select(*_INFO_COLUMNS).where(uploads.c.id == upload_id))).first()
        return None if row is None else _info(row)

    async def content(self, conn: AsyncConnection, upload_id: str) -> bytes | None:
        found = (
            await conn.execute(select(uploads.c.content).where(uploads.c.id == upload_id))
        ).scalar()
        return None if found is None else bytes(found)

    async def list_for_users(
        self, conn: AsyncConnection, user_ids: Sequence[int]
    ) -> list[UploadInfo]:
        rows = await conn.execute(
            select(*_INFO_COLUMNS)
            .where(uploads.c.user_id.in_(user_ids))
            .order_by(uploads.c.user_id, uploads.c.created_at, uploads.c.id)
        )
        return [_info(row) for row in rows]

    async def contents_of_user(self, conn: AsyncConnection, user_id: int) -> dict[str, bytes]:
        rows = await conn.execute(
            select(uploads.c.id, uploads.c.content).where(uploads.c.user_id == user_id)
        )
        return {row.id: bytes(row.content) for row in rows}

    async def mark_referenced(
        self, conn: AsyncConnection, user_id: int, upload_ids: Sequence[str], now: datetime
    ) -> None:
        await conn.execute(
            mark_referenced_statement(len(upload_ids)),
            mark_referenced_values(user_id, upload_ids, now),
        )
        await conn.commit()

    async def prune(
        self, conn: AsyncConnection, unreferenced_since: datetime, now: datetime, dry_run: bool
    ) -> list[UploadInfo]:
        old = uploads.c.last_referenced_at < unreferenced_since
        unreferenced = and_(old, ~_referred_to_by_a_step())
        if dry_run:
            rows = await conn.execute(
                select(*_INFO_COLUMNS).where(unreferenced).order_by(uploads.c.id)
            )
            removed = [_info(row) for row in rows]
            await conn.rollback()
            return removed
        # One statement decides and deletes, so a step saved in between is seen by it.
        async with transaction(conn):
            rows = await conn.execute(delete(uploads).where(unreferenced).returning(*_INFO_COLUMNS))
            removed = sorted((_info(row) for row in rows), key=lambda info: info.id)
            await conn.execute(update(uploads).where(old).values(last_referenced_at=now))
        return removed
