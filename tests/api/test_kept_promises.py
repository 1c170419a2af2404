"""Behaviour a plausible bug would break silently: each test here failed with that bug put in
(see docs/benchmarks.md, mutation testing)."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.api.support import load, new_client, save
from tests.support import Account, Backend, MakeAccount
from workshop_data.app import close_app, create_app
from workshop_data.app_services import services_of
from workshop_data.db.dialect import upsertable_insert
from workshop_data.db.tables import navigation_progress, sessions
from workshop_data.timeutil import utc_now


async def test_identical_data_with_the_current_base_version_is_acknowledged_unchanged(
    alice: httpx.AsyncClient,
) -> None:
    first = (await save(alice, {"a": "same"})).json()["data"]
    again = await save(alice, {"a": "same"}, baseVersion=1)
    assert again.status_code == 200, again.text
    assert again.json()["data"]["version"] == 1  # nothing changed, so no new version
    assert again.json()["data"]["updatedAt"] == first["updatedAt"]
    assert again.headers["etag"] == '"1"'
    changed = await save(alice, {"a": "other"}, baseVersion=1)
    assert changed.json()["data"]["version"] == 2
    repeated = await save(alice, {"a": "other"}, baseVersion=2)
    assert repeated.status_code == 200
    assert repeated.json()["data"]["version"] == 2
    assert (await load(alice)).json()["version"] == 2


async def test_the_session_expiry_slides_when_it_is_used(
    backend: Backend, make_account: MakeAccount
) -> None:
    account = await make_account()
    ttl = 3600
    app = create_app(backend.settings(session_ttl_seconds=ttl))
    try:
        async with new_client(app) as client:
            await client.post(
                "/api/auth/login",
                json={"username": account.username, "password": account.password},
            )
            soon = utc_now() + timedelta(minutes=1)
            async with services_of(app).engine.connect() as conn:
                await conn.execute(
                    update(sessions)
                    .where(sessions.c.user_id == account.id)
                    .values(last_seen_at=utc_now() - timedelta(minutes=10), expires_at=soon)
                )
                await conn.commit()
            assert (await client.get("/api/auth/me")).status_code == 200
            async with services_of(app).engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(sessions.c.expires_at, sessions.c.last_seen_at).where(
                            sessions.c.user_id == account.id
                        )
                    )
                ).one()
            now = utc_now()
            assert row.expires_at > now + timedelta(seconds=ttl - 60)
            assert row.last_seen_at > now - timedelta(minutes=1)
    finally:
        await close_app(app)


async def test_completed_steps_the_catalogue_no_longer_lists_are_kept(
    backend: Backend, alice: httpx.AsyncClient, accounts: dict[str, Account], app: FastAPI
) -> None:
    engine = services_of(app).engine
    now = utc_now()
    async with engine.connect() as conn:
        await conn.execute(
            upsertable_insert(conn.dialect.name, navigation_progress).values(
                user_id=accounts["alice"].id,
                workshop_type="ast",
                current_step_id=None,
                completed_steps=["retired-step", "2-1"],
                unlocked_steps=["retired-step"],
                video_progress={},
                created_at=now,
                updated_at=now,
            )
        )
        await conn.commit()
    merged = await alice.put("/api/navigation-progress/ast", json={"completedSteps": ["1-1"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["completedSteps"] == ["1-1", "2-1", "retired-step"]
    assert merged.json()["unlockedSteps"] == ["retired-step"]
