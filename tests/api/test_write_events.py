"""The write seam's events: a committed save (patch, restore) publishes exactly one StepSaved,
heard only once the new version is visible to another connection; a refused save (401, 423,
409) and a save that changes nothing publish none; the other writers publish theirs."""

import asyncio
import threading
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.api.people import enter_everything
from tests.api.support import ClientFor, new_client, save
from tests.support import Account, Backend, MakeAccount
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import workshop_step_data
from workshop_data.events.bus import EventBus
from workshop_data.events.schemas import (
    Event,
    ParticipationChanged,
    ProgressChanged,
    SessionEnded,
    StepSaved,
)

AST_STEPS = [s.step_id for s in load_catalog().steps_of("ast")]
STEP = "/api/workshop-data/step/ia/ia-3-4"


def bus_of(app: FastAPI) -> EventBus:
    bus: EventBus = app.state.event_bus
    return bus


def stored_version(backend: Backend, user_id: int) -> int | None:
    """The version another connection sees, read on a thread of its own so that a listener
    (which runs on the loop, synchronously) can ask."""
    found: list[int | None] = []

    async def read() -> None:
        engine = create_engine(backend.settings())
        try:
            async with engine.connect() as conn:
                found.append(
                    (
                        await conn.execute(
                            select(workshop_step_data.c.version).where(
                                workshop_step_data.c.user_id == user_id,
                                workshop_step_data.c.step_id == "ia-3-4",
                            )
                        )
                    ).scalar()
                )
        finally:
            await engine.dispose()

    reader = threading.Thread(target=lambda: asyncio.run(read()))
    reader.start()
    reader.join()
    return found[0]


def listen(app: FastAPI, on_event: Callable[[Event], None] | None = None) -> list[Event]:
    heard: list[Event] = []

    def listener(event: Event) -> None:
        heard.append(event)
        if on_event is not None:
            on_event(event)

    bus_of(app).subscribe(listener)
    return heard


async def test_a_save_publishes_one_step_saved_after_its_commit(
    app: FastAPI, backend: Backend, alice: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    alice_id = accounts["alice"].id
    seen_committed: list[int | None] = []
    heard = listen(app, lambda event: seen_committed.append(stored_version(backend, event.user_id)))
    response = await alice.post(
        "/api/workshop-data/step",
        json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"whyReflection": "one"}},
        headers={"X-Device-Id": "phone-7f3a"},
    )
    assert response.status_code == 200, response.text
    version = response.json()["data"]["version"]
    assert len(heard) == 1
    event = heard[0]
    assert isinstance(event, StepSaved)
    assert (event.user_id, event.workshop_type, event.step_id, event.version) == (
        alice_id,
        "ia",
        "ia-3-4",
        version,
    )
    assert event.device_id == "phone-7f3a"
    # When the listener heard it, another connection already saw that version.
    assert seen_committed == [version]


async def test_patch_and_restore_publish_one_each_and_a_bad_device_id_is_none(
    app: FastAPI, alice: httpx.AsyncClient
) -> None:
    first = await save(alice, {"whyReflection": "first"})
    assert first.status_code == 200
    heard = listen(app)
    patched = await alice.patch(
        STEP,
        json={"whyReflection": "patched"},
        headers={"If-Match": first.headers["ETag"], "X-Device-Id": "x" * 65},
    )
    assert patched.status_code == 200, patched.text
    restored = await alice.post(
        f"{STEP}/restore/{first.json()['data']['version']}",
        headers={"If-Match": patched.headers["ETag"], "X-Device-Id": "laptop\ttab"},
    )
    assert restored.status_code == 200, restored.text
    assert [(type(e), getattr(e, "version", None), getattr(e, "device_id", 0)) for e in heard] == [
        (StepSaved, patched.json()["data"]["version"], None),
        (StepSaved, restored.json()["data"]["version"], None),
    ]


async def test_refused_and_unchanged_saves_publish_nothing(
    app: FastAPI,
    backend: Backend,
    alice: httpx.AsyncClient,
    client_for: ClientFor,
    make_account: MakeAccount,
) -> None:
    first = await save(alice, {"whyReflection": "kept"}, requestId="retry-me")
    assert first.status_code == 200
    heard = listen(app)
    # The same data again, and a retry of the committed save: 200, nothing new.
    assert (await save(alice, {"whyReflection": "kept"})).status_code == 200
    assert (await save(alice, {"whyReflection": "kept"}, requestId="retry-me")).status_code == 200
    # 409: a stale base version.
    assert (await save(alice, {"whyReflection": "stale"}, baseVersion=99)).status_code == 409
    assert (
        await alice.patch(STEP, json={"whyReflection": "stale"}, headers={"If-Match": '"99"'})
    ).status_code == 409
    assert heard == []
    # 401: a session that is no longer live.
    signed_out = await client_for(await make_account())
    gone = new_client(app)
    gone.cookies.update(dict(signed_out.cookies))
    assert (await signed_out.post("/api/auth/logout")).status_code == 200
    assert [type(e) for e in heard] == [SessionEnded]
    heard.clear()
    async with gone:
        assert (await save(gone, {"whyReflection": "no session"})).status_code == 401
    assert heard == []
    # 423: the workshop is completed.
    assert (await alice.post("/api/workshop-data/complete/ia")).status_code == 200
    assert [type(e) for e in heard] == [ParticipationChanged]
    heard.clear()
    assert (await save(alice, {"whyReflection": "locked"})).status_code == 423
    assert heard == []


async def test_the_other_writers_publish_after_they_commit(
    app: FastAPI,
    root: httpx.AsyncClient,
    client_for: ClientFor,
    make_account: MakeAccount,
) -> None:
    participant = await make_account()
    client = await client_for(participant)
    await enter_everything(client)
    heard = listen(app)
    assert (await client.post("/api/navigation-progress/ast/reset")).status_code == 200
    progress = await client.put("/api/navigation-progress/ast", json={"completedSteps": AST_STEPS})
    assert progress.status_code == 200, progress.text
    assert (await client.post("/api/workshop-data/complete/ast")).status_code == 200
    reopened = await root.post(f"/api/admin/users/{participant.id}/workshops/ast/reopen")
    assert reopened.status_code == 200, reopened.text
    assert [type(e) for e in heard] == [
        ProgressChanged,
        ProgressChanged,
        ParticipationChanged,
        ParticipationChanged,
    ]
    assert all(e.user_id == participant.id for e in heard)
    assert [e.completed for e in heard if isinstance(e, ParticipationChanged)] == [True, False]

    heard.clear()
    assert (await client.post("/api/auth/logout")).status_code == 200
    assert len(heard) == 1 and isinstance(heard[0], SessionEnded)
    assert heard[0].user_id == participant.id and heard[0].token_hash is not None
    heard.clear()
    assert (await root.delete(f"/api/admin/users/{participant.id}")).status_code == 200
    assert heard == [SessionEnded(participant.id, None)]
