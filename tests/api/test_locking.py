"""Completing a workshop locks its steps."""

import httpx
from sqlalchemy import insert

from tests.api.support import load, save
from tests.support import Account, Backend
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import navigation_progress
from workshop_data.timeutil import utc_now


async def test_status_complete_and_lock(alice: httpx.AsyncClient) -> None:
    await save(alice, {"whyReflection": "before"})
    status = (await alice.get("/api/workshop-data/status/ia")).json()
    assert status == {
        "success": True,
        "workshopType": "ia",
        "completed": False,
        "completedAt": None,
        "locked": False,
        "reopenedAt": None,
        "reopenedBy": None,
    }
    completed = await alice.post("/api/workshop-data/complete/ia")
    assert completed.status_code == 200
    body = completed.json()
    assert body["completed"] is True and body["locked"] is True
    assert body["completedAt"]

    again = (await alice.post("/api/workshop-data/complete/ia")).json()
    assert again["completedAt"] == body["completedAt"]

    for attempt in (
        {},
        {"baseVersion": 1},
        {"baseVersion": 0},
        {"requestId": "late-retry"},
    ):
        refused = await save(alice, {"whyReflection": "after"}, **attempt)
        assert refused.status_code == 423, attempt
        error = refused.json()
        assert error["code"] == "workshop_locked"
        assert error["stepId"] == "ia-3-4"
        assert error["workshopType"] == "ia"
        assert error["lockedSince"] == body["completedAt"]
    new_step = await save(alice, {"x": "new"}, "ia", "ia-4-2")
    assert new_step.status_code == 423
    assert (await load(alice)).json()["data"] == {"whyReflection": "before"}
    assert (await load(alice, "ia", "ia-4-2")).json()["data"] is None


async def test_loading_a_step_says_whether_it_is_locked(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    await save(alice, {"whyReflection": "before"})
    before = (await load(alice)).json()
    assert (before["locked"], before["lockedSince"]) == (False, None)

    completed = (await alice.post("/api/workshop-data/complete/ia")).json()
    saved = (await load(alice)).json()
    assert saved["locked"] is True
    assert saved["lockedSince"] == completed["completedAt"]
    assert saved["data"] == {"whyReflection": "before"}
    never_saved = (await load(alice, "ia", "ia-4-2")).json()
    assert (never_saved["data"], never_saved["locked"]) == (None, True)
    assert never_saved["lockedSince"] == completed["completedAt"]

    # Another participant's completion does not lock bob's steps; another workshop stays open.
    assert (await load(bob)).json()["locked"] is False
    assert (await load(alice, "ast", "2-1")).json()["locked"] is False


async def test_a_section_that_does_not_lock_loads_unlocked(alice: httpx.AsyncClient) -> None:
    await alice.post("/api/workshop-data/complete/ast")
    intro = (await load(alice, "ast", "1-1")).json()
    assert (intro["locked"], intro["lockedSince"]) == (False, None)
    assert (await load(alice, "ast", "2-1")).json()["locked"] is True


async def test_lock_is_per_workshop_and_per_user(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    await alice.post("/api/workshop-data/complete/ia")
    assert (await save(alice, {"a": 1}, "ast", "2-1")).status_code == 200
    assert (await save(bob, {"a": 1}, "ia", "ia-3-4")).status_code == 200
    assert (await bob.get("/api/workshop-data/status/ia")).json()["locked"] is False


async def test_sections_that_do_not_lock_stay_writable(alice: httpx.AsyncClient) -> None:
    await alice.post("/api/workshop-data/complete/ast")
    assert (await save(alice, {"notes": "intro"}, "ast", "1-1")).status_code == 200
    assert (await save(alice, {"notes": "assess"}, "ast", "2-1")).status_code == 423


async def test_completion_needs_required_steps_once_progress_exists(
    backend: Backend, alice: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    engine = create_engine(backend.settings())
    now = utc_now()
    async with engine.begin() as conn:
        await conn.execute(
            insert(navigation_progress).values(
                user_id=accounts["alice"].id,
                workshop_type="ast",
                current_step_id="2-2",
                completed_steps=["2-1", "2-2"],
                unlocked_steps=["2-1", "2-2", "2-3"],
                video_progress={},
                created_at=now,
                updated_at=now,
            )
        )
    await engine.dispose()
    response = await alice.post("/api/workshop-data/complete/ast")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "steps_incomplete"
    assert "2-1" not in body["missingSteps"]
    assert {"2-3", "4-5"} <= set(body["missingSteps"])
    status = (await alice.get("/api/workshop-data/status/ast")).json()
    assert status["completed"] is False
    assert (await save(alice, {"a": 1}, "ast", "2-3")).status_code == 200
