"""A save marks the uploads its document refers to as referenced in its own transaction
(step_data/repository.py): the mark and the save commit together or not at all."""

import contextlib
from datetime import datetime

import httpx
from sqlalchemy import select, text

from tests.api.images import PNG
from tests.api.support import load, save
from tests.api.test_uploads_prune import DAY, backdate, ids_of
from tests.support import Backend
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import uploads
from workshop_data.timeutil import utc_now


async def marked_at(backend: Backend, upload_id: str) -> datetime:
    engine = create_engine(backend.settings())
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                select(uploads.c.last_referenced_at).where(uploads.c.id == upload_id)
            )
            value: datetime = found.scalar_one()
            return value
    finally:
        await engine.dispose()


async def run_sql(backend: Backend, *statements: str) -> None:
    engine = create_engine(backend.settings())
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_a_save_marks_the_uploads_it_refers_to(
    alice: httpx.AsyncClient, backend: Backend
) -> None:
    [upload_id] = await ids_of(alice, PNG)
    await backdate(backend, [upload_id], 2)
    assert await marked_at(backend, upload_id) < utc_now() - DAY
    unrelated = await save(alice, {"whyReflection": "no image"})
    assert unrelated.status_code == 200
    assert await marked_at(backend, upload_id) < utc_now() - DAY
    referring = await save(alice, {"image": f"/api/uploads/{upload_id}"}, "ia", "ia-2-1")
    assert referring.status_code == 200, referring.text
    assert await marked_at(backend, upload_id) > utc_now() - DAY


async def test_a_save_whose_mark_fails_is_not_stored(
    alice: httpx.AsyncClient, backend: Backend
) -> None:
    [upload_id] = await ids_of(alice, PNG)
    await backdate(backend, [upload_id], 2)
    assert (await save(alice, {"image": "before"}, "ia", "ia-2-1")).status_code == 200
    if backend.is_postgres:
        refuse = [
            "CREATE OR REPLACE FUNCTION refuse_mark() RETURNS trigger AS "
            "$$ BEGIN RAISE EXCEPTION 'mark refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_mark BEFORE UPDATE ON uploads "
            "FOR EACH ROW EXECUTE FUNCTION refuse_mark()",
        ]
        allow = ["DROP TRIGGER refuse_mark ON uploads", "DROP FUNCTION refuse_mark()"]
    else:
        refuse = [
            "CREATE TRIGGER refuse_mark BEFORE UPDATE ON uploads "
            "BEGIN SELECT RAISE(ABORT, 'mark refused'); END"
        ]
        allow = ["DROP TRIGGER refuse_mark"]
    await run_sql(backend, *refuse)
    failed: httpx.Response | None = None
    try:
        # The in-process transport may hand the error on instead of the 500.
        with contextlib.suppress(Exception):
            failed = await save(alice, {"image": f"/api/uploads/{upload_id}"}, "ia", "ia-2-1")
        assert failed is None or failed.status_code == 500
    finally:
        await run_sql(backend, *allow)
    assert (await load(alice, "ia", "ia-2-1")).json()["data"] == {"image": "before"}
    assert await marked_at(backend, upload_id) < utc_now() - DAY
