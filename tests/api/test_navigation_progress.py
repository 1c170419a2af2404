"""Navigation progress: merged, never replaced; only the reset endpoint removes steps."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.api.support import ClientFor
from tests.support import Account, Backend
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import workshop_participation

AST_STEPS = [s.step_id for s in load_catalog().steps_of("ast")]


async def put(client: httpx.AsyncClient, body: object, workshop: str = "ast") -> httpx.Response:
    return await client.put(f"/api/navigation-progress/{workshop}", json=body)


async def test_nothing_visited_yet_is_empty_progress(alice: httpx.AsyncClient) -> None:
    response = await alice.get("/api/navigation-progress/ia")
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "workshopType": "ia",
        "currentStepId": None,
        "completedSteps": [],
        "unlockedSteps": [],
        "videoProgress": {},
        "lastVisitedAt": None,
        "version": None,
        "createdAt": None,
        "updatedAt": None,
    }


async def test_reports_are_merged_in_catalogue_order(alice: httpx.AsyncClient) -> None:
    first = await put(
        alice,
        {
            "currentStepId": "2-2",
            "completedSteps": ["2-2", "2-1", "2-2"],
            "unlockedSteps": ["2-3", "2-1"],
            "videoProgress": {"intro": 40, "star": 0},
        },
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["completedSteps"] == ["2-1", "2-2"]
    assert body["unlockedSteps"] == ["2-1", "2-3"]
    assert body["videoProgress"] == {"intro": 40, "star": 0}
    assert body["currentStepId"] == "2-2"
    assert body["version"] == 1
    assert body["lastVisitedAt"] and body["createdAt"] and body["updatedAt"]

    # A stale client that knows less: nothing it lacks is lost, lower percentages are ignored.
    second = (
        await put(
            alice,
            {
                "completedSteps": ["1-1"],
                "unlockedSteps": [],
                "videoProgress": {"intro": 20, "star": 12.5, "plan": 100},
            },
        )
    ).json()
    assert second["completedSteps"] == ["1-1", "2-1", "2-2"]
    assert second["unlockedSteps"] == ["2-1", "2-3"]
    assert second["videoProgress"] == {"intro": 40, "star": 12.5, "plan": 100}
    assert second["currentStepId"] == "2-2"  # absent: unchanged
    assert second["version"] == 2
    assert second["createdAt"] == body["createdAt"]

    third = (await put(alice, {"currentStepId": None, "completedSteps": []})).json()
    assert third["currentStepId"] is None  # null: cleared
    assert third["completedSteps"] == ["1-1", "2-1", "2-2"]
    assert (await alice.get("/api/navigation-progress/ast")).json() == third


async def test_first_report_records_the_start_of_the_workshop(
    backend: Backend, alice: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    assert (await put(alice, {"currentStepId": "ia-1-1"}, "ia")).status_code == 200
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(workshop_participation).where(
                    workshop_participation.c.user_id == accounts["alice"].id
                )
            )
        ).all()
    await engine.dispose()
    assert [(r.workshop_type, r.completed_at) for r in rows] == [("ia", None)]
    assert rows[0].started_at is not None


async def test_last_visited_is_the_latest_and_never_in_the_future(
    alice: httpx.AsyncClient,
) -> None:
    now = datetime.now(UTC)
    earlier = (now - timedelta(days=1)).isoformat()
    first = (await put(alice, {"lastVisitedAt": earlier})).json()
    assert first["lastVisitedAt"].startswith(earlier[:19])
    older = (await put(alice, {"lastVisitedAt": (now - timedelta(days=2)).isoformat()})).json()
    assert older["lastVisitedAt"] == first["lastVisitedAt"]
    future = (await put(alice, {"lastVisitedAt": (now + timedelta(days=5)).isoformat()})).json()
    stored = datetime.fromisoformat(future["lastVisitedAt"])
    assert now - timedelta(minutes=1) < stored < now + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("workshop", "body", "code", "named"),
    [
        ("ast", {"completedSteps": ["2-1", "9-9"]}, "invalid_step_id", "completedSteps[1]"),
        ("ast", {"unlockedSteps": ["ia-3-4"]}, "invalid_step_id", "IA workshop"),
        ("ia", {"completedSteps": ["2-1"]}, "invalid_step_id", "AST workshop"),
        ("ast", {"currentStepId": "x" * 21}, "invalid_step_id", "currentStepId"),
        ("ast", {"completedSteps": [1]}, "invalid_body", "completedSteps"),
        ("ast", {"completedSteps": "2-1"}, "invalid_body", "completedSteps"),
        ("ast", {"videoProgress": {"v": 101}}, "invalid_body", "videoProgress"),
        ("ast", {"videoProgress": {"v": -1}}, "invalid_body", "videoProgress"),
        ("ast", {"videoProgress": {"v": "50"}}, "invalid_body", "videoProgress"),
        ("ast", {"videoProgress": {"v": True}}, "invalid_body", "videoProgress"),
        ("ast", {"videoProgress": {"": 5}}, "invalid_body", "videoProgress"),
        ("ast", {"videoProgress": {"a\u0000b": 5}}, "invalid_data", "NUL"),
        ("ast", {"lastVisitedAt": "yesterday"}, "invalid_body", "lastVisitedAt"),
        ("ast", {"userId": 1}, "invalid_body", "userId"),
        ("nope", {}, "invalid_workshop_type", "workshopType"),
    ],
)
async def test_bad_reports_are_refused_and_change_nothing(
    alice: httpx.AsyncClient, workshop: str, body: dict[str, object], code: str, named: str
) -> None:
    await put(alice, {"completedSteps": ["2-1"]})
    response = await put(alice, body, workshop)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert named in response.json()["error"]
    stored = (await alice.get("/api/navigation-progress/ast")).json()
    assert stored["completedSteps"] == ["2-1"] and stored["version"] == 1


async def test_reset_clears_and_is_refused_once_completed(alice: httpx.AsyncClient) -> None:
    empty = await alice.post("/api/navigation-progress/ia/reset")
    assert empty.status_code == 200 and empty.json()["version"] is None
    await put(alice, {"currentStepId": "2-1", "completedSteps": ["2-1"], "videoProgress": {"a": 5}})
    reset = await alice.post("/api/navigation-progress/ast/reset")
    assert reset.status_code == 200
    body = reset.json()
    assert body["completedSteps"] == [] and body["unlockedSteps"] == []
    assert body["videoProgress"] == {} and body["currentStepId"] is None
    assert body["version"] == 2
    again = (await put(alice, {"completedSteps": ["1-1"]})).json()
    assert again["completedSteps"] == ["1-1"]

    await put(alice, {"completedSteps": AST_STEPS})
    assert (await alice.post("/api/workshop-data/complete/ast")).status_code == 200
    refused = await alice.post("/api/navigation-progress/ast/reset")
    assert refused.status_code == 423
    assert refused.json()["code"] == "workshop_locked"
    assert refused.json()["lockedSince"]
    assert (await alice.get("/api/navigation-progress/ast")).json()["completedSteps"] == AST_STEPS


async def test_progress_is_per_user(alice: httpx.AsyncClient, bob: httpx.AsyncClient) -> None:
    await put(alice, {"completedSteps": ["2-1"]})
    assert (await bob.get("/api/navigation-progress/ast")).json()["version"] is None
    await put(bob, {"completedSteps": ["2-2"]})
    assert (await alice.get("/api/navigation-progress/ast")).json()["completedSteps"] == ["2-1"]
    assert (await bob.post("/api/navigation-progress/ast/reset")).status_code == 200
    assert (await alice.get("/api/navigation-progress/ast")).json()["completedSteps"] == ["2-1"]


async def test_concurrent_reports_never_lose_a_completed_step(
    client_for: ClientFor, accounts: dict[str, Account]
) -> None:
    tabs = [await client_for(accounts["alice"]) for _ in range(2)]
    rng = random.Random(7)
    reports: list[dict[str, Any]] = []
    for i in range(40):
        steps = [*rng.sample(AST_STEPS, 3), AST_STEPS[i % len(AST_STEPS)]]
        reports.append(
            {
                "currentStepId": steps[0],
                "completedSteps": steps,
                "unlockedSteps": steps[:2],
                "videoProgress": {f"video-{i % 5}": rng.randint(0, 100)},
            }
        )
    responses = await asyncio.gather(
        *(put(tabs[i % 2], report) for i, report in enumerate(reports))
    )
    assert [r.status_code for r in responses] == [200] * len(reports)
    stored = (await tabs[0].get("/api/navigation-progress/ast")).json()
    completed = {s for report in reports for s in report["completedSteps"]}
    unlocked = {s for report in reports for s in report["unlockedSteps"]}
    assert stored["completedSteps"] == [s for s in AST_STEPS if s in completed]
    assert stored["unlockedSteps"] == [s for s in AST_STEPS if s in unlocked]
    best: dict[str, int] = {}
    for report in reports:
        for video, percentage in report["videoProgress"].items():
            best[video] = max(best.get(video, 0), percentage)
    assert stored["videoProgress"] == best
    assert stored["version"] == len(reports)
