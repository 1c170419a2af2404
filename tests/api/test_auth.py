"""Sign-in, sessions, throttling and same-origin protection."""

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from tests.api.support import login, new_client, save
from tests.support import (
    Account,
    Backend,
    MakeAccount,
    scratch_postgres_database,
    session_cookies_of,
)
from workshop_data.app import close_app, create_app
from workshop_data.app_services import services_of
from workshop_data.auth.service import start_session, user_for_session
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to, upgrade_to_head
from workshop_data.db.tables import sessions
from workshop_data.settings import Settings
from workshop_data.timeutil import utc_now


async def test_login_returns_user_and_session_cookie(
    anon: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    response = await login(anon, account)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "user": {
            "id": account.id,
            "username": account.username,
            "name": "",
            "email": None,
            "role": "participant",
        },
    }
    cookie = response.headers["set-cookie"].lower()
    assert "wd_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http here; https gets Secure
    me = await anon.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["user"]["username"] == account.username


async def test_login_by_email(anon: httpx.AsyncClient, accounts: dict[str, Account]) -> None:
    response = await anon.post(
        "/api/auth/login",
        json={"username": "alice@example.org", "password": "alice-quiet-harbor-71"},
    )
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"


async def test_secure_cookie_over_https(app: FastAPI, make_account: MakeAccount) -> None:
    account = await make_account()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as client:
        response = await login(client, account)
    assert "secure" in response.headers["set-cookie"].lower()


async def test_bad_credentials_same_answer_whether_user_exists_or_not(
    anon: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    wrong_password = await anon.post(
        "/api/auth/login", json={"username": "alice", "password": "not-her-password"}
    )
    no_user = await anon.post(
        "/api/auth/login", json={"username": "nobody-here", "password": "whatever"}
    )
    assert wrong_password.status_code == no_user.status_code == 401
    assert wrong_password.json() == no_user.json()
    assert wrong_password.json()["success"] is False
    assert "set-cookie" not in wrong_password.headers


async def test_new_session_at_every_login_and_dead_after_logout(
    app: FastAPI, make_account: MakeAccount
) -> None:
    account = await make_account()
    async with new_client(app) as first, new_client(app) as second:
        session_one = session_cookies_of((await login(first, account)).cookies)
        session_two = session_cookies_of((await login(first, account)).cookies)
        assert session_one != session_two
        # The session a re-login replaced is revoked.
        second.cookies.update(session_one)
        assert (await second.get("/api/auth/me")).status_code == 401

        assert (await first.post("/api/auth/logout")).status_code == 200
        second.cookies.update(session_two)
        after = await second.get("/api/auth/me")
        assert after.status_code == 401
        assert after.json()["code"] == "not_authenticated"
        assert (await save(second, {"a": "1"})).status_code == 401


async def test_only_a_hash_of_the_token_is_stored(app: FastAPI, make_account: MakeAccount) -> None:
    from sqlalchemy import select

    from workshop_data.auth.service import token_hash
    from workshop_data.db.tables import sessions

    account = await make_account()
    async with new_client(app) as client:
        signed_in = (await login(client, account)).cookies
    token, device = signed_in["wd_session"], signed_in["wd_session_device"]
    async with services_of(app).engine.connect() as conn:
        stored = (await conn.execute(select(sessions.c.token_hash, sessions.c.device_hash))).all()
    assert (token_hash(token), token_hash(device)) in [tuple(row) for row in stored]
    assert not any(token in row or device in row for row in stored)


async def test_expired_session_is_refused(backend: Backend, make_account: MakeAccount) -> None:
    from sqlalchemy import update

    from workshop_data.db.tables import sessions
    from workshop_data.timeutil import utc_now

    account = await make_account()
    app = create_app(backend.settings())
    try:
        async with new_client(app) as client:
            await login(client, account)
            async with services_of(app).engine.connect() as conn:
                await conn.execute(
                    update(sessions)
                    .where(sessions.c.user_id == account.id)
                    .values(expires_at=utc_now())
                )
                await conn.commit()
            assert (await client.get("/api/auth/me")).status_code == 401
    finally:
        await close_app(app)


@pytest.mark.parametrize("cookie", ["", "garbage", "a" * 43, "' OR 1=1 --", "1", "alice"])
async def test_forged_cookies_are_refused(anon: httpx.AsyncClient, cookie: str) -> None:
    anon.cookies.set("wd_session", cookie)
    response = await anon.get("/api/workshop-data/steps/ia")
    assert response.status_code == 401


async def test_every_endpoint_but_login_and_health_needs_a_session(
    anon: httpx.AsyncClient,
) -> None:
    calls = [
        ("GET", "/api/auth/me"),
        ("GET", "/api/catalog"),
        ("GET", "/api/workshop-data/step/ia/ia-3-4"),
        ("GET", "/api/workshop-data/steps/ia"),
        ("GET", "/api/workshop-data/status/ia"),
        ("POST", "/api/workshop-data/complete/ia"),
    ]
    for method, path in calls:
        response = await anon.request(method, path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
    saved = await save(anon, {"a": "1"})
    assert saved.status_code == 401
    assert (await anon.get("/healthz")).status_code == 200
    assert (await anon.get("/readyz")).status_code == 200


async def test_repeated_failures_are_throttled_with_retry_after(
    backend: Backend, make_account: MakeAccount
) -> None:
    account = await make_account()
    app = create_app(backend.settings(login_account_address_rate_limit="3/minute"))
    try:
        async with new_client(app) as client:
            wrong = {"username": account.username, "password": "wrong-password"}
            for _ in range(3):
                assert (await client.post("/api/auth/login", json=wrong)).status_code == 401
            throttled = await client.post("/api/auth/login", json=wrong)
            assert throttled.status_code == 429
            assert throttled.json()["code"] == "rate_limited"
            assert 1 <= int(throttled.headers["retry-after"]) <= 60
            # Even the right password waits until the window has passed.
            assert (await login(client, account)).status_code == 429
            # Another user's sign-in is not affected.
            other = await make_account()
            assert (await login(client, other)).status_code == 200
    finally:
        await close_app(app)


async def test_cross_site_writes_are_refused(alice: httpx.AsyncClient) -> None:
    await save(alice, {"a": "mine"})
    body = {"workshopType": "ia", "stepId": "ia-3-4", "data": {"a": "evil"}}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        response = await alice.post("/api/workshop-data/step", json=body, headers=headers)
        assert response.status_code == 403, headers
        assert response.json()["code"] == "cross_site_request"
    logout = await alice.post("/api/auth/logout", headers={"Origin": "https://evil.example"})
    assert logout.status_code == 403
    same = await alice.post(
        "/api/workshop-data/step",
        json={**body, "data": {"a": "same origin"}},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200
    assert (await alice.get("/api/auth/me")).status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_form_content_types_cannot_write(alice: httpx.AsyncClient, content_type: str) -> None:
    response = await alice.post(
        "/api/workshop-data/step",
        content=b'{"workshopType":"ia","stepId":"ia-3-4","data":{"a":"form"}}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert (await alice.get("/api/workshop-data/step/ia/ia-3-4")).json()["data"] is None


async def test_a_username_or_email_with_surrounding_whitespace_signs_in(
    backend: Backend, make_account: MakeAccount
) -> None:
    account = await make_account()
    app = create_app(backend.settings())
    try:
        async with new_client(app) as client:
            for name in (f"{account.username} ", f"\t{account.username.upper()}\n"):
                answer = await client.post(
                    "/api/auth/login", json={"username": name, "password": account.password}
                )
                assert answer.status_code == 200, (name, answer.text)
                assert answer.json()["user"]["id"] == account.id
    finally:
        await close_app(app)


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie of a response by cookie name, its attributes lower-cased."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        found[name] = header.lower()
    return found


async def test_sign_in_sets_the_session_and_a_device_cookie_the_page_can_delete(
    anon: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    cookies = _set_cookies(await login(anon, account))
    assert set(cookies) == {"wd_session", "wd_session_device"}
    for name, attributes in cookies.items():
        assert "samesite=lax" in attributes, name
        assert "path=/" in attributes, name
        assert "secure" not in attributes, name  # plain http here
    assert "httponly" in cookies["wd_session"]
    assert "httponly" not in cookies["wd_session_device"]
    assert anon.cookies["wd_session"] != anon.cookies["wd_session_device"]


async def test_both_cookies_are_secure_together(
    backend: Backend, make_account: MakeAccount
) -> None:
    account = await make_account()
    app = create_app(backend.settings(session_cookie_secure=True))
    try:
        async with new_client(app) as client:
            cookies = _set_cookies(await login(client, account))
            assert all("secure" in attributes for attributes in cookies.values()), cookies
            signed_out = _set_cookies(await client.post("/api/auth/logout"))
            assert all("secure" in attributes for attributes in signed_out.values()), signed_out
    finally:
        await close_app(app)


@pytest.mark.parametrize("device", [None, "", "a-wrong-device-secret", "the other session's"])
async def test_the_session_cookie_without_its_device_secret_is_refused(
    app: FastAPI, make_account: MakeAccount, device: str | None
) -> None:
    account = await make_account()
    async with new_client(app) as owner, new_client(app) as other, new_client(app) as thief:
        assert (await login(owner, account)).status_code == 200
        assert (await save(owner, {"a": "mine"})).status_code == 200
        assert (await login(other, account)).status_code == 200
        thief.cookies.set("wd_session", owner.cookies["wd_session"])
        if device == "the other session's":
            thief.cookies.set("wd_session_device", other.cookies["wd_session_device"])
        elif device is not None:
            thief.cookies.set("wd_session_device", device)
        for response in (
            await thief.get("/api/auth/me"),
            await thief.get("/api/workshop-data/step/ia/ia-3-4"),
            await save(thief, {"a": "theirs"}),
            await thief.patch(
                "/api/workshop-data/step/ia/ia-3-4",
                content=b'{"a": "theirs"}',
                headers={"Content-Type": "application/merge-patch+json"},
            ),
        ):
            assert response.status_code == 401, (response.request.url, response.text)
            assert response.json()["code"] == "not_authenticated"
        # The owner's session is untouched and nothing was written.
        mine = await owner.get("/api/workshop-data/step/ia/ia-3-4")
        assert mine.status_code == 200
        assert mine.json()["data"] == {"a": "mine"}


async def test_signing_out_with_the_session_cookie_alone_ends_the_session(
    app: FastAPI, make_account: MakeAccount
) -> None:
    account = await make_account()
    async with new_client(app) as page, new_client(app) as kept:
        assert (await login(page, account)).status_code == 200
        kept.cookies.update(session_cookies_of(page.cookies))
        # The page deleted its device cookie first (offline sign-out), then asks the server.
        page.cookies.delete("wd_session_device")
        assert (await page.get("/api/auth/me")).status_code == 401
        signed_out = await page.post("/api/auth/logout")
        assert signed_out.status_code == 200
        assert set(_set_cookies(signed_out)) == {"wd_session", "wd_session_device"}
        # Whoever still holds both cookies holds nothing any more.
        assert (await kept.get("/api/auth/me")).status_code == 401


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('device') / 'device.db'}"
        return
    with scratch_postgres_database("wd_device") as url:
        yield url


async def test_the_device_secret_migration_ends_the_sessions_from_before(
    empty_database: str,
) -> None:
    engine = create_engine(Settings(database_url=empty_database))
    await upgrade_to(engine, "0007_history_source")
    now = utc_now()
    async with engine.begin() as conn:
        user_id = (
            await conn.execute(
                text(
                    "INSERT INTO users (username, name, password_hash, role, created_at, "
                    "updated_at) VALUES ('before', '', 'x', 'participant', :now, :now) "
                    "RETURNING id"
                ),
                {"now": now},
            )
        ).scalar_one()
        await conn.execute(
            text(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, "
                "last_seen_at) VALUES (:hash, :user_id, :now, :later, :now)"
            ),
            {"hash": "0" * 64, "user_id": user_id, "now": now, "later": now + timedelta(days=1)},
        )
    await upgrade_to_head(engine)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(sessions))).scalar() == 0
        started = await start_session(conn, user_id, 3600)
        found = await user_for_session(conn, started.token, started.device, 3600)
        assert found is not None and found.id == user_id
        assert await user_for_session(conn, started.token, "wrong", 3600) is None
    await engine.dispose()
