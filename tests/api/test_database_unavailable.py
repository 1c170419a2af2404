"""The database goes away (never there, or dropped while serving): every route that needs it
answers 503 `database_unavailable` with Retry-After, in the common error shape, and the same
app recovers without a restart once the database is back. Both backends."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.api.support import new_client
from tests.api.test_hostile_input import SAMPLES, _fill, operations
from tests.support import on_postgres, scratch_postgres_database
from workshop_data.app import close_app, create_app
from workshop_data.app_services import services_of
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

# Routes that answer without the database.
NO_DATABASE = {("GET", "/healthz")}
# /readyz says the database is not there in its own words.
READINESS = ("GET", "/readyz")


async def _every_route_is_unavailable(app: FastAPI) -> list[str]:
    problems: list[str] = []
    names = {
        "owner": "1",
        "admin": "root",
        "admin_password": "x",
        "token": "t",
        "upload": "0" * 32,
    }
    async with new_client(app) as client:
        client.cookies.set("wd_session", "a-session-token-the-database-would-know")
        client.cookies.set("wd_session_device", "a-device-secret-it-would-know")
        for route in sorted(operations(app)):
            method, _ = route
            sample = SAMPLES[route]
            body = _fill(sample.body, names)
            content = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if content else {}
            if sample.raw is not None:
                content, headers = sample.raw[0], {"Content-Type": sample.raw[1]}
            response = await client.request(
                method, _fill(sample.path, names), content=content, headers=headers
            )
            label = f"{method} {sample.path}"
            if route in NO_DATABASE:
                if response.status_code != 200:
                    problems.append(f"{label}: {response.status_code}")
                continue
            if response.status_code != 503:
                problems.append(f"{label}: {response.status_code} {response.text[:120]}")
                continue
            error = response.json()
            expected = "not_ready" if route == READINESS else "database_unavailable"
            if error["success"] is not False or error["code"] != expected:
                problems.append(f"{label}: {error}")
            if route != READINESS and not response.headers.get("retry-after", "").isdigit():
                problems.append(f"{label}: no Retry-After")
            if response.headers.get("x-content-type-options") != "nosniff":
                problems.append(f"{label}: no security headers")
    return problems


async def _recovered(app: FastAPI) -> None:
    async with new_client(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        login = await client.post(
            "/api/auth/login", json={"username": "back", "password": "back-quiet-harbor-71"}
        )
        assert login.status_code == 200, login.text
        saved = await client.post(
            "/api/workshop-data/step",
            json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"after": "recovery"}},
        )
        assert saved.status_code == 200, saved.text


async def _prepare(app: FastAPI) -> None:
    await upgrade_to_head(services_of(app).engine)
    async with services_of(app).engine.connect() as conn:
        await users_service.create_user(conn, username="back", password="back-quiet-harbor-71")


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        login_account_address_rate_limit="1000/minute",
        sqlite_synchronous="NORMAL",
    )


async def test_sqlite_file_unreachable_then_back(tmp_path: Path) -> None:
    directory = tmp_path / "not-yet"
    app = create_app(_settings(f"sqlite:///{directory / 'workshop-data.db'}"))
    try:
        assert await _every_route_is_unavailable(app) == []
        directory.mkdir()
        await _prepare(app)
        await _recovered(app)
    finally:
        await close_app(app)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with scratch_postgres_database("wd_gone") as url:
        yield url


async def test_postgresql_database_dropped_while_serving_then_back(postgres_url: str) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    app = create_app(_settings(postgres_url))
    try:
        await _prepare(app)
        await _recovered(app)  # connections are pooled now
        on_postgres(f'DROP DATABASE "{name}" WITH (FORCE)')
        assert await _every_route_is_unavailable(app) == []
        on_postgres(f'CREATE DATABASE "{name}"')
        await _prepare(app)
        await _recovered(app)
    finally:
        await close_app(app)


async def test_postgresql_server_unreachable() -> None:
    # Nothing listens on port 1 of the loopback address.
    app = create_app(_settings("postgresql://postgres@127.0.0.1:1/none"))
    try:
        assert await _every_route_is_unavailable(app) == []
    finally:
        await close_app(app)
