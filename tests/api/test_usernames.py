"""Usernames are unique in any letter case and sign in in any case; new passwords must be hard
to guess and e-mail addresses well-formed, wherever an account is created (one rule, in
users/service.py, for the command line and the admin API)."""

import uuid

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support import Backend, scratch_postgres_database
from workshop_data.auth import service as auth_service
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to, upgrade_to_head
from workshop_data.db.problems import MigrationBlocked
from workshop_data.db.tables import users
from workshop_data.errors import Conflict, InvalidInput
from workshop_data.settings import Settings
from workshop_data.timeutil import utc_now
from workshop_data.users import service as users_service

STRONG = "tmp-quiet-harbor-71"


def token() -> str:
    return uuid.uuid4().hex[:8]


async def test_a_username_in_another_case_is_taken(backend: Backend) -> None:
    name = f"tmp-maria-{token()}"
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        await users_service.create_user(conn, username=name, password=STRONG)
        with pytest.raises(Conflict, match="in any letter case"):
            await users_service.create_user(conn, username=name.upper(), password=STRONG)
        found = await users_service.get_user_by_username(conn, name.upper())
        assert found is not None
        assert found.username == name
        count = len(
            (await conn.execute(select(users.c.id).where(users.c.username.ilike(name)))).all()
        )
    await engine.dispose()
    assert count == 1


async def test_sign_in_takes_the_username_in_any_case(
    backend: Backend, anon: httpx.AsyncClient
) -> None:
    name = f"tmp-Kim-{token()}"
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        await users_service.create_user(
            conn, username=name, password=STRONG, email=f"{name}@example.org"
        )
    await engine.dispose()
    for typed in (name, name.upper(), name.lower()):
        signed_in = await anon.post("/api/auth/login", json={"username": typed, "password": STRONG})
        assert signed_in.status_code == 200, typed
        assert signed_in.json()["user"]["username"] == name
    wrong = await anon.post("/api/auth/login", json={"username": name.upper(), "password": "x" * 9})
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "common password"),
        ("12345678", "common password"),
        ("qwertyuiop", "ommon"),
        ("tmp-weak-name", "too easy to guess"),  # mostly the username itself
    ],
)
async def test_guessable_passwords_are_refused_with_the_reason(
    backend: Backend, root: httpx.AsyncClient, password: str, why: str
) -> None:
    username = "tmp-weak-name"
    created = await root.post("/api/admin/users", json={"username": username, "password": password})
    assert created.status_code == 400
    error = created.json()
    assert error["code"] == "invalid_password"
    assert "too easy to guess" in error["error"]
    assert why in error["error"]
    assert (await root.get("/api/admin/users", params={"q": username})).json()["total"] == 0


@pytest.mark.parametrize("email", ["nope", "a@b", "two@@example.org", "x@example..org"])
async def test_malformed_emails_are_refused(root: httpx.AsyncClient, email: str) -> None:
    created = await root.post(
        "/api/admin/users", json={"username": f"tmp-{token()}", "password": STRONG, "email": email}
    )
    assert created.status_code == 400
    assert created.json()["code"] == "invalid_email"


async def test_admin_api_refuses_a_username_in_another_case(root: httpx.AsyncClient) -> None:
    name = f"tmp-ana-{token()}"
    first = await root.post("/api/admin/users", json={"username": name, "password": STRONG})
    assert first.status_code == 201
    second = await root.post(
        "/api/admin/users", json={"username": name.upper(), "password": STRONG}
    )
    assert second.status_code == 409
    assert second.json()["code"] == "user_exists"


async def test_weak_new_password_changes_nothing(backend: Backend) -> None:
    name = f"tmp-pia-{token()}"
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        user = await users_service.create_user(conn, username=name, password=STRONG)
        before = (
            await conn.execute(select(users.c.password_hash).where(users.c.id == user.id))
        ).scalar_one()
        with pytest.raises(InvalidInput, match="too easy to guess"):
            await auth_service.set_password(conn, user, "12345678")
        after = (
            await conn.execute(select(users.c.password_hash).where(users.c.id == user.id))
        ).scalar_one()
    await engine.dispose()
    assert after == before


async def unique_lower_index_exists(conn: AsyncConnection) -> bool:
    if conn.dialect.name == "sqlite":
        found = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    else:
        found = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    definition = (await conn.execute(text(found), {"name": "uq_users_username_lower"})).scalar()
    return definition is not None and "UNIQUE" in definition.upper() and "lower(" in definition


async def test_the_migrated_schema_has_the_unique_lower_index(backend: Backend) -> None:
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        assert await unique_lower_index_exists(conn)
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('case') / 'case.db'}"
        return
    with scratch_postgres_database("wd_case") as url:
        yield url


async def test_migration_stops_on_usernames_that_differ_only_in_case(
    empty_database: str,
) -> None:
    engine = create_engine(Settings(database_url=empty_database))
    await upgrade_to(engine, "0004_step_history")
    now = utc_now()
    async with engine.begin() as conn:
        for username in ("maria", "MARIA", "Maria", "kim"):
            await conn.execute(
                insert(users).values(
                    username=username,
                    name="",
                    password_hash="x",
                    role="participant",
                    created_at=now,
                    updated_at=now,
                )
            )
    with pytest.raises(MigrationBlocked) as blocked:
        await upgrade_to_head(engine)
    message = str(blocked.value)
    assert "1 names are used by accounts that differ only in case" in message
    assert "'maria', 'MARIA', 'Maria'" in message
    assert "'kim'" not in message

    async def lower_index_exists() -> bool:
        async with engine.connect() as conn:
            return await unique_lower_index_exists(conn)

    assert not await lower_index_exists()
    async with engine.begin() as conn:
        await conn.execute(users.delete().where(users.c.username.in_(["MARIA", "Maria"])))
    await upgrade_to_head(engine)
    assert await lower_index_exists()
    await engine.dispose()
