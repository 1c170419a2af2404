"""No password, password hash, session token or token hash reaches a log, on any error path:
database errors (their statements carry hashes as parameters), an unavailable database, bad
input, failed and throttled sign-ins. SQLAlchemy's statement log is on (INFO) for the test, so
a statement's parameters would show there too were they not hidden."""

import hashlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select, text

from tests.api.support import new_client
from tests.support import Backend, MakeAccount
from workshop_data.app import close_app, create_app
from workshop_data.app_services import services_of
from workshop_data.db.tables import sessions, users
from workshop_data.users import passwords

REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse_sessions BEFORE INSERT ON sessions "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        "CREATE TRIGGER refuse_touch BEFORE UPDATE ON sessions "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
        "CREATE TRIGGER refuse_sessions BEFORE INSERT OR UPDATE ON sessions "
        "FOR EACH ROW EXECUTE FUNCTION refuse()",
        "CREATE TRIGGER refuse_users BEFORE INSERT ON users "
        "FOR EACH ROW WHEN (NEW.username LIKE 'tmp-refused%') EXECUTE FUNCTION refuse()",
    ],
}
UNDO = {
    "sqlite": ["DROP TRIGGER refuse_sessions", "DROP TRIGGER refuse_touch"],
    "postgresql": [
        "DROP TRIGGER refuse_sessions ON sessions",
        "DROP TRIGGER refuse_users ON users",
        "DROP FUNCTION refuse()",
    ],
}


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
async def logged_app(backend: Backend) -> AsyncIterator[FastAPI]:
    app = create_app(backend.settings(login_account_address_rate_limit="3/minute"))
    yield app
    await close_app(app)


async def _run(app: FastAPI, statements: list[str]) -> None:
    async with services_of(app).engine.connect() as conn:
        for statement in statements:
            await conn.execute(text(statement))
        await conn.commit()


async def test_no_error_path_logs_a_secret(
    backend: Backend,
    logged_app: FastAPI,
    make_account: MakeAccount,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = logged_app
    account = await make_account()
    admin = await make_account("admin")
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement, logged
    secrets: list[str] = [account.password, admin.password]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        new_client(app) as admin_client,
    ):
        signed_in = await client.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert signed_in.status_code == 200
        token = signed_in.cookies["wd_session"]
        device = signed_in.cookies["wd_session_device"]
        admin_login = await admin_client.post(
            "/api/auth/login", json={"username": admin.username, "password": admin.password}
        )
        admin_token = admin_login.cookies["wd_session"]
        admin_device = admin_login.cookies["wd_session_device"]
        session_secrets = [token, device, admin_token, admin_device]
        secrets += session_secrets
        secrets += [hashlib.sha256(t.encode()).hexdigest() for t in session_secrets]

        # Failed and throttled sign-ins, bad input holding a password.
        for _ in range(4):
            await client.post(
                "/api/auth/login", json={"username": account.username, "password": "wrong-one"}
            )
        bad = await client.post(
            "/api/auth/login",
            content=b'{"username": "x", "password": "' + account.password.encode() + b'\\u0000"}',
            headers={"Content-Type": "application/json"},
        )
        assert bad.status_code == 400

        # Database errors whose statements carry a token hash or a password hash.
        await _run(app, REFUSE["sqlite" if backend.name == "sqlite" else "postgresql"])
        try:
            client.cookies.clear()
            refused = await client.post(
                "/api/auth/login", json={"username": admin.username, "password": admin.password}
            )
            assert refused.status_code == 500
            created = await admin_client.post(
                "/api/admin/users",
                json={"username": "tmp-refused-1", "password": "refused-password-1"},
            )
            secrets.append("refused-password-1")
            assert created.status_code in (201, 500)
        finally:
            await _run(app, UNDO["sqlite" if backend.name == "sqlite" else "postgresql"])

        async with services_of(app).engine.connect() as conn:
            secrets += list(
                (
                    await conn.execute(
                        select(users.c.password_hash).where(users.c.id.in_([account.id, admin.id]))
                    )
                ).scalars()
            )
            assert (await conn.execute(select(sessions.c.token_hash))).first() is not None

    logged = caplog.text + "".join(
        r.exc_text or "" for r in caplog.records if r.exc_info or r.exc_text
    )
    assert "refused by the test" in logged, "the database errors were provoked and logged"
    assert "parameters hidden" in logged
    leaked = [secret for secret in secrets if secret in logged]
    assert leaked == []
