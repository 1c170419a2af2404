import httpx


async def test_catalog_lists_both_workshops_by_section(alice: httpx.AsyncClient) -> None:
    response = await alice.get("/api/catalog")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    workshops = {w["type"]: w for w in body["workshops"]}
    assert set(workshops) == {"ast", "ia"}
    assert [s["key"] for s in workshops["ast"]["sections"]] == [
        "intro",
        "assess",
        "reflect",
        "plan",
    ]
    assert [s["key"] for s in workshops["ia"]["sections"]] == [
        "intro",
        "assess",
        "imagine",
        "integrate",
    ]
    section = workshops["ia"]["sections"][2]
    assert set(section) == {"number", "key", "title", "locksOnCompletion", "steps"}
    assert {"id": "ia-3-4", "title": "Reflection questions", "required": True} in section["steps"]
