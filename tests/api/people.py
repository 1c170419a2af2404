"""Helpers for the role, export and admin tests: facilitator assignment, a participant's full
set of data entered through the API, and what the tables still hold about a user."""

from typing import Any

import httpx
from sqlalchemy import func, select, update

from tests.api.images import GIF, PNG
from tests.support import Backend
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import metadata, users

# A 1x1 PNG as a data URL, as the original image step stored it (docs/contract.md#example-steps).
IMAGE_DATA_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
    "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

STEP_DATA: dict[tuple[str, str], dict[str, Any]] = {
    ("ast", "2-1"): {"starPower": "Thinking", "reflection": "Ich plane gern — 計画 🚀"},
    ("ast", "3-2"): {"goals": ["Goal 1", "Goal 2", ["nested", ["deeper", {"k": []}]]], "x": ""},
    ("ast", "1-1"): {"notes": "", "empty": {}, "list": [], "zero": 0, "no": False, "n": None},
    ("ia", "ia-3-2"): {
        "savedMoments": [
            {"text": "A childhood memory...", "tag": "Memory"},
            {"text": 'Ünïcödé \u2028 line\nbreak "quoted" \\ back', "tag": "Surprise"},
        ]
    },
    ("ia", "ia-3-4"): {
        "whyReflection": "Because",
        "howReflection": "",
        "image": IMAGE_DATA_URL,
        "score": 1.5,
    },
}

ASSESSMENTS: dict[str, dict[str, Any]] = {
    "starCard": {"thinking": 0, "acting": 40, "feeling": 35, "planning": 25},
    "flowAssessment": {"answers": {"q1": 1, "q2": 5, "q3": 3}, "flowScore": 9},
    "flowAttributes": {"attributes": ["Focused", "Calm"]},
    "iaCoreCapabilities": {
        "imagination": 5,
        "curiosity": 1,
        "empathy": 3,
        "creativity": 4,
        "courage": 2,
    },
    "cantrilLadder": {
        "wellBeingLevel": 0,
        "futureWellBeingLevel": 10,
        "currentFactors": "",
        "futureImprovements": "Mehr Schlaf 😴",
    },
}

# Files uploaded, in upload order.
UPLOADS = [(PNG, "image/png"), (GIF, "image/gif")]

PROGRESS: dict[str, dict[str, Any]] = {
    "ast": {
        "currentStepId": "3-2",
        "completedSteps": ["2-1", "1-1"],
        "unlockedSteps": ["1-1", "2-1", "3-2"],
        "videoProgress": {"intro-video": 100, "star-card": 37.5},
    },
    "ia": {
        "currentStepId": "ia-3-4",
        "completedSteps": ["ia-3-2"],
        "unlockedSteps": ["ia-3-2", "ia-3-4"],
        "videoProgress": {},
    },
}


async def set_facilitator(backend: Backend, user_id: int, facilitator_id: int | None) -> None:
    engine = create_engine(backend.settings())
    async with engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user_id).values(facilitator_id=facilitator_id)
        )
    await engine.dispose()


async def enter_everything(client: httpx.AsyncClient) -> None:
    """Step data in both workshops, progress in both, every assessment type, uploads."""
    for (workshop, step), data in STEP_DATA.items():
        response = await client.post(
            "/api/workshop-data/step",
            json={"workshopType": workshop, "stepId": step, "data": data},
        )
        assert response.status_code == 200, response.text
    for workshop, progress in PROGRESS.items():
        response = await client.put(f"/api/navigation-progress/{workshop}", json=progress)
        assert response.status_code == 200, response.text
    for kind, results in ASSESSMENTS.items():
        response = await client.put(f"/api/assessments/{kind}", json={"results": results})
        assert response.status_code == 200, response.text
    for content, content_type in UPLOADS:
        response = await client.post(
            "/api/uploads", content=content, headers={"Content-Type": content_type}
        )
        assert response.status_code == 201, response.text


async def rows_about(backend: Backend, user_id: int) -> dict[str, int]:
    """For every table, how many rows refer to the user through any column that references
    users.id (and the users row itself): all zero once the user is deleted."""
    found: dict[str, int] = {}
    engine = create_engine(backend.settings())
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                refers = any(fk.column is users.c.id for fk in column.foreign_keys)
                if refers or (table is users and column is users.c.id):
                    count = (
                        await conn.execute(
                            select(func.count()).select_from(table).where(column == user_id)
                        )
                    ).scalar_one()
                    found[f"{table.name}.{column.name}"] = count
    await engine.dispose()
    return found
