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
    reflection = next(step for step in section["steps"] if step["id"] == "ia-3-4")
    assert reflection == {
        "id": "ia-3-4",
        "title": "Reflection questions",
        "required": True,
        "completedWhen": "answered",
        "answerFields": ["whyReflection", "howReflection", "whatReflection", "nextStep"],
    }
    welcome = workshops["ia"]["sections"][0]["steps"][0]
    assert welcome["completedWhen"] == "visited"
    assert welcome["answerFields"] is None


async def test_every_required_step_is_completed_by_an_answer(alice: httpx.AsyncClient) -> None:
    body = (await alice.get("/api/catalog")).json()
    for workshop in body["workshops"]:
        for section in workshop["sections"]:
            for step in section["steps"]:
                expected = "answered" if step["required"] else "visited"
                assert step["completedWhen"] == expected, step["id"]
