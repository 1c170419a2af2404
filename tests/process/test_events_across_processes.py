"""The live events between server processes: two `workshop-data serve` processes on different
ports share one PostgreSQL and one Redis (`WORKSHOP_DATA_EVENTS_URL`); a save through one
reaches a viewer connected to the other, scoped as ever, and a viewer that moves to the other
process resumes by Last-Event-ID without a gap (the cursors are the Redis stream's)."""

import os
import uuid
from contextlib import ExitStack

import httpx
import pytest
import redis

from tests.api.people import set_facilitator
from tests.events_client import open_stream
from tests.server_process import ServerProcess
from tests.support import Account, Backend, MakeAccount

pytestmark = pytest.mark.process

REDIS_URL = os.environ.get("WORKSHOP_DATA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    return REDIS_URL


async def _signed_in(url: str, account: Account) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=10)
    response = await client.post(
        "/api/auth/login", json={"username": account.username, "password": account.password}
    )
    assert response.status_code == 200, response.text
    return client


async def _save(client: httpx.AsyncClient, counter: int) -> int:
    response = await client.post(
        "/api/workshop-data/step",
        json={"workshopType": "ast", "stepId": "2-1", "data": {"n": counter}},
    )
    assert response.status_code == 200, response.text
    version: int = response.json()["data"]["version"]
    return version


async def test_a_save_through_one_process_reaches_a_viewer_of_the_other(
    backend: Backend, make_account: MakeAccount, redis_url: str
) -> None:
    if backend.name != "postgresql":
        pytest.skip("two processes share PostgreSQL")
    alice, bob = await make_account(), await make_account()
    fran, gus = await make_account("facilitator"), await make_account("facilitator")
    # A channel of its own: other runs sharing this Redis never cross this test.
    env = {"WORKSHOP_DATA_EVENTS_URL": redis_url, "WORKSHOP_DATA_EVENTS_CHANNEL": uuid.uuid4().hex}
    with ExitStack() as stack:
        first, second = (
            stack.enter_context(ServerProcess(backend.database_url, workers=2, env=env))
            for _ in range(2)
        )
        await set_facilitator(backend, alice.id, fran.id)
        await set_facilitator(backend, bob.id, gus.id)
        clients = [
            await _signed_in(first.url, alice),
            await _signed_in(first.url, bob),
            await _signed_in(second.url, alice),
            await _signed_in(second.url, fran),
        ]
        alice_on_first, bob_on_first, alice_on_second, fran_on_second = clients
        try:
            async with (
                open_stream(alice_on_second) as own,
                open_stream(fran_on_second) as facilitator,
            ):
                await _save(bob_on_first, 1)
                version = await _save(alice_on_first, 1)
                for stream in (own, facilitator):
                    block = await stream.event()
                    assert block.event == "step"
                    assert (block.data["userId"], block.data["version"]) == (alice.id, version)
                assert await facilitator.nothing_within(0.5)
                last_seen = block.id
            # Missed while away, resumed on the other process: the same cursors there.
            await _save(alice_on_second, 2)
            await _save(alice_on_second, 3)
            async with open_stream(alice_on_first, last_event_id=last_seen) as resumed:
                versions = [(await resumed.event()).data["version"] for _ in range(2)]
                assert versions == [version + 1, version + 2]
        finally:
            for client in clients:
                await client.aclose()
