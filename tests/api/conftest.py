from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.api.people import set_facilitator
from tests.api.support import ClientFor, login, new_client
from tests.support import Account, Backend, session_cookies_of
from workshop_data.app import close_app, create_app
from workshop_data.db.engine import create_engine
from workshop_data.users import service as users_service

_ACCOUNTS = {
    "alice": "participant",
    "bob": "participant",
    "root": "admin",
    # Facilitators for the role tests (tests/api/people.py assigns alice to fran).
    "fran": "facilitator",
    "gus": "facilitator",
}


@pytest.fixture(scope="session")
async def accounts(migrated_backend: Backend) -> dict[str, Account]:
    """Accounts that live for the whole run (hashing passwords is deliberately slow)."""
    engine = create_engine(migrated_backend.settings())
    found: dict[str, Account] = {}
    async with engine.connect() as conn:
        for username, role in _ACCOUNTS.items():
            password = f"{username}-quiet-harbor-71"
            user = await users_service.get_user_by_username(conn, username)
            if user is None:
                user = await users_service.create_user(
                    conn,
                    username=username,
                    password=password,
                    role=role,
                    name=username.title(),
                    email=f"{username}@example.org",
                )
            found[username] = Account(user.id, username, password, role)
    await engine.dispose()
    return found


@pytest.fixture(scope="session")
def session_cookies() -> dict[tuple[str, str], dict[str, str]]:
    return {}


@pytest.fixture
async def app(backend: Backend) -> AsyncIterator[FastAPI]:
    application = create_app(backend.settings())
    yield application
    await close_app(application)


@pytest.fixture
async def anon(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as client:
        yield client


@pytest.fixture
async def client_for(
    app: FastAPI, backend: Backend, session_cookies: dict[tuple[str, str], dict[str, str]]
) -> AsyncIterator[ClientFor]:
    """A signed-in client for an account; the session is reused across tests."""
    clients: list[httpx.AsyncClient] = []

    async def make(account: Account) -> httpx.AsyncClient:
        client = new_client(app)
        clients.append(client)
        key = (backend.name, account.username)
        if key in session_cookies:
            client.cookies.update(session_cookies[key])
        else:
            response = await login(client, account)
            assert response.status_code == 200, response.text
            if not account.username.startswith("tmp-"):
                session_cookies[key] = session_cookies_of(response.cookies)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def alice(client_for: ClientFor, accounts: dict[str, Account]) -> httpx.AsyncClient:
    return await client_for(accounts["alice"])


@pytest.fixture
async def bob(client_for: ClientFor, accounts: dict[str, Account]) -> httpx.AsyncClient:
    return await client_for(accounts["bob"])


@pytest.fixture
async def root(client_for: ClientFor, accounts: dict[str, Account]) -> httpx.AsyncClient:
    return await client_for(accounts["root"])


@pytest.fixture
async def fran_facilitates_alice(
    backend: Backend, accounts: dict[str, Account]
) -> AsyncIterator[None]:
    """For the test, alice's facilitator is fran (gus facilitates nobody)."""
    await set_facilitator(backend, accounts["alice"].id, accounts["fran"].id)
    yield
    await set_facilitator(backend, accounts["alice"].id, None)
