"""Every endpoint against every kind of caller, with the exact status each must get: the whole
matrix on SQLite, a seeded sample of it on each backend.

alice is the participant whose data is at stake; bob another participant; fran is alice's
facilitator, gus a facilitator of nobody; root an admin. "Own" endpoints act on the caller's
own data, so every signed-in caller may use them."""

import random
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from tests.api.images import GIF, PNG
from tests.api.support import ClientFor
from tests.support import Account, MakeAccount
from workshop_data.users import passwords

PERSONAS = ["anonymous", "alice", "bob", "fran", "gus", "root"]

OWN = dict.fromkeys(PERSONAS, 200) | {"anonymous": 401}
ADMIN_ONLY = dict.fromkeys(PERSONAS, 403) | {"anonymous": 401, "root": 200}
ALICE_READERS = ADMIN_ONLY | {"alice": 200, "fran": 200}
FACILITATORS = ADMIN_ONLY | {"fran": 200, "gus": 200}
ALICES_FACILITATOR = ADMIN_ONLY | {"fran": 200}
# An upload is 404 to whoever may not read it, as if it did not exist.
ALICES_UPLOAD = ALICE_READERS | {"bob": 404, "gus": 404}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {alice}, {target} and {alice_upload} are filled in
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    # A raw (not JSON) body and its content type.
    content: bytes | None = None
    content_type: str = "application/json"
    # A throw-away participant to change or delete; whether alice must have completed IA.
    needs_target: bool = False
    needs_start: bool = False
    changes: bool = False
    # The caller first saves IA 4-2 (so that it has a version 1 to restore).
    saves_first: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


PUBLIC = dict.fromkeys(PERSONAS, 200)
STAR = {"thinking": 10, "acting": 20, "feeling": 30, "planning": 40}
STEP = {"workshopType": "ia", "stepId": "ia-4-1", "data": {"note": "mine"}}
CASES = [
    Case(
        "POST",
        "/api/auth/login",
        PUBLIC,
        {"username": "{target_username}", "password": "{target_username}-quiet-harbor-71"},
        needs_target=True,
    ),
    Case("GET", "/api/auth/me", OWN),
    Case("GET", "/api/catalog", OWN),
    Case("POST", "/api/workshop-data/step", OWN, STEP),
    Case("GET", "/api/workshop-data/step/ia/ia-3-4", OWN),
    Case("PATCH", "/api/workshop-data/step/ia/ia-4-1", OWN, {"note": "mine", "other": None}),
    Case(
        "POST",
        "/api/uploads",
        OWN | dict.fromkeys(PERSONAS[1:], 201),
        content=GIF,
        content_type="image/gif",
    ),
    Case("GET", "/api/uploads/{alice_upload}", ALICES_UPLOAD),
    Case("GET", "/api/workshop-data/steps/ia", OWN),
    Case("GET", "/api/workshop-data/step/ia/ia-4-2/history", OWN, saves_first=True),
    Case("POST", "/api/workshop-data/step/ia/ia-4-2/restore/1", OWN, saves_first=True),
    Case("POST", "/api/workshop-data/step/ia/ia-4-2/history", OWN, {"data": {"note": "mine"}}),
    Case("GET", "/api/workshop-data/status/ia", OWN),
    Case("POST", "/api/workshop-data/complete/ast", OWN),
    Case("GET", "/healthz", PUBLIC),
    Case("GET", "/readyz", PUBLIC),
    Case("GET", "/api/openapi.json", PUBLIC),
    Case("GET", "/api/navigation-progress/ast", OWN),
    Case("PUT", "/api/navigation-progress/ast", OWN, {"completedSteps": ["2-1"]}),
    Case("POST", "/api/navigation-progress/ast/reset", OWN),
    Case("GET", "/api/assessments", OWN),
    Case("GET", "/api/assessments/starCard", OWN),
    Case("PUT", "/api/assessments/starCard", OWN, {"results": STAR}),
    Case("GET", "/api/export/users/{alice}", ALICE_READERS),
    Case("GET", "/api/admin/users", ADMIN_ONLY),
    Case(
        "POST",
        "/api/admin/users",
        ADMIN_ONLY | {"root": 201},
        {"username": "tmp-{token}", "password": "long-enough-password"},
        changes=True,
    ),
    Case("GET", "/api/admin/users/{alice}", ADMIN_ONLY),
    Case(
        "PATCH",
        "/api/admin/users/{target}",
        ADMIN_ONLY,
        {"role": "admin", "name": "changed"},
        needs_target=True,
        changes=True,
    ),
    Case("DELETE", "/api/admin/users/{target}", ADMIN_ONLY, needs_target=True, changes=True),
    Case(
        "POST",
        "/api/admin/users/{target}/password",
        ADMIN_ONLY,
        {"password": "a-new-quiet-harbor-93"},
        needs_target=True,
        changes=True,
    ),
    Case("GET", "/api/admin/users/{alice}/step-data/ia", ADMIN_ONLY),
    Case(
        "POST",
        "/api/admin/users/{alice}/workshops/ia/reopen",
        ADMIN_ONLY,
        needs_start=True,
        changes=True,
    ),
    Case("GET", "/api/facilitator/participants", FACILITATORS),
    Case("POST", "/api/events/presence", OWN | dict.fromkeys(PERSONAS[1:], 204), {"pending": 1}),
    Case("GET", "/api/facilitator/workshops/ia/grid", FACILITATORS),
    Case("GET", "/api/facilitator/workshops/ia/grid?userId={alice}", FACILITATORS),
    Case("GET", "/api/facilitator/participants/{alice}/step-data/ia", ALICES_FACILITATOR),
    Case("GET", "/api/facilitator/participants/{alice}/navigation-progress/ia", ALICES_FACILITATOR),
]


ALL_CALLS = [(case, persona) for case in CASES for persona in PERSONAS]
# The whole matrix runs on SQLite in `test_every_caller_gets_its_status`: who may call what is
# decided before any query, or by a query scoped the same way on every backend. A fixed sample
# of a tenth of the calls also runs one by one on each backend, a different tenth on each.
SAMPLE_SIZE = len(ALL_CALLS) // 10
_sample = random.Random(20261204).sample(ALL_CALLS, 2 * SAMPLE_SIZE)
SAMPLED_CALLS = [
    pytest.param(case, persona, marks=pytest.mark.backends(backend), id=f"{case}-{persona}")
    for backend, calls in (
        ("sqlite", _sample[:SAMPLE_SIZE]),
        ("postgresql", _sample[SAMPLE_SIZE:]),
    )
    for case, persona in calls
]


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throw-away accounts some cases need, hashed cheaply (sign-in verifies either)."""
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@dataclass
class Callers:
    """Everything a call of the matrix needs, from the fixtures."""

    accounts: dict[str, Account]
    client_for: ClientFor
    anon: httpx.AsyncClient
    make_account: MakeAccount


@pytest.fixture
async def callers(
    fran_facilitates_alice: None,
    accounts: dict[str, Account],
    client_for: ClientFor,
    anon: httpx.AsyncClient,
    make_account: MakeAccount,
) -> Callers:
    return Callers(accounts, client_for, anon, make_account)


async def call_as(callers: Callers, case: Case, persona: str) -> int:
    """Make the case's request as the persona, check the answer's error body and that a
    refused request changed nothing; the status it got."""
    accounts, client_for = callers.accounts, callers.client_for
    alice = await client_for(accounts["alice"])
    root = await client_for(accounts["root"])
    await alice.post(
        "/api/workshop-data/step",
        json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"secret": "alice's"}},
    )
    if case.needs_start:
        assert (await alice.post("/api/workshop-data/complete/ia")).status_code == 200
    target = await callers.make_account() if case.needs_target else None
    token = uuid.uuid4().hex[:10]
    alice_upload = ""
    if "{alice_upload}" in case.path:
        uploaded = await alice.post(
            "/api/uploads", content=PNG, headers={"Content-Type": "image/png"}
        )
        alice_upload = uploaded.json()["upload"]["id"]
    path = case.path.format(
        alice=accounts["alice"].id, target=target.id if target else 0, alice_upload=alice_upload
    )
    body = None
    if case.body is not None:
        names = {"token": token, "target_username": target.username if target else ""}
        body = {k: v.format(**names) if isinstance(v, str) else v for k, v in case.body.items()}

    # Signing in replaces the caller's session, which other tests share: use a fresh client.
    signs_in = case.path == "/api/auth/login"
    anonymous = persona == "anonymous" or signs_in
    client = callers.anon if anonymous else await client_for(accounts[persona])
    if case.saves_first and persona != "anonymous":
        saved = await client.post(
            "/api/workshop-data/step",
            json={"workshopType": "ia", "stepId": "ia-4-2", "data": {"mine": persona}},
        )
        assert saved.status_code == 200
    if case.content is not None:
        response = await client.request(
            case.method, path, content=case.content, headers={"Content-Type": case.content_type}
        )
    else:
        response = await client.request(case.method, path, json=body)
    status = response.status_code
    if status >= 400:
        error = response.json()
        assert error["success"] is False, (persona, response.text)
        codes = {401: "not_authenticated", 403: "forbidden", 404: "not_found"}
        assert error["code"] == codes.get(status), (persona, response.text)

    if case.changes and status >= 400:
        # A refused request changed nothing.
        if target is not None:
            user = (await root.get(f"/api/admin/users/{target.id}")).json()["user"]
            assert (user["role"], user["name"]) == ("participant", ""), persona
        if case.method == "POST" and case.path == "/api/admin/users":
            found = await root.get("/api/admin/users", params={"q": token})
            assert found.json()["total"] == 0, persona
        if case.needs_start:
            status_ia = (await alice.get("/api/workshop-data/status/ia")).json()
            assert status_ia["completed"] is True, persona
            assert status_ia["reopenedAt"] is None, persona
    return status


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_every_caller_gets_its_status(case: Case, callers: Callers) -> None:
    # root comes last: its reopen or change succeeds after the refused ones have checked that
    # they changed nothing.
    statuses = {persona: await call_as(callers, case, persona) for persona in PERSONAS}
    assert statuses == case.expected


@pytest.mark.parametrize(("case", "persona"), SAMPLED_CALLS)
async def test_sampled_call_on_each_backend(case: Case, persona: str, callers: Callers) -> None:
    assert await call_as(callers, case, persona) == case.expected[persona]


@pytest.mark.usefixtures("fran_facilitates_alice")
async def test_readers_see_alices_data_and_not_their_own(
    accounts: dict[str, Account], client_for: ClientFor
) -> None:
    alice = await client_for(accounts["alice"])
    await alice.post(
        "/api/workshop-data/step",
        json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"secret": "alice's"}},
    )
    alice_id = accounts["alice"].id
    for reader in ("fran", "root"):
        client = await client_for(accounts[reader])
        export = (await client.get(f"/api/export/users/{alice_id}")).json()
        assert export["userInfo"]["id"] == alice_id
        assert export["workshopStepData"]["ia"]["ia-3-4"]["data"] == {"secret": "alice's"}
        steps = await client.get(f"/api/facilitator/participants/{alice_id}/step-data/ia")
        assert steps.json()["stepData"] == {"ia-3-4": {"secret": "alice's"}}
        # Their own step endpoints stay their own: reading is not writing on alice's behalf.
        own = await client.get("/api/workshop-data/step/ia/ia-3-4")
        assert own.json()["data"] is None
    unknown = "/api/facilitator/participants/987654321/step-data/ia"
    assert (await (await client_for(accounts["fran"])).get(unknown)).status_code == 403
    assert (await (await client_for(accounts["root"])).get(unknown)).status_code == 404


# Routes this matrix does not call, and where they are covered instead.
NOT_CALLED = {
    ("POST", "/api/auth/logout"): "ends the caller's session; tests/api/test_auth.py",
    ("GET", "/api/events"): "a stream that stays open; every persona's scope and the 401 in "
    "tests/api/test_events.py",
}


@pytest.mark.backends("sqlite")
def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    """The app's route table (its OpenAPI document, which lists every API route) against the
    matrix: a route added without an entry here fails, naming itself."""
    sample_ids = {"alice": 1, "target": 1, "alice_upload": "1"}
    covered = {(case.method, case.path.format(**sample_ids)) for case in CASES}
    missing = []
    for path, operations in app.openapi()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(path)) + "$")
        for method in operations:
            key = (method.upper(), path)
            if key in NOT_CALLED:
                continue
            if not any(m == key[0] and pattern.match(p) for m, p in covered):
                missing.append(f"{key[0]} {path}")
    assert missing == [], f"routes missing from the authorization matrix: {missing}"
