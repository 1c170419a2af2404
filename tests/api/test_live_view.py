"""The facilitator's grid (the live view's one request) and the admin's password reset."""

from fastapi import FastAPI

from tests.api.people import set_facilitator
from tests.api.support import ClientFor, login, new_client, save
from tests.support import Account, Backend, MakeAccount

GRID = "/api/facilitator/workshops/ast/grid"


async def test_grid_shows_only_my_participants_with_their_progress(
    backend: Backend, client_for: ClientFor, make_account: MakeAccount, accounts: dict[str, Account]
) -> None:
    fran = await make_account("facilitator")
    gus = await make_account("facilitator")
    mine = await make_account()
    idle = await make_account()
    theirs = await make_account()
    for participant, facilitator in ((mine, fran), (idle, fran), (theirs, gus)):
        await set_facilitator(backend, participant.id, facilitator.id)
    writer = await client_for(mine)
    assert (await save(writer, {"starPower": "x"}, "ast", "2-1")).status_code == 200
    assert (await save(writer, {"starPower": "xy"}, "ast", "2-1", baseVersion=1)).status_code == 200
    moved = await writer.put(
        "/api/navigation-progress/ast", json={"currentStepId": "2-2", "completedSteps": ["2-1"]}
    )
    assert moved.status_code == 200, moved.text
    other = await client_for(theirs)
    assert (await save(other, {"starPower": "secret"}, "ast", "2-1")).status_code == 200

    fran_client = await client_for(fran)
    grid = (await fran_client.get(GRID)).json()
    assert grid["workshopType"] == "ast" and grid["total"] == 2
    rows = {row["userId"]: row for row in grid["participants"]}
    assert set(rows) == {mine.id, idle.id}
    row = rows[mine.id]
    assert row["currentStepId"] == "2-2" and row["completedSteps"] == ["2-1"]
    assert row["steps"]["2-1"]["version"] == 2
    assert row["lastActivityAt"] is not None and row["startedAt"] is not None
    assert "starPower" not in str(grid)  # never the answers
    assert rows[idle.id]["steps"] == {} and rows[idle.id]["lastActivityAt"] is None

    one = (await fran_client.get(GRID, params={"userId": mine.id})).json()
    assert [r["userId"] for r in one["participants"]] == [mine.id]
    # Someone else's participant, asked for by id: nothing, not their row.
    stranger = (await fran_client.get(GRID, params={"userId": theirs.id})).json()
    assert stranger["participants"] == [] and stranger["total"] == 0

    every = (await (await client_for(accounts["root"])).get(GRID)).json()
    assert {mine.id, idle.id, theirs.id} <= {r["userId"] for r in every["participants"]}


async def test_grid_is_for_facilitators_and_checks_its_input(
    client_for: ClientFor, accounts: dict[str, Account]
) -> None:
    alice = await client_for(accounts["alice"])
    assert (await alice.get(GRID)).status_code == 403
    root = await client_for(accounts["root"])
    assert (await root.get("/api/facilitator/workshops/zz/grid")).status_code == 400
    for bad in ("x", "0", str(2**63)):
        assert (await root.get(GRID, params={"userId": bad})).status_code == 400


async def test_admin_resets_a_password_and_ends_the_sessions(
    app: FastAPI, client_for: ClientFor, make_account: MakeAccount, accounts: dict[str, Account]
) -> None:
    sam = await make_account()
    sams_device = await client_for(sam)
    assert (await sams_device.get("/api/auth/me")).status_code == 200
    root = await client_for(accounts["root"])
    url = f"/api/admin/users/{sam.id}/password"
    weak = await root.post(url, json={"password": "password"})
    assert (weak.status_code, weak.json()["code"]) == (400, "invalid_password")
    assert (await root.post(url, json={"password": 12345678})).status_code == 400
    assert (await root.post(url, json={})).status_code == 400
    new_password = "a-new-quiet-harbor-93"
    done = await root.post(url, json={"password": new_password})
    assert done.status_code == 200, done.text
    assert done.json()["user"]["id"] == sam.id and done.json()["sessionsEnded"] >= 1
    assert "password" not in done.json()["user"]
    assert (await sams_device.get("/api/auth/me")).status_code == 401
    async with new_client(app) as fresh:
        assert (await login(fresh, sam)).status_code == 401
        renamed = Account(sam.id, sam.username, new_password, sam.role)
        assert (await login(fresh, renamed)).status_code == 200
    assert (
        await root.post("/api/admin/users/987654321/password", json={"password": new_password})
    ).status_code == 404
    participant = await client_for(accounts["alice"])
    assert (await participant.post(url, json={"password": new_password})).status_code == 403
