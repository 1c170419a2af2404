"""The export holds every value the participant entered, exactly."""

import base64
import hashlib
import json
import re
from datetime import UTC, datetime

import httpx
import pytest

from tests.api.people import ASSESSMENTS, PROGRESS, STEP_DATA, UPLOADS, enter_everything
from tests.api.support import ClientFor
from tests.support import Account
from workshop_data.catalog.service import load_catalog

CATALOG = load_catalog()
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def in_catalogue_order(workshop: str, steps: list[str]) -> list[str]:
    return [s.step_id for s in CATALOG.steps_of(workshop) if s.step_id in steps]


@pytest.mark.usefixtures("fran_facilitates_alice")
@pytest.mark.parametrize("exporter", ["alice", "fran", "root"])
async def test_export_holds_everything_entered(
    client_for: ClientFor, accounts: dict[str, Account], exporter: str
) -> None:
    alice = await client_for(accounts["alice"])
    await enter_everything(alice)
    client = await client_for(accounts[exporter])

    response = await client.get(f"/api/export/users/{accounts['alice'].id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="workshop-data-alice-{today}.json"'
    )
    export = json.loads(response.content)
    assert json.loads(json.dumps(export)) == export

    assert set(export) == {
        "userInfo",
        "navigationProgress",
        "assessments",
        "workshopStepData",
        "workshopParticipation",
        "uploads",
        "exportMetadata",
    }
    assert export["userInfo"] == {
        "id": accounts["alice"].id,
        "username": "alice",
        "name": "Alice",
        "email": "alice@example.org",
        "role": "participant",
        "facilitatorId": accounts["fran"].id,
        "createdAt": export["userInfo"]["createdAt"],
        "updatedAt": export["userInfo"]["updatedAt"],
    }
    assert "password" not in json.dumps(export["userInfo"]).lower()

    steps = export["workshopStepData"]
    assert set(steps) == {"ast", "ia"}
    for (workshop, step_id), data in STEP_DATA.items():
        record = steps[workshop][step_id]
        assert record["data"] == data
        assert record["version"] == 1
        assert ISO.match(record["createdAt"]) and ISO.match(record["updatedAt"])
    assert sum(len(s) for s in steps.values()) == len(STEP_DATA)

    for workshop, sent in PROGRESS.items():
        progress = export["navigationProgress"][workshop]
        assert progress["currentStepId"] == sent["currentStepId"]
        assert progress["completedSteps"] == in_catalogue_order(workshop, sent["completedSteps"])
        assert progress["unlockedSteps"] == in_catalogue_order(workshop, sent["unlockedSteps"])
        assert progress["videoProgress"] == sent["videoProgress"]
        assert ISO.match(progress["lastVisitedAt"])
    assert {kind: a["results"] for kind, a in export["assessments"].items()} == ASSESSMENTS
    assert sorted(p["workshopType"] for p in export["workshopParticipation"]) == ["ast", "ia"]
    for participation in export["workshopParticipation"]:
        assert ISO.match(participation["startedAt"])
        assert participation["completedAt"] is None

    check_uploads(export["uploads"])
    metadata = export["exportMetadata"]
    assert metadata["dataVersion"] == "2.1"
    assert metadata["exportedBy"] == exporter
    assert ISO.match(metadata["exportedAt"])
    assert metadata["totalWorkshopSteps"] == len(STEP_DATA)
    assert metadata["stepCounts"] == {"ast": 3, "ia": 2}
    assert metadata["workshopSteps"] == "AST: 1-1 through 4-5, IA: ia-1-1 through ia-4-6"


async def test_export_of_a_user_with_nothing_entered(bob: httpx.AsyncClient) -> None:
    me = (await bob.get("/api/auth/me")).json()["user"]
    export = (await bob.get(f"/api/export/users/{me['id']}")).json()
    assert export["workshopStepData"] == {"ast": {}, "ia": {}}
    assert export["navigationProgress"] == {}
    assert export["assessments"] == {}
    assert export["workshopParticipation"] == []
    assert export["uploads"] == []
    assert export["exportMetadata"]["totalWorkshopSteps"] == 0


async def test_export_of_an_unknown_user(root: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
    missing = await root.get("/api/export/users/987654321")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    # Only admins learn whether an id exists.
    assert (await alice.get("/api/export/users/987654321")).status_code == 403
    assert (await root.get("/api/export/users/alice")).status_code == 400


async def test_filename_of_an_unusual_username(root: httpx.AsyncClient) -> None:
    created = await root.post(
        "/api/admin/users",
        json={"username": 'tmp-Zoë "x"/y', "password": "long-enough-password"},
    )
    assert created.status_code == 201, created.text
    response = await root.get(f"/api/export/users/{created.json()['user']['id']}")
    disposition = response.headers["content-disposition"]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert disposition.startswith(f'attachment; filename="workshop-data-tmp-Zoe_x_y-{today}.json"')
    assert "filename*=UTF-8''workshop-data-tmp-Zo%C3%AB%20%22x%22%2Fy-" in disposition


def check_uploads(exported: list[dict[str, object]]) -> None:
    """Every uploaded file, self-contained: its bytes (base64) and what describes them."""
    assert len(exported) == len(UPLOADS)
    for entry, (content, content_type) in zip(exported, UPLOADS, strict=True):
        assert set(entry) == {"id", "url", "contentType", "size", "sha256", "createdAt", "base64"}
        assert base64.b64decode(str(entry["base64"]), validate=True) == content
        assert entry["contentType"] == content_type
        assert entry["size"] == len(content)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["url"] == f"/api/uploads/{entry['id']}"
        assert ISO.match(str(entry["createdAt"]))
