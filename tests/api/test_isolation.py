"""Two participants can never read or write each other's data."""

import httpx

from tests.api.support import load, save
from tests.support import Account


async def test_no_way_to_reach_another_users_data(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    secret = {"whyReflection": "alice's private reflection"}
    alice_record = (await save(alice, secret)).json()["data"]

    # By path: Bob reading the same step sees only his own (empty) step.
    assert (await load(bob)).json()["data"] is None
    listing = (await bob.get("/api/workshop-data/steps/ia")).json()
    assert listing["stepData"] == {} and listing["totalSteps"] == 0

    # By body field: naming Alice's id or record id is refused, not obeyed.
    for field in (
        {"userId": accounts["alice"].id},
        {"id": alice_record["id"]},
        {"user_id": accounts["alice"].id},
    ):
        response = await save(bob, {"whyReflection": "overwritten"}, **field)
        assert response.status_code == 400, field

    # By version: Bob's base version refers to his own (missing) row.
    response = await save(bob, {"whyReflection": "x"}, baseVersion=alice_record["version"])
    assert response.status_code == 409
    assert response.json()["current"] == {
        "data": None,
        "version": None,
        "schemaVersion": None,
        "updatedAt": None,
    }

    # By query string: ignored.
    response = await bob.get(f"/api/workshop-data/step/ia/ia-3-4?userId={accounts['alice'].id}")
    assert response.json()["data"] is None

    # Bob's own save lands in Bob's row only.
    bob_record = (await save(bob, {"whyReflection": "bob"})).json()["data"]
    assert bob_record["userId"] == accounts["bob"].id
    assert bob_record["id"] != alice_record["id"]

    stored = (await load(alice)).json()
    assert stored["data"] == secret
    assert stored["version"] == 1


async def test_a_cookie_only_ever_means_its_own_user(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    assert (await alice.get("/api/auth/me")).json()["user"]["id"] == accounts["alice"].id
    assert (await bob.get("/api/auth/me")).json()["user"]["id"] == accounts["bob"].id
    bob.cookies.set("user_id", str(accounts["alice"].id))
    bob.cookies.set("userId", str(accounts["alice"].id))
    assert (await bob.get("/api/auth/me")).json()["user"]["id"] == accounts["bob"].id
