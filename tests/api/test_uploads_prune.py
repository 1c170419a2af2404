"""Pruning uploads: what no step of their owner has referred to for the given time goes;
what a step refers to, or referred to recently, stays (the command: tests/process)."""

from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update

from tests.api.images import GIF, JPEG, PNG, WEBP, image_bytes
from tests.api.support import save
from tests.api.test_uploads import upload
from tests.support import Backend
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import uploads
from workshop_data.timeutil import utc_now
from workshop_data.uploads import service
from workshop_data.uploads.storage import DatabaseUploadStore

DAY = timedelta(days=1)


async def backdate(backend: Backend, upload_ids: list[str], days: int) -> None:
    engine = create_engine(backend.settings())
    async with engine.begin() as conn:
        await conn.execute(
            update(uploads)
            .where(uploads.c.id.in_(upload_ids))
            .values(last_referenced_at=utc_now() - days * DAY)
        )
    await engine.dispose()


async def remaining(backend: Backend) -> dict[str, datetime]:
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        rows = await conn.execute(select(uploads.c.id, uploads.c.last_referenced_at))
        found = {row.id: row.last_referenced_at for row in rows}
    await engine.dispose()
    return found


async def prune(backend: Backend, days: int, dry_run: bool) -> list[str]:
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        removed = await service.prune(conn, DatabaseUploadStore(), days * DAY, dry_run)
    await engine.dispose()
    return [info.id for info in removed]


async def ids_of(client: httpx.AsyncClient, *files: bytes) -> list[str]:
    found = []
    for content in files:
        response = await upload(client, content, "application/octet-stream")
        assert response.status_code == 201, response.text
        found.append(response.json()["upload"]["id"])
    return found


async def test_prune_removes_only_old_unreferenced_uploads(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, backend: Backend
) -> None:
    referenced, old, recent, elsewhere = await ids_of(alice, PNG, JPEG, WEBP, GIF)
    (bobs_old,) = await ids_of(bob, image_bytes("PNG", (5, 5)))
    assert (
        await save(
            alice,
            {"uploadedImage": f"/api/uploads/{referenced}", "imageTitle": "t"},
            "ia",
            "ia-3-3",
        )
    ).status_code == 200
    # bob's step names alice's upload: that keeps nothing of alice's (only her steps count).
    assert (await save(bob, {"img": f"/api/uploads/{elsewhere}"})).status_code == 200
    await backdate(backend, [referenced, old, elsewhere, bobs_old], days=40)
    await backdate(backend, [recent], days=10)
    before = await remaining(backend)

    planned = await prune(backend, days=30, dry_run=True)
    assert sorted(planned) == sorted([old, elsewhere, bobs_old])
    assert await remaining(backend) == before  # a dry run changes nothing

    removed = await prune(backend, days=30, dry_run=False)
    assert sorted(removed) == sorted(planned)
    after = await remaining(backend)
    assert set(after) == {referenced, recent}
    # Still referred to: marked as referenced now, so it is not considered again for 30 days.
    assert after[referenced] > utc_now() - DAY
    assert after[recent] == before[recent]
    assert (await alice.get(f"/api/uploads/{old}")).status_code == 404
    assert (await alice.get(f"/api/uploads/{referenced}")).status_code == 200
    assert await prune(backend, days=30, dry_run=False) == []


async def test_a_save_that_refers_to_an_upload_marks_it_referenced(
    alice: httpx.AsyncClient, backend: Backend
) -> None:
    via_post, via_patch = await ids_of(alice, PNG, JPEG)
    await backdate(backend, [via_post, via_patch], days=40)
    assert (await save(alice, {"img": f"/api/uploads/{via_post}"})).status_code == 200
    patched = await alice.patch(
        "/api/workshop-data/step/ia/ia-3-3",
        json={"uploadedImage": f"/api/uploads/{via_patch}"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200
    # Then the steps stop referring to them: they were referred to within the last 30 days.
    assert (await save(alice, {"img": None})).status_code == 200
    assert (await save(alice, {"uploadedImage": None}, "ia", "ia-3-3")).status_code == 200
    assert await prune(backend, days=30, dry_run=False) == []
    assert sorted(await prune(backend, days=30, dry_run=True)) == []
    assert set(await remaining(backend)) == {via_post, via_patch}
