"""The sign-in throttle under parallel attack, its three buckets (account from one address,
address, account from every address), a stranger against the account's owner, successes that
give their count back, and the bounded password hashing. Verifications are counted, never
timed."""

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import update

from tests.api.support import new_client
from tests.support import Backend, MakeAccount
from workshop_data.app import close_app, create_app
from workshop_data.app_services import services_of
from workshop_data.db.tables import users
from workshop_data.settings import Settings
from workshop_data.users import passwords


class CountingHasher(PasswordHasher):
    """A cheap argon2 that counts its verifications and how many ran at once."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.delay = delay
        self.verified = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.verified += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.delay)
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


# The shipped limits (tests/support.py raises them for the rest of the suite).
DEFAULT_LIMITS = {
    name: Settings.model_fields[name].default
    for name in (
        "login_account_address_rate_limit",
        "login_address_rate_limit",
        "login_account_rate_limit",
    )
}


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    passwords.absent_user_hash.cache_clear()


@pytest.fixture
def make_app(backend: Backend) -> Iterator[list[FastAPI]]:
    apps: list[FastAPI] = []
    yield apps
    for app in apps:
        services_of(app).password_hashing.shutdown()


async def _app(
    apps: list[FastAPI], backend: Backend, hasher: CountingHasher, **settings: object
) -> FastAPI:
    app = create_app(backend.settings(**settings))
    services_of(app).password_hashing.hasher = hasher
    apps.append(app)
    return app


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


async def test_thirty_parallel_wrong_passwords_check_at_most_the_limit(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    hasher = CountingHasher()
    app = await _app(make_app, backend, hasher, login_account_address_rate_limit="10/5minutes")
    try:
        async with new_client(app) as client:
            answers = await asyncio.gather(
                *(_login(client, account.username, f"wrong-{i}") for i in range(30))
            )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [401] * 10 + [429] * 20
        assert hasher.verified == 10
        assert all(a.headers["retry-after"].isdigit() for a in answers if a.status_code == 429)
    finally:
        await close_app(app)


async def test_username_and_email_are_one_account(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    email = f"{account.username}@example.org"
    app = await _app(
        make_app, backend, CountingHasher(), login_account_address_rate_limit="3/5minutes"
    )
    try:
        async with services_of(app).engine.connect() as conn:
            await conn.execute(update(users).where(users.c.id == account.id).values(email=email))
            await conn.commit()
        async with new_client(app) as client:
            assert (await _login(client, account.username, "wrong")).status_code == 401
            assert (await _login(client, email, "wrong")).status_code == 401
            assert (await _login(client, account.username, "wrong")).status_code == 401
            # The e-mail address is no second bucket: the account has had its three.
            assert (await _login(client, email, "wrong")).status_code == 429
            assert (await _login(client, account.username, account.password)).status_code == 429
    finally:
        await close_app(app)


async def test_one_address_trying_many_names_is_throttled(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    hasher = CountingHasher()
    app = await _app(make_app, backend, hasher, login_address_rate_limit="5/5minutes")
    try:
        async with new_client(app) as client:
            for i in range(5):
                assert (await _login(client, f"nobody-{i}", "guess")).status_code == 401
            refused = await _login(client, "nobody-else", "guess")
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
            # The address is throttled whatever account it names, before any verification.
            assert (await _login(client, account.username, account.password)).status_code == 429
            assert hasher.verified == 5
    finally:
        await close_app(app)


async def test_an_unknown_user_costs_one_verification_like_a_known_one(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    hasher = CountingHasher()
    app = await _app(make_app, backend, hasher)
    try:
        async with new_client(app) as client:
            assert (await _login(client, "nobody-at-all", "guess")).status_code == 401
            assert hasher.verified == 1
            assert (await _login(client, account.username, "wrong")).status_code == 401
            assert hasher.verified == 2
    finally:
        await close_app(app)


async def test_password_hashing_runs_at_most_the_configured_number_at_once(
    backend: Backend, make_app: list[FastAPI]
) -> None:
    hasher = CountingHasher(delay=0.05)
    app = await _app(make_app, backend, hasher, password_hash_concurrency=2)
    try:
        async with new_client(app) as client:
            answers = await asyncio.gather(*(_login(client, f"flood-{i}", "x") for i in range(12)))
        assert [a.status_code for a in answers] == [401] * 12
        assert hasher.verified == 12
        assert hasher.most_at_once == 2
    finally:
        await close_app(app)


async def test_sign_ins_beyond_the_waiting_limit_get_503_with_retry_after(
    backend: Backend, make_app: list[FastAPI]
) -> None:
    hasher = CountingHasher(delay=0.2)
    app = await _app(
        make_app, backend, hasher, password_hash_concurrency=1, password_hash_max_waiting=2
    )
    try:
        async with new_client(app) as client:
            answers = await asyncio.gather(*(_login(client, f"flood-{i}", "x") for i in range(8)))
        busy = [a for a in answers if a.status_code == 503]
        assert len(busy) >= 4  # one hashing, two waiting; the rest refused
        assert {a.json()["code"] for a in busy} == {"busy"}
        assert all(int(a.headers["retry-after"]) >= 1 for a in busy)
        assert hasher.verified == len(answers) - len(busy)
        assert hasher.most_at_once == 1
    finally:
        await close_app(app)


async def test_a_strangers_wrong_passwords_leave_the_owner_signing_in_from_elsewhere(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    hasher = CountingHasher()
    app = await _app(make_app, backend, hasher, **DEFAULT_LIMITS)
    try:
        async with new_client(app, "198.51.100.7") as stranger:
            answers = [await _login(stranger, account.username, f"guess-{i}") for i in range(25)]
            # From the stranger's address, ten guesses; then that address waits.
            assert [a.status_code for a in answers] == [401] * 10 + [429] * 15
            assert (await _login(stranger, account.username, account.password)).status_code == 429
        async with new_client(app, "203.0.113.20") as owner:
            signed_in = await _login(owner, account.username, account.password)
            assert signed_in.status_code == 200, signed_in.text
            assert (await owner.get("/api/auth/me")).json()["user"]["id"] == account.id
        assert hasher.verified == 11
    finally:
        await close_app(app)


async def test_fifteen_successful_sign_ins_in_a_row_all_succeed(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    app = await _app(make_app, backend, CountingHasher(), **DEFAULT_LIMITS)
    try:
        async with new_client(app) as client:
            for _ in range(15):
                answer = await _login(client, account.username, account.password)
                assert answer.status_code == 200, answer.text
    finally:
        await close_app(app)


async def test_a_success_gives_back_its_own_attempt_only(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    app = await _app(
        make_app, backend, CountingHasher(), login_account_address_rate_limit="3/5minutes"
    )
    try:
        async with new_client(app) as client:
            assert (await _login(client, account.username, "wrong-1")).status_code == 401
            assert (await _login(client, account.username, "wrong-2")).status_code == 401
            assert (await _login(client, account.username, account.password)).status_code == 200
            # The two failures still count: one more guess, then the limit.
            assert (await _login(client, account.username, "wrong-3")).status_code == 401
            assert (await _login(client, account.username, "wrong-4")).status_code == 429
    finally:
        await close_app(app)


async def test_guesses_from_many_addresses_reach_the_accounts_ceiling(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    other = await make_account()
    hasher = CountingHasher()
    app = await _app(
        make_app,
        backend,
        hasher,
        login_account_address_rate_limit="2/5minutes",
        login_account_rate_limit="6/5minutes",
    )
    try:
        for host in range(3):
            async with new_client(app, f"192.0.2.{host + 1}") as client:
                for _ in range(2):
                    assert (await _login(client, account.username, "guess")).status_code == 401
        async with new_client(app, "192.0.2.99") as fresh:
            refused = await _login(fresh, account.username, account.password)
            assert refused.status_code == 429
            assert "for this account" in refused.json()["error"]
            # The ceiling is the account's: another account from that address signs in, and
            # the refused attempt cost that address nothing.
            assert (await _login(fresh, other.username, other.password)).status_code == 200
        assert hasher.verified == 7
    finally:
        await close_app(app)


async def test_a_refused_attempt_costs_its_address_nothing(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    app = await _app(
        make_app,
        backend,
        CountingHasher(),
        login_account_address_rate_limit="2/5minutes",
        login_address_rate_limit="5/5minutes",
    )
    try:
        async with new_client(app) as client:
            answers = [await _login(client, account.username, "guess") for _ in range(10)]
            assert [a.status_code for a in answers] == [401] * 2 + [429] * 8
            # Two places of the address's five are taken, not ten: three more names.
            for i in range(3):
                assert (await _login(client, f"nobody-{i}", "guess")).status_code == 401
            assert (await _login(client, "nobody-else", "guess")).status_code == 429
    finally:
        await close_app(app)


async def test_spellings_of_a_name_that_is_no_account_are_one_bucket(
    backend: Backend, make_app: list[FastAPI]
) -> None:
    hasher = CountingHasher()
    app = await _app(make_app, backend, hasher, login_account_address_rate_limit="3/5minutes")
    try:
        async with new_client(app) as client:
            for name in ("Nobody-Here", " nobody-here", "NOBODY-HERE\t"):
                assert (await _login(client, name, "guess")).status_code == 401
            assert (await _login(client, "nobody-here ", "guess")).status_code == 429
            # Another unknown name is another bucket.
            assert (await _login(client, "someone-else", "guess")).status_code == 401
        assert hasher.verified == 4
    finally:
        await close_app(app)


async def test_aliases_with_surrounding_whitespace_are_the_one_account(
    backend: Backend, make_account: MakeAccount, make_app: list[FastAPI]
) -> None:
    account = await make_account()
    app = await _app(
        make_app, backend, CountingHasher(), login_account_address_rate_limit="3/5minutes"
    )
    try:
        async with new_client(app) as client:
            for name in (f" {account.username}", account.username.upper(), f"{account.username} "):
                assert (await _login(client, name, "wrong")).status_code == 401
            assert (await _login(client, account.username, account.password)).status_code == 429
    finally:
        await close_app(app)
