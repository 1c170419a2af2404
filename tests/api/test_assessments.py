"""Assessment results: one current result per user and type, checked per type, stored as sent."""

from typing import Any

import httpx
import pytest

from tests.api.people import ASSESSMENTS


async def put(client: httpx.AsyncClient, kind: str, results: object) -> httpx.Response:
    return await client.put(f"/api/assessments/{kind}", json={"results": results})


@pytest.mark.parametrize("kind", list(ASSESSMENTS))
async def test_results_are_stored_exactly_as_sent(alice: httpx.AsyncClient, kind: str) -> None:
    results = ASSESSMENTS[kind]
    saved = await put(alice, kind, results)
    assert saved.status_code == 200, saved.text
    assessment = saved.json()["assessment"]
    assert assessment["assessmentType"] == kind
    assert assessment["results"] == results
    loaded = (await alice.get(f"/api/assessments/{kind}")).json()
    assert loaded == {
        "success": True,
        "assessmentType": kind,
        "results": results,
        "createdAt": assessment["createdAt"],
        "updatedAt": assessment["updatedAt"],
    }


async def test_nothing_is_invented_for_optional_fields(alice: httpx.AsyncClient) -> None:
    without_score = {"attributes": ["Focused"]}
    assert (await put(alice, "flowAttributes", without_score)).status_code == 200
    stored = (await alice.get("/api/assessments/flowAttributes")).json()["results"]
    assert stored == without_score
    zeros = {"wellBeingLevel": 0, "futureWellBeingLevel": 0}
    assert (await put(alice, "cantrilLadder", zeros)).status_code == 200
    assert (await alice.get("/api/assessments/cantrilLadder")).json()["results"] == zeros


async def test_one_current_result_per_type(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    missing = (await alice.get("/api/assessments/starCard")).json()
    assert missing["results"] is None and missing["createdAt"] is None
    first = (await put(alice, "starCard", ASSESSMENTS["starCard"])).json()["assessment"]
    replacement = {"thinking": 25, "acting": 25, "feeling": 25, "planning": 25}
    second = (await put(alice, "starCard", replacement)).json()["assessment"]
    assert second["results"] == replacement
    assert second["createdAt"] == first["createdAt"]
    assert second["updatedAt"] >= first["updatedAt"]
    await put(alice, "cantrilLadder", ASSESSMENTS["cantrilLadder"])

    listing = (await alice.get("/api/assessments")).json()
    assert listing["success"] is True
    assert set(listing["assessments"]) == {"starCard", "cantrilLadder"}
    assert listing["assessments"]["starCard"]["results"] == replacement
    assert (await bob.get("/api/assessments")).json()["assessments"] == {}
    assert (await bob.get("/api/assessments/starCard")).json()["results"] is None


STAR = {"thinking": 25, "acting": 25, "feeling": 25, "planning": 25}
CAPABILITIES = {"imagination": 1, "curiosity": 2, "empathy": 3, "creativity": 4, "courage": 5}


@pytest.mark.parametrize(
    ("kind", "results", "named"),
    [
        ("starCard", {**STAR, "planning": 24}, "sum to 100, not 99"),
        ("starCard", {**STAR, "thinking": -1, "acting": 51}, "results.thinking"),
        ("starCard", {**STAR, "thinking": 101, "acting": -51}, "results.thinking"),
        ("starCard", {**STAR, "thinking": 25.0}, "results.thinking"),
        ("starCard", {**STAR, "thinking": "25"}, "results.thinking"),
        ("starCard", {"thinking": 50, "acting": 50, "feeling": 0}, "results.planning"),
        ("starCard", {**STAR, "extra": 1}, "results.extra"),
        ("flowAssessment", {"answers": {"q1": 6}}, "results.answers.q1"),
        ("flowAssessment", {"answers": {"q1": 0}}, "results.answers.q1"),
        ("flowAssessment", {"answers": {"q1": True}}, "results.answers.q1"),
        ("flowAssessment", {"answers": {}}, "results.answers"),
        ("flowAssessment", {"answers": {"q1": 3}, "flowScore": 1.5}, "results.flowScore"),
        ("flowAssessment", {"answers": {"q1": 3}, "flow_score": 3}, "results.flow_score"),
        ("flowAttributes", {"attributes": []}, "results.attributes"),
        ("flowAttributes", {"attributes": ["a", "b", "c", "d", "e"]}, "results.attributes"),
        ("flowAttributes", {"attributes": [1]}, "results.attributes[0]"),
        ("flowAttributes", {"attributes": [""]}, "results.attributes[0]"),
        ("iaCoreCapabilities", {**CAPABILITIES, "courage": 0}, "results.courage"),
        ("iaCoreCapabilities", {**CAPABILITIES, "courage": 6}, "results.courage"),
        ("iaCoreCapabilities", {"imagination": 1}, "results.curiosity"),
        ("cantrilLadder", {"wellBeingLevel": 11, "futureWellBeingLevel": 1}, "wellBeingLevel"),
        ("cantrilLadder", {"wellBeingLevel": 1, "futureWellBeingLevel": -1}, "futureWell"),
        ("cantrilLadder", {"wellBeingLevel": 1}, "results.futureWellBeingLevel"),
        (
            "cantrilLadder",
            {"wellBeingLevel": 1, "futureWellBeingLevel": 2, "note": 5},
            "results.note",
        ),
    ],
)
async def test_invalid_results_are_refused(
    alice: httpx.AsyncClient, kind: str, results: dict[str, Any], named: str
) -> None:
    response = await put(alice, kind, results)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_results"
    assert named in body["error"]
    assert (await alice.get(f"/api/assessments/{kind}")).json()["results"] is None


async def test_unknown_type_bad_body_and_unstorable_text(alice: httpx.AsyncClient) -> None:
    unknown = await put(alice, "horoscope", {"sign": "Leo"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalid_assessment_type"
    assert (await alice.get("/api/assessments/horoscope")).status_code == 400
    not_object = await put(alice, "starCard", [25, 25, 25, 25])
    assert not_object.status_code == 400 and not_object.json()["code"] == "invalid_body"
    no_results = await alice.put("/api/assessments/starCard", json={"thinking": 100})
    assert no_results.status_code == 400
    nul = await put(
        alice, "cantrilLadder", {"wellBeingLevel": 1, "futureWellBeingLevel": 2, "n": "a\u0000"}
    )
    assert nul.status_code == 400
    assert nul.json()["code"] == "invalid_data"
    assert nul.json()["path"] == "results.n"
    assert (await alice.get("/api/assessments")).json()["assessments"] == {}
