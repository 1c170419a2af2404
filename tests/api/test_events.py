"""GET /api/events and POST /api/events/presence against a real server (uvicorn in the test's
loop), on SQLite and PostgreSQL: who receives which event, resuming by Last-Event-ID, the end
of a stream with its session, the caps, the heartbeat, presence."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest

from tests.events_client import EventReader, open_stream, served
from tests.support import Account, Backend, MakeAccount
from workshop_data.app import close_app, create_app
from workshop_data.db.engine import create_engine
from workshop_data.users import service as users_service

Serve = Callable[..., Awaitable[str]]
SignIn = Callable[[str, Account], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def serve(backend: Backend) -> AsyncIterator[Serve]:
    """Serves an app with these settings; its base URL."""
    async with AsyncExitStack() as stack:

        async def start(**settings: object) -> str:
            app = create_app(backend.settings(**{"events_stream_max_seconds": 60, **settings}))
            stack.push_async_callback(close_app, app)
            return await stack.enter_async_context(served(app))

        yield start


@pytest.fixture
async def sign_in() -> AsyncIterator[SignIn]:
    clients: list[httpx.AsyncClient] = []

    async def make(url: str, account: Account) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=url, timeout=10)
        clients.append(client)
        response = await client.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert response.status_code == 200, response.text
        return client

    yield make
    for client in clients:
        await client.aclose()


async def _save(
    client: httpx.AsyncClient, step_id: str = "2-1", device: str | None = None, **data: object
) -> int:
    headers = {"X-Device-Id": device} if device else {}
    response = await client.post(
        "/api/workshop-data/step",
        json={"workshopType": "ast", "stepId": step_id, "data": data or {"a": 1}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    version: int = response.json()["data"]["version"]
    return version


async def _assign(admin: httpx.AsyncClient, participant: Account, facilitator: Account) -> None:
    response = await admin.patch(
        f"/api/admin/users/{participant.id}", json={"facilitatorId": facilitator.id}
    )
    assert response.status_code == 200, response.text


async def _step_event(reader: EventReader, user: Account, version: int) -> dict[str, object]:
    block = await reader.event()
    assert block.event == "step", block
    data: dict[str, object] = block.data
    assert data["userId"] == user.id
    assert data["version"] == version
    return data


async def test_the_stream_is_an_event_stream_proxies_pass_on(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve()
    client = await sign_in(url, await make_account())
    async with client.stream("GET", "/api/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        opening = await EventReader(response).block()
        assert opening.fields["retry"] == "3000"
        assert opening.id


async def test_without_a_session_401_and_no_stream(serve: Serve) -> None:
    url = await serve()
    async with httpx.AsyncClient(base_url=url) as anonymous:
        response = await anonymous.get("/api/events")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        # The session cookie without the device cookie is no session either.
        anonymous.cookies.set("wd_session", "made-up")
        assert (await anonymous.get("/api/events")).status_code == 401


async def test_a_participant_hears_their_own_saves_only(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve()
    alice, bob = await make_account(), await make_account()
    alice_laptop, alice_phone = await sign_in(url, alice), await sign_in(url, alice)
    bob_client = await sign_in(url, bob)
    async with open_stream(alice_laptop) as stream:
        await _save(bob_client, secret="bob's answer")
        version = await _save(alice_phone, device="phone-1", answer="typed on the phone")
        data = await _step_event(stream, alice, version)
        assert data == {
            "userId": alice.id,
            "workshopType": "ast",
            "stepId": "2-1",
            "version": version,
            "savedAt": data["savedAt"],
            "deviceId": "phone-1",
        }
        assert str(data["savedAt"]).endswith("Z")
        # bob's save came first and never arrived; nothing else is on its way.
        assert await stream.nothing_within(0.3)


async def test_a_facilitator_hears_only_their_participants_also_after_reassignment(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount, accounts: dict[str, Account]
) -> None:
    url = await serve()
    alice, bob = await make_account(), await make_account()
    fran, gus = await make_account("facilitator"), await make_account("facilitator")
    admin = await sign_in(url, accounts["root"])
    await _assign(admin, alice, fran)
    await _assign(admin, bob, gus)
    alice_client, bob_client = await sign_in(url, alice), await sign_in(url, bob)
    fran_client, gus_client = await sign_in(url, fran), await sign_in(url, gus)
    async with open_stream(fran_client) as fran_stream, open_stream(gus_client) as gus_stream:
        await _save(bob_client, secret="bob's")
        version = await _save(alice_client, device="alice-tab", secret="alice's")
        data = await _step_event(fran_stream, alice, version)
        # Who, which step, which version, when; never the answer, nor the device.
        assert "secret" not in str(data) and data["deviceId"] is None
        assert (await _step_event(gus_stream, bob, 1))["userId"] == bob.id
        assert await fran_stream.nothing_within(0.3)
        assert await gus_stream.nothing_within(0.1)

        # alice moves to gus: from her next save on, gus hears it and fran does not.
        await _assign(admin, alice, gus)
        version = await _save(alice_client, secret="after the move")
        await _step_event(gus_stream, alice, version)
        assert await fran_stream.nothing_within(0.5)


async def test_an_admin_hears_everyone(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount, accounts: dict[str, Account]
) -> None:
    url = await serve()
    alice, bob = await make_account(), await make_account()
    admin = await sign_in(url, accounts["root"])
    alice_client, bob_client = await sign_in(url, alice), await sign_in(url, bob)
    async with open_stream(admin) as stream:
        await _save(alice_client)
        await _save(bob_client)
        first, second = await stream.event(), await stream.event()
        assert {first.data["userId"], second.data["userId"]} == {alice.id, bob.id}
        assert first.data["deviceId"] is None


async def test_progress_and_participation_events(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve()
    alice = await make_account()
    laptop, phone = await sign_in(url, alice), await sign_in(url, alice)
    async with open_stream(laptop) as stream:
        response = await phone.put(
            "/api/navigation-progress/ia",
            json={"currentStepId": "ia-1-1", "completedSteps": [], "unlockedSteps": ["ia-1-1"]},
        )
        assert response.status_code == 200, response.text
        block = await stream.event()
        assert block.event == "progress"
        assert block.data["userId"] == alice.id and block.data["workshopType"] == "ia"
        response = await phone.post("/api/workshop-data/complete/ast")
        assert response.status_code == 200, response.text
        block = await stream.event()
        assert block.event == "participation"
        assert block.data["completed"] is True and block.data["workshopType"] == "ast"


async def test_resume_by_last_event_id_replays_what_was_missed(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve()
    alice, bob = await make_account(), await make_account()
    viewer, writer = await sign_in(url, alice), await sign_in(url, alice)
    bob_client = await sign_in(url, bob)
    async with open_stream(viewer) as stream:
        await _save(writer)
        last_seen = (await stream.event()).id
    assert last_seen is not None
    await _save(writer, a=2)
    await _save(bob_client)
    await _save(writer, step_id="2-2")
    await asyncio.sleep(0.1)  # the events reach the hub after the saves' answers
    async with open_stream(viewer, last_event_id=last_seen) as stream:
        second, third = await stream.event(), await stream.event()
        assert (second.data["stepId"], second.data["version"]) == ("2-1", 2)
        assert (third.data["stepId"], third.data["version"]) == ("2-2", 1)
        assert await stream.nothing_within(0.3)
    # A cursor the server never gave: an explicit resync, then live events.
    async with open_stream(viewer, last_event_id="1-1") as stream:
        block = await stream.event()
        assert block.event == "resync" and block.data == {"reason": "beyond_retention"}
        await _save(writer)
        assert (await stream.event()).event == "step"
    async with open_stream(viewer, last_event_id="not a cursor") as stream:
        assert (await stream.event()).data == {"reason": "unknown_cursor"}


async def test_resume_beyond_the_retention_window_is_a_resync(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve(events_retention=10)
    alice = await make_account()
    viewer, writer = await sign_in(url, alice), await sign_in(url, alice)
    async with open_stream(viewer) as stream:
        await _save(writer)
        last_seen = (await stream.event()).id
    for counter in range(11):
        await _save(writer, a=counter + 2)
    await asyncio.sleep(0.1)
    async with open_stream(viewer, last_event_id=last_seen) as stream:
        block = await stream.event()
        assert block.event == "resync" and block.data == {"reason": "beyond_retention"}
        # Resuming from the resync's cursor is gap-free again.
        cursor = block.id
    async with open_stream(viewer, last_event_id=cursor) as stream:
        assert await stream.nothing_within(0.2)


async def test_the_stream_ends_at_logout(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve()
    alice = await make_account()
    viewer, other_device = await sign_in(url, alice), await sign_in(url, alice)
    async with open_stream(viewer) as stream, open_stream(other_device) as other_stream:
        assert (await viewer.post("/api/auth/logout")).status_code == 200
        assert await stream.ended()
        # Only that session's stream: the other device's goes on.
        await _save(other_device)
        assert (await other_stream.event()).event == "step"


async def test_the_stream_ends_at_a_password_change(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount, backend: Backend
) -> None:
    # As `workshop-data users set-password` does it, from another process: no event reaches
    # the server; the stream's own check of its session ends it.
    url = await serve(events_heartbeat_seconds=0.1, events_session_check_seconds=0.3)
    alice = await make_account()
    viewer = await sign_in(url, alice)
    async with open_stream(viewer) as stream:
        engine = create_engine(backend.settings())
        try:
            async with engine.connect() as conn:
                user = await users_service.get_user(conn, alice.id)
                assert user is not None
                await users_service.set_password(conn, user, "a-brand-new-quiet-harbor-93")
        finally:
            await engine.dispose()
        assert await stream.ended(seconds=3)
    assert (await viewer.get("/api/events")).status_code == 401


async def test_an_administrators_change_ends_the_users_streams(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount, accounts: dict[str, Account]
) -> None:
    url = await serve()
    alice = await make_account()
    viewer = await sign_in(url, alice)
    admin = await sign_in(url, accounts["root"])
    async with open_stream(viewer) as stream:
        response = await admin.patch(f"/api/admin/users/{alice.id}", json={"role": "facilitator"})
        assert response.status_code == 200, response.text
        assert await stream.ended()


async def test_one_stream_too_many_for_a_user_closes_their_oldest(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve(events_max_streams_per_user=2)
    alice = await make_account()
    client = await sign_in(url, alice)
    async with (
        open_stream(client) as oldest,
        open_stream(client) as second,
        open_stream(client) as newest,
    ):
        assert await oldest.ended()
        await _save(client)
        assert (await second.event()).event == "step"
        assert (await newest.event()).event == "step"


async def test_past_the_process_cap_503_with_retry_after(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve(events_max_streams=2)
    alice, bob = await make_account(), await make_account()
    alice_client, bob_client = await sign_in(url, alice), await sign_in(url, bob)
    async with open_stream(alice_client), open_stream(bob_client):
        refused = await alice_client.get("/api/events")
        assert refused.status_code == 503
        assert refused.json()["code"] == "busy"
        assert int(refused.headers["retry-after"]) >= 1
    await asyncio.sleep(0.1)  # the closed streams are counted out
    async with open_stream(alice_client):
        pass


async def test_heartbeats_while_idle(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount
) -> None:
    url = await serve(events_heartbeat_seconds=0.2)
    client = await sign_in(url, await make_account())
    async with open_stream(client) as stream:
        for _ in range(2):
            block = await stream.block(seconds=1)
            assert block.comments == ["keep-alive"] and not block.fields


async def test_presence_reaches_the_facilitator_once_a_second(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount, accounts: dict[str, Account]
) -> None:
    url = await serve()
    alice, fran, gus = (
        await make_account(),
        await make_account("facilitator"),
        await make_account("facilitator"),
    )
    admin = await sign_in(url, accounts["root"])
    await _assign(admin, alice, fran)
    alice_client = await sign_in(url, alice)
    fran_client, gus_client = await sign_in(url, fran), await sign_in(url, gus)
    async with (
        open_stream(fran_client) as fran_stream,
        open_stream(gus_client) as gus_stream,
        open_stream(alice_client) as alice_stream,
    ):
        response = await alice_client.post("/api/events/presence", json={"pending": 3})
        assert response.status_code == 204, response.text
        block = await fran_stream.event()
        assert block.event == "presence"
        assert block.data["userId"] == alice.id and block.data["pending"] == 3
        assert str(block.data["seenAt"]).endswith("Z")
        again = await alice_client.post("/api/events/presence", json={"pending": 2})
        assert again.status_code == 429 and again.headers["retry-after"] == "1"
        assert await gus_stream.nothing_within(0.2)
        assert await alice_stream.nothing_within(0.1)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"pending": -1},
        {"pending": 100_001},
        {"pending": "3"},
        {"pending": 1.5},
        {"pending": True},
        {"pending": 2**70},
        {"pending": 1, "extra": 1},
        [],
    ],
)
async def test_presence_refuses_what_is_not_a_count(
    serve: Serve, sign_in: SignIn, make_account: MakeAccount, body: object
) -> None:
    url = await serve()
    client = await sign_in(url, await make_account())
    response = await client.post("/api/events/presence", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] in ("invalid_body", "invalid_json")
