"""The step write routes (POST save, PATCH, restore) check the session inside their save
statement instead of looking the user up first. These tests hold them to exactly the rules of
every other route (`get_current_user`): an expired, signed-out or deleted user's session
writes nothing and gets the same 401; a session writes only its own user's steps and meets
only its own user's lock; the session is touched (rolling expiry) when due and only then.
Each runs with step history off (the save is one autocommit statement) and on (the save, its
history and the touch in one transaction)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.api.support import login, new_client
from tests.support import Account, Backend, MakeAccount, session_cookies_of
from workshop_data.app import close_app, create_app
from workshop_data.app_services import services_of
from workshop_data.auth.service import SESSION_TOUCH_INTERVAL, token_hash
from workshop_data.db.tables import sessions, workshop_step_data
from workshop_data.timeutil import utc_now

STEP = "/api/workshop-data/step"
NOT_SIGNED_IN = {
    "success": False,
    "error": "You are not signed in, or your session has expired.",
    "code": "not_authenticated",
}
JSON = {"Content-Type": "application/json"}
# How a write reaches the statement: POST without a base version (INSERT ... ON CONFLICT),
# POST with one (UPDATE on the version), PATCH (read, then UPDATE on the version read).
WRITES = ["post", "post-versioned", "patch"]


@pytest.fixture(params=["history-off", "history-on"])
async def app(request: pytest.FixtureRequest, backend: Backend) -> AsyncIterator[FastAPI]:
    overrides: dict[str, object] = {}
    if request.param == "history-off":
        overrides = {"history_versions": 0, "history_hourly_days": 0}
    application = create_app(backend.settings(**overrides))
    yield application
    await close_app(application)


@asynccontextmanager
async def signed_in(app: FastAPI, account: Account) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as client:
        response = await login(client, account)
        assert response.status_code == 200, response.text
        yield client


def cookie(client: httpx.AsyncClient) -> str:
    value: str = client.cookies["wd_session"]
    return value


async def write(
    client: httpx.AsyncClient,
    how: str,
    data: dict[str, Any],
    base_version: int | None = None,
    step_id: str = "ia-3-4",
) -> httpx.Response:
    if how == "patch":
        headers = {} if base_version is None else {"If-Match": f'"{base_version}"'}
        return await client.patch(f"{STEP}/ia/{step_id}", json=data, headers=headers)
    body: dict[str, Any] = {"workshopType": "ia", "stepId": step_id, "data": data}
    if how == "post-versioned" and base_version is not None:
        body["baseVersion"] = base_version
    return await client.post(STEP, json=body)


async def stored(app: FastAPI, user_id: int, step_id: str = "ia-3-4") -> tuple[Any, int] | None:
    t = workshop_step_data
    async with services_of(app).engine.connect() as conn:
        row = (
            await conn.execute(
                select(t.c.data, t.c.version).where(
                    t.c.user_id == user_id, t.c.workshop_type == "ia", t.c.step_id == step_id
                )
            )
        ).first()
    return None if row is None else (row.data, row.version)


async def session_row(app: FastAPI, token: str) -> Any:
    async with services_of(app).engine.connect() as conn:
        return (
            await conn.execute(
                select(sessions.c.expires_at, sessions.c.last_seen_at).where(
                    sessions.c.token_hash == token_hash(token)
                )
            )
        ).first()


async def set_session(app: FastAPI, token: str, **values: object) -> None:
    async with services_of(app).engine.connect() as conn:
        await conn.execute(
            update(sessions).where(sessions.c.token_hash == token_hash(token)).values(**values)
        )
        await conn.commit()


@pytest.mark.parametrize("how", WRITES)
async def test_an_expired_session_writes_nothing_and_is_deleted(
    app: FastAPI, make_account: MakeAccount, how: str
) -> None:
    account = await make_account()
    async with signed_in(app, account) as client:
        assert (await write(client, how, {"a": "kept"})).status_code == 200
        await set_session(app, cookie(client), expires_at=utc_now() - timedelta(seconds=1))

        refused = await write(client, how, {"a": "changed"}, base_version=1)

        assert refused.status_code == 401
        assert refused.json() == NOT_SIGNED_IN
        assert await stored(app, account.id) == ({"a": "kept"}, 1)
        # As get_current_user does with an expired session: it is deleted.
        assert await session_row(app, cookie(client)) is None


@pytest.mark.parametrize("how", WRITES)
async def test_a_session_signed_out_in_another_client_writes_nothing(
    app: FastAPI, make_account: MakeAccount, how: str
) -> None:
    account = await make_account()
    async with signed_in(app, account) as client, new_client(app) as other:
        other.cookies.update(session_cookies_of(client.cookies))
        assert (await write(client, how, {"a": "kept"})).status_code == 200
        assert (await other.post("/api/auth/logout")).status_code == 200

        refused = await write(client, how, {"a": "changed"}, base_version=1)

        assert refused.status_code == 401
        assert refused.json() == NOT_SIGNED_IN
        assert await stored(app, account.id) == ({"a": "kept"}, 1)


@pytest.mark.parametrize("how", WRITES)
async def test_a_deleted_users_session_writes_nothing(
    app: FastAPI, make_account: MakeAccount, accounts: dict[str, Account], how: str
) -> None:
    account = await make_account()
    async with (
        signed_in(app, account) as client,
        signed_in(app, accounts["root"]) as admin,
    ):
        assert (await write(client, how, {"a": "kept"})).status_code == 200
        assert (await admin.delete(f"/api/admin/users/{account.id}")).status_code == 200

        refused = await write(client, how, {"a": "changed"}, base_version=1)

        assert refused.status_code == 401
        assert refused.json() == NOT_SIGNED_IN
        assert await stored(app, account.id) is None


@pytest.mark.parametrize("how", WRITES)
async def test_a_session_writes_only_its_own_users_step(
    app: FastAPI, make_account: MakeAccount, how: str
) -> None:
    first, second = await make_account(), await make_account()
    async with signed_in(app, first) as one, signed_in(app, second) as two:
        assert (await write(one, how, {"owner": "first"})).status_code == 200
        assert (await write(two, how, {"owner": "second"})).status_code == 200

        saved = await write(two, how, {"owner": "second, again"}, base_version=1)

        assert saved.status_code == 200, saved.text
        assert saved.json()["data"]["userId"] == second.id
        assert await stored(app, second.id) == ({"owner": "second, again"}, 2)
        assert await stored(app, first.id) == ({"owner": "first"}, 1)


@pytest.mark.parametrize("how", WRITES)
async def test_the_lock_is_the_session_users_own(
    app: FastAPI, make_account: MakeAccount, how: str
) -> None:
    first, second = await make_account(), await make_account()
    async with signed_in(app, first) as one, signed_in(app, second) as two:
        assert (await write(one, how, {"a": "1"})).status_code == 200
        assert (await write(two, how, {"a": "1"})).status_code == 200
        assert (await one.post("/api/workshop-data/complete/ia")).status_code == 200

        assert (await write(one, how, {"a": "2"}, base_version=1)).status_code == 423
        assert (await write(two, how, {"a": "2"}, base_version=1)).status_code == 200
        assert await stored(app, first.id) == ({"a": "1"}, 1)
        assert await stored(app, second.id) == ({"a": "2"}, 2)


@pytest.mark.parametrize("how", ["post", "patch"])
async def test_the_session_is_touched_when_due(
    app: FastAPI, make_account: MakeAccount, how: str
) -> None:
    account = await make_account()
    async with signed_in(app, account) as client:
        long_ago = utc_now() - SESSION_TOUCH_INTERVAL - timedelta(seconds=5)
        soon = utc_now() + timedelta(hours=1)
        await set_session(app, cookie(client), last_seen_at=long_ago, expires_at=soon)
        before = utc_now()

        assert (await write(client, how, {"a": "1"})).status_code == 200

        row = await session_row(app, cookie(client))
        ttl = timedelta(seconds=services_of(app).settings.session_ttl_seconds)
        assert row.last_seen_at >= before
        assert before + ttl <= row.expires_at <= utc_now() + ttl


@pytest.mark.parametrize("how", ["post", "patch"])
async def test_the_session_is_not_touched_before_it_is_due(
    app: FastAPI, make_account: MakeAccount, how: str
) -> None:
    account = await make_account()
    async with signed_in(app, account) as client:
        recently = utc_now() - SESSION_TOUCH_INTERVAL + timedelta(seconds=30)
        soon = utc_now() + timedelta(hours=1)
        await set_session(app, cookie(client), last_seen_at=recently, expires_at=soon)

        assert (await write(client, how, {"a": "1"})).status_code == 200

        row = await session_row(app, cookie(client))
        assert (row.last_seen_at, row.expires_at) == (recently, soon)


@pytest.mark.parametrize(
    "request_args",
    [
        {"method": "POST", "url": STEP, "content": b"{not json", "headers": JSON},
        {"method": "POST", "url": STEP, "json": {"workshopType": "ia", "stepId": "nope"}},
        {"method": "PATCH", "url": f"{STEP}/ia/ia-3-4", "content": b"[1]", "headers": JSON},
        {"method": "PATCH", "url": f"{STEP}/xx/ia-3-4", "json": {}},
        {
            "method": "POST",
            "url": f"{STEP}/ia/ia-3-4/restore/1",
            "content": b"[1]",
            "headers": JSON,
        },
        {"method": "POST", "url": f"{STEP}/ia/ia-3-4/restore/1", "json": {}},
    ],
)
async def test_without_a_live_session_bad_input_is_refused_as_not_signed_in_first(
    app: FastAPI, make_account: MakeAccount, request_args: dict[str, Any]
) -> None:
    account = await make_account()
    async with signed_in(app, account) as client, new_client(app) as anonymous:
        signed_in_status = (await client.request(**request_args)).status_code
        assert signed_in_status in (400, 404)
        await set_session(app, cookie(client), expires_at=utc_now() - timedelta(seconds=1))

        for refused in (
            await client.request(**request_args),
            await anonymous.request(**request_args),
        ):
            assert refused.status_code == 401
            assert refused.json() == NOT_SIGNED_IN
