"""The admin API: listing, creating, changing and deleting users; facilitators' participants."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.api.people import enter_everything, rows_about
from tests.api.support import ClientFor, save
from tests.support import Account, Backend, MakeAccount
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import users

AST_STEPS = [s.step_id for s in load_catalog().steps_of("ast")]


async def create(root: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {"password": "long-enough-password", **fields}
    return await root.post("/api/admin/users", json=body)


async def test_create_list_search_and_page(root: httpx.AsyncClient) -> None:
    token = uuid.uuid4().hex[:8]
    created = []
    for i, name in enumerate(["Ana Álvarez", "Ben Brown", "Cleo Chen"]):
        response = await create(
            root,
            username=f"tmp-{token}-{i}",
            name=name,
            email=f"{token}.{i}@Example.org",
            role="participant",
        )
        assert response.status_code == 201, response.text
        created.append(response.json()["user"])
    user = created[0]
    assert set(user) == {
        "id",
        "username",
        "name",
        "email",
        "role",
        "facilitatorId",
        "createdAt",
        "updatedAt",
    }
    assert (user["name"], user["role"], user["facilitatorId"]) == (
        "Ana Álvarez",
        "participant",
        None,
    )

    listing = (await root.get("/api/admin/users", params={"q": token})).json()
    assert [u["id"] for u in listing["users"]] == [u["id"] for u in created]
    assert (listing["page"], listing["pageSize"], listing["total"]) == (1, 50, 3)
    assert (await root.get(f"/api/admin/users/{user['id']}")).json()["user"] == user

    by_name = (await root.get("/api/admin/users", params={"q": "BEN BROWN"})).json()
    assert [u["username"] for u in by_name["users"]] == [f"tmp-{token}-1"]
    by_email = (await root.get("/api/admin/users", params={"q": f"{token}.2@example"})).json()
    assert [u["username"] for u in by_email["users"]] == [f"tmp-{token}-2"]
    assert (await root.get("/api/admin/users", params={"q": "%"})).json()["total"] == 0
    assert (await root.get("/api/admin/users", params={"q": "_"})).json()["total"] == 0

    pages = [
        (await root.get("/api/admin/users", params={"q": token, "page": p, "pageSize": 2})).json()
        for p in (1, 2, 3)
    ]
    assert [len(p["users"]) for p in pages] == [2, 1, 0]
    assert {p["total"] for p in pages} == {3}
    assert [u["id"] for p in pages for u in p["users"]] == [u["id"] for u in created]

    everyone = (await root.get("/api/admin/users", params={"pageSize": 200})).json()
    assert {"alice", "bob", "root", "fran", "gus"} <= {u["username"] for u in everyone["users"]}

    refused: list[dict[str, str | int]] = [
        {"page": 0},
        {"pageSize": 0},
        {"pageSize": 201},
        {"page": "x"},
        {"q": "a\x00b"},  # PostgreSQL text cannot hold NUL (found by the fuzzer)
    ]
    for params in refused:
        for path in ("/api/admin/users", "/api/facilitator/participants"):
            response = await root.get(path, params=params)
            assert response.status_code == 400, (path, params)
            assert response.json()["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"username": "alice"}, 409, "user_exists"),
        ({"username": "tmp-x", "email": "alice@example.org"}, 409, "user_exists"),
        ({"username": "tmp-x", "password": "short"}, 400, "invalid_password"),
        ({"username": "tmp-x", "role": "superuser"}, 400, "invalid_body"),
        ({"username": "tmp-x", "email": "not-an-email"}, 400, "invalid_email"),
        ({"username": " tmp-x"}, 400, "invalid_username"),
        ({"username": "tmp-x", "isAdmin": True}, 400, "invalid_body"),
        ({"username": "tmp-x", "facilitatorId": "fran"}, 400, "invalid_body"),
        ({"username": "tmp-x", "facilitatorId": 2**63}, 400, "invalid_body"),
    ],
)
async def test_create_refusals(
    root: httpx.AsyncClient, fields: dict[str, Any], status: int, code: str
) -> None:
    response = await create(root, **fields)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert (await root.get("/api/admin/users", params={"q": "tmp-x"})).json()["total"] == 0


async def test_facilitator_must_be_a_facilitator(
    root: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    for facilitator in (accounts["bob"].id, accounts["root"].id, 987654321):
        response = await create(root, username="tmp-y", facilitatorId=facilitator)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_facilitator"
    created = await create(root, username="tmp-y", facilitatorId=accounts["fran"].id)
    assert created.json()["user"]["facilitatorId"] == accounts["fran"].id
    user_id = created.json()["user"]["id"]
    itself = await root.patch(f"/api/admin/users/{user_id}", json={"facilitatorId": user_id})
    assert itself.json()["code"] == "invalid_facilitator"
    too_big = await root.patch(f"/api/admin/users/{user_id}", json={"facilitatorId": 2**63})
    assert too_big.json()["code"] == "invalid_body"


async def test_assigning_and_unassigning_a_facilitator(
    root: httpx.AsyncClient, client_for: ClientFor, make_account: MakeAccount
) -> None:
    participant = await make_account()
    facilitator = await make_account("facilitator")
    participant_client = await client_for(participant)
    facilitator_client = await client_for(facilitator)
    await save(participant_client, {"whyReflection": "mine"})
    steps_url = f"/api/facilitator/participants/{participant.id}/step-data/ia"
    assert (await facilitator_client.get(steps_url)).status_code == 403

    assigned = await root.patch(
        f"/api/admin/users/{participant.id}", json={"facilitatorId": facilitator.id}
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["user"]["facilitatorId"] == facilitator.id
    listing = (await facilitator_client.get("/api/facilitator/participants")).json()
    assert [u["id"] for u in listing["users"]] == [participant.id]
    steps = (await facilitator_client.get(steps_url)).json()
    assert steps["userId"] == participant.id
    assert steps["stepData"] == {"ia-3-4": {"whyReflection": "mine"}}
    assert steps["totalSteps"] == 1

    # A facilitator who is no longer one loses their participants, and does not regain them.
    demoted = await root.patch(f"/api/admin/users/{facilitator.id}", json={"role": "participant"})
    assert demoted.json()["user"]["role"] == "participant"
    assert (await facilitator_client.get(steps_url)).status_code == 403
    await root.patch(f"/api/admin/users/{facilitator.id}", json={"role": "facilitator"})
    assert (await facilitator_client.get(steps_url)).status_code == 403
    user = (await root.get(f"/api/admin/users/{participant.id}")).json()["user"]
    assert user["facilitatorId"] is None

    await root.patch(f"/api/admin/users/{participant.id}", json={"facilitatorId": facilitator.id})
    assert (await facilitator_client.get(steps_url)).status_code == 200
    cleared = await root.patch(f"/api/admin/users/{participant.id}", json={"facilitatorId": None})
    assert cleared.json()["user"]["facilitatorId"] is None
    assert (await facilitator_client.get(steps_url)).status_code == 403


async def test_update_fields_and_refusals(
    root: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    url = f"/api/admin/users/{account.id}"
    changed = await root.patch(url, json={"name": "New Name", "email": "new@example.org"})
    assert changed.status_code == 200
    user = changed.json()["user"]
    assert (user["name"], user["email"], user["role"]) == (
        "New Name",
        "new@example.org",
        "participant",
    )
    assert (await root.patch(url, json={})).json()["user"] == user
    assert (await root.patch(url, json={"email": None})).json()["user"]["email"] is None
    for body, code in (
        ({"role": None}, "invalid_body"),
        ({"name": None}, "invalid_body"),
        ({"role": "owner"}, "invalid_body"),
        ({"email": "nope"}, "invalid_email"),
        ({"password": "x"}, "invalid_body"),
    ):
        response = await root.patch(url, json=body)
        assert response.status_code == 400, body
        assert response.json()["code"] == code
    duplicate = await root.patch(url, json={"email": "alice@example.org"})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "user_exists"
    assert (await root.patch("/api/admin/users/987654321", json={"name": "x"})).status_code == 404
    assert (await root.delete("/api/admin/users/987654321")).status_code == 404
    assert (await root.get("/api/admin/users/987654321")).status_code == 404


async def test_delete_leaves_nothing_behind(
    backend: Backend,
    root: httpx.AsyncClient,
    alice: httpx.AsyncClient,
    client_for: ClientFor,
    make_account: MakeAccount,
) -> None:
    participant = await make_account()
    facilitator = await make_account("facilitator")
    admin = await make_account("admin")
    client = await client_for(participant)
    admin_client = await client_for(admin)
    await enter_everything(client)
    await save(alice, {"whyReflection": "alice stays"})
    await client.put("/api/navigation-progress/ast", json={"completedSteps": AST_STEPS})
    assert (await client.post("/api/workshop-data/complete/ast")).status_code == 200
    reopened = await admin_client.post(f"/api/admin/users/{participant.id}/workshops/ast/reopen")
    assert reopened.json()["reopenedBy"] == admin.id
    await root.patch(f"/api/admin/users/{participant.id}", json={"facilitatorId": facilitator.id})
    before = await rows_about(backend, participant.id)
    assert before["sessions.user_id"] >= 1
    assert before["workshop_step_data.user_id"] == 5
    assert before["navigation_progress.user_id"] == 2
    assert before["assessments.user_id"] == 5
    assert before["workshop_participation.user_id"] == 2
    assert (await rows_about(backend, admin.id))["workshop_participation.reopened_by"] == 1
    assert (await rows_about(backend, facilitator.id))["users.facilitator_id"] == 1

    for account in (admin, facilitator, participant):
        deleted = await root.delete(f"/api/admin/users/{account.id}")
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["deleted"]["id"] == account.id
        assert set((await rows_about(backend, account.id)).values()) == {0}
        assert (await root.delete(f"/api/admin/users/{account.id}")).status_code == 404

    assert (await client.get("/api/auth/me")).status_code == 401
    assert (await admin_client.get("/api/auth/me")).status_code == 401
    assert (await alice.get("/api/workshop-data/step/ia/ia-3-4")).json()["data"] == {
        "whyReflection": "alice stays"
    }


async def test_the_last_admin_cannot_be_removed(
    root: httpx.AsyncClient, accounts: dict[str, Account], client_for: ClientFor
) -> None:
    root_id = accounts["root"].id
    admins = (await root.get("/api/admin/users", params={"pageSize": 200})).json()["users"]
    assert [u["id"] for u in admins if u["role"] == "admin"] == [root_id]

    for attempt in (
        root.patch(f"/api/admin/users/{root_id}", json={"role": "participant"}),
        root.patch(f"/api/admin/users/{root_id}", json={"role": "facilitator"}),
        root.delete(f"/api/admin/users/{root_id}"),
    ):
        refused = await attempt
        assert refused.status_code == 409
        assert refused.json()["code"] == "last_admin"
    assert (await root.get("/api/auth/me")).json()["user"]["role"] == "admin"
    renamed = await root.patch(f"/api/admin/users/{root_id}", json={"role": "admin"})
    assert renamed.status_code == 200

    # With a second admin, either may go, by their own hand or the other's.
    second = (await create(root, username="tmp-admin", role="admin")).json()["user"]
    second_client = await client_for(
        Account(second["id"], "tmp-admin", "long-enough-password", "admin")
    )
    assert (await second_client.delete(f"/api/admin/users/{second['id']}")).status_code == 200
    assert (await root.delete(f"/api/admin/users/{root_id}")).status_code == 409


async def test_two_admins_demoting_each_other_leave_one_admin(
    backend: Backend, root: httpx.AsyncClient, client_for: ClientFor, accounts: dict[str, Account]
) -> None:
    root_id = accounts["root"].id
    try:
        for round_ in range(6):
            username = f"tmp-admin-{round_}"
            other = (await create(root, username=username, role="admin")).json()["user"]
            other_client = await client_for(
                Account(other["id"], username, "long-enough-password", "admin")
            )
            first, second = await asyncio.gather(
                root.patch(f"/api/admin/users/{other['id']}", json={"role": "participant"}),
                other_client.patch(f"/api/admin/users/{root_id}", json={"role": "participant"}),
            )
            # The loser is refused as the last admin (409), or, when the winner's change
            # landed before the loser's request was authorised, as no admin any more (403).
            winner, loser = sorted([first.status_code, second.status_code])
            assert winner == 200
            assert loser in (403, 409)
            survivor = root if first.status_code == 200 else other_client
            admins = (await survivor.get("/api/admin/users", params={"pageSize": 200})).json()
            assert len([u for u in admins["users"] if u["role"] == "admin"]) == 1
            if second.status_code == 200:
                await other_client.patch(f"/api/admin/users/{root_id}", json={"role": "admin"})
            assert (await root.delete(f"/api/admin/users/{other['id']}")).status_code == 200
    finally:
        engine = create_engine(backend.settings())
        async with engine.begin() as conn:
            await conn.execute(update(users).where(users.c.id == root_id).values(role="admin"))
        await engine.dispose()


async def test_admin_reads_a_users_step_data(
    root: httpx.AsyncClient, alice: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    await save(alice, {"whyReflection": "for the admin"})
    await save(alice, {"goals": ["a"]}, "ast", "3-2")
    alice_id = accounts["alice"].id
    body = (await root.get(f"/api/admin/users/{alice_id}/step-data/ia")).json()
    assert body["success"] is True and body["userId"] == alice_id
    assert body["workshopType"] == "ia" and body["totalSteps"] == 1
    assert body["stepData"] == {"ia-3-4": {"whyReflection": "for the admin"}}
    assert body["steps"]["ia-3-4"]["version"] == 1
    ast = (await root.get(f"/api/admin/users/{alice_id}/step-data/ast")).json()
    assert ast["stepData"] == {"3-2": {"goals": ["a"]}}
    assert (await root.get("/api/admin/users/987654321/step-data/ia")).status_code == 404
    bad = await root.get(f"/api/admin/users/{alice_id}/step-data/xyz")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_workshop_type"


@pytest.mark.usefixtures("fran_facilitates_alice")
async def test_facilitators_see_their_participants(
    client_for: ClientFor, accounts: dict[str, Account], alice: httpx.AsyncClient
) -> None:
    fran = await client_for(accounts["fran"])
    gus = await client_for(accounts["gus"])
    root = await client_for(accounts["root"])
    alice_id = accounts["alice"].id
    mine = (await fran.get("/api/facilitator/participants")).json()
    assert [u["username"] for u in mine["users"]] == ["alice"]
    assert mine["users"][0]["facilitatorId"] == accounts["fran"].id
    assert (await fran.get("/api/facilitator/participants", params={"q": "bob"})).json()[
        "users"
    ] == []
    assert (await gus.get("/api/facilitator/participants")).json()["total"] == 0
    everyone = (await root.get("/api/facilitator/participants", params={"pageSize": 200})).json()
    assert {"alice", "bob"} <= {u["username"] for u in everyone["users"]}
    assert {u["role"] for u in everyone["users"]} == {"participant"}

    await alice.put(
        "/api/navigation-progress/ast", json={"currentStepId": "2-1", "completedSteps": ["2-1"]}
    )
    progress = await fran.get(f"/api/facilitator/participants/{alice_id}/navigation-progress/ast")
    assert progress.status_code == 200
    assert progress.json()["userId"] == alice_id
    assert progress.json()["completedSteps"] == ["2-1"]
    assert (
        await gus.get(f"/api/facilitator/participants/{alice_id}/navigation-progress/ast")
    ).status_code == 403


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"username": "evil\r\n9\tadmin\tadmin", "password": "long-enough"}, "invalid_username"),
        ({"username": "tmp-ok", "password": "long-enough", "name": "A\x1b[2J"}, "invalid_name"),
        ({"username": "tmp-ok", "password": "long-enough", "email": "a\tb@x.org"}, "invalid_email"),
    ],
)
async def test_names_with_control_characters_are_refused(
    root: httpx.AsyncClient, body: dict[str, object], code: str
) -> None:
    response = await root.post("/api/admin/users", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    listed = (await root.get("/api/admin/users", params={"pageSize": 200})).json()["users"]
    assert not [u for u in listed if u["username"] in ("tmp-ok", body["username"])]


async def test_renaming_to_a_name_with_control_characters_is_refused(
    root: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    response = await root.patch(f"/api/admin/users/{accounts['bob'].id}", json={"name": "x\ny"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_name"
    bob = (await root.get(f"/api/admin/users/{accounts['bob'].id}")).json()["user"]
    assert bob["name"] == "Bob"
