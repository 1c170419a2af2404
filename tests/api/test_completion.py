"""Completing a workshop needs its required steps; a reset cannot slip in between the check and
the completion; an admin can reopen a completed workshop."""

import asyncio

import httpx

from tests.api.support import ClientFor, load, save
from tests.support import Account
from workshop_data.catalog.service import load_catalog

CATALOG = load_catalog()
REQUIRED = CATALOG.required_steps("ia")


async def complete_all_but(client: httpx.AsyncClient, missing: int) -> None:
    steps = REQUIRED[: len(REQUIRED) - missing]
    response = await client.put("/api/navigation-progress/ia", json={"completedSteps": steps})
    assert response.status_code == 200, response.text


async def test_completion_refuses_missing_steps_then_succeeds(alice: httpx.AsyncClient) -> None:
    await complete_all_but(alice, 2)
    refused = await alice.post("/api/workshop-data/complete/ia")
    assert refused.status_code == 409
    assert refused.json()["code"] == "steps_incomplete"
    assert refused.json()["missingSteps"] == REQUIRED[-2:]
    assert (await alice.get("/api/workshop-data/status/ia")).json()["completed"] is False

    await complete_all_but(alice, 0)
    completed = await alice.post("/api/workshop-data/complete/ia")
    assert completed.status_code == 200
    assert completed.json()["completed"] is True and completed.json()["locked"] is True
    assert (await save(alice, {"late": "edit"})).status_code == 423


async def test_a_reset_and_a_completion_never_both_succeed(
    client_for: ClientFor, accounts: dict[str, Account], root: httpx.AsyncClient
) -> None:
    tabs = [await client_for(accounts["alice"]) for _ in range(2)]
    alice_id = accounts["alice"].id
    for _round in range(12):
        await complete_all_but(tabs[0], 0)
        completion, reset = await asyncio.gather(
            tabs[0].post("/api/workshop-data/complete/ia"),
            tabs[1].post("/api/navigation-progress/ia/reset"),
        )
        outcome = (completion.status_code, reset.status_code)
        assert outcome in {(200, 423), (409, 200)}, outcome
        status = (await tabs[0].get("/api/workshop-data/status/ia")).json()
        progress = (await tabs[0].get("/api/navigation-progress/ia")).json()
        # Which one wins depends on scheduling; the stored state agrees with the answers.
        assert status["completed"] is (outcome == (200, 423)), (outcome, status)
        if status["completed"]:
            assert set(REQUIRED) <= set(progress["completedSteps"])
            reopened = await root.post(f"/api/admin/users/{alice_id}/workshops/ia/reopen")
            assert reopened.status_code == 200


async def test_admin_reopens_a_completed_workshop(
    alice: httpx.AsyncClient, root: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    alice_id, root_id = accounts["alice"].id, accounts["root"].id
    never_started = await root.post(f"/api/admin/users/{alice_id}/workshops/ia/reopen")
    assert never_started.status_code == 404
    assert never_started.json()["code"] == "workshop_not_started"

    assert (await save(alice, {"whyReflection": "first"})).status_code == 200
    completed = (await alice.post("/api/workshop-data/complete/ia")).json()
    assert (await save(alice, {"whyReflection": "locked"})).status_code == 423

    reopened = await root.post(f"/api/admin/users/{alice_id}/workshops/ia/reopen")
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert body["userId"] == alice_id
    assert body["completed"] is False and body["locked"] is False
    assert body["completedAt"] is None
    assert body["reopenedAt"] >= completed["completedAt"]
    assert body["reopenedBy"] == root_id

    status = (await alice.get("/api/workshop-data/status/ia")).json()
    assert status == {
        "success": True,
        "workshopType": "ia",
        "completed": False,
        "completedAt": None,
        "locked": False,
        "reopenedAt": body["reopenedAt"],
        "reopenedBy": root_id,
    }
    assert (await save(alice, {"whyReflection": "after reopen"})).status_code == 200
    assert (await load(alice)).json()["data"] == {"whyReflection": "after reopen"}

    export = (await alice.get(f"/api/export/users/{alice_id}")).json()
    (participation,) = export["workshopParticipation"]
    assert participation["workshopType"] == "ia"
    assert participation["completedAt"] is None
    assert participation["reopenedAt"] == body["reopenedAt"]
    assert participation["reopenedBy"] == root_id

    # Reopening what is open changes nothing; completing again locks again.
    again = (await root.post(f"/api/admin/users/{alice_id}/workshops/ia/reopen")).json()
    assert again["reopenedAt"] == body["reopenedAt"]
    assert (await alice.post("/api/workshop-data/complete/ia")).json()["locked"] is True
    assert (await save(alice, {"whyReflection": "locked again"})).status_code == 423


async def test_reopen_of_unknown_user_or_workshop(root: httpx.AsyncClient) -> None:
    assert (await root.post("/api/admin/users/987654321/workshops/ia/reopen")).status_code == 404
    bad = await root.post("/api/admin/users/1/workshops/xyz/reopen")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_workshop_type"
