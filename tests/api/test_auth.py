"""Sign-in, sessions, throttling and same-origin protection."""

import httpx
import pytest
from fastapi import FastAPI

from tests.api.support import login, new_client, save
from tests.support import Account, Backend, MakeAccount
from workshop_data.app import close_app, create_app


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
        token_one = (await login(first, account)).cookies["wd_session"]
        token_two = (await login(first, account)).cookies["wd_session"]
        assert token_one != token_two
        # The session a re-login replaced is revoked.
        second.cookies.set("wd_session", token_one)
        assert (await second.get("/api/auth/me")).status_code == 401

        assert (await first.post("/api/auth/logout")).status_code == 200
        second.cookies.set("wd_session", token_two)
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
        token = (await login(client, account)).cookies["wd_session"]
    async with app.state.engine.connect() as conn:
        stored = (await conn.execute(select(sessions.c.token_hash))).scalars().all()
    assert token not in stored
    assert token_hash(token) in stored


async def test_expired_session_is_refused(backend: Backend, make_account: MakeAccount) -> None:
    from sqlalchemy import update

    from workshop_data.db.tables import sessions
    from workshop_data.timeutil import utc_now

    account = await make_account()
    app = create_app(backend.settings())
    try:
        async with new_client(app) as client:
            await login(client, account)
            async with app.state.engine.connect() as conn:
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
