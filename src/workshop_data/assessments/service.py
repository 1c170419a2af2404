"""Assessment results: one current result per user and assessment type."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.assessments.schemas import RESULT_MODELS
from workshop_data.db.dialect import upsertable_insert
from workshop_data.db.tables import assessments
from workshop_data.errors import InvalidInput
from workshop_data.json_input import DEFAULT_LIMITS, JsonLimits, check_document, json_path
from workshop_data.timeutil import utc_now

_COLUMNS = (
    assessments.c.assessment_type,
    assessments.c.results,
    assessments.c.created_at,
    assessments.c.updated_at,
)


@dataclass(frozen=True)
class Assessment:
    assessment_type: str
    results: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def _assessment(row: Any) -> Assessment:
    return Assessment(row.assessment_type, row.results, row.created_at, row.updated_at)


def check_assessment_type(assessment_type: str) -> str:
    if assessment_type not in RESULT_MODELS:
        allowed = ", ".join(f"'{t}'" for t in RESULT_MODELS)
        raise InvalidInput(
            f"assessmentType must be one of {allowed}; got '{assessment_type}'",
            code="invalid_assessment_type",
        )
    return assessment_type


def check_results(assessment_type: str, results: dict[str, Any], limits: JsonLimits) -> None:
    check_document(results, ("results",), limits)
    try:
        RESULT_MODELS[assessment_type].model_validate(results)
    except ValidationError as error:
        first = error.errors()[0]
        where = json_path(("results", *first["loc"]))
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidInput(
            f"{where}: {message} ({assessment_type})", code="invalid_results", path=where
        ) from None


async def save_assessment(
    conn: AsyncConnection,
    user_id: int,
    assessment_type: str,
    results: dict[str, Any],
    limits: JsonLimits = DEFAULT_LIMITS,
) -> Assessment:
    """Store the results as the user's current ones for this type (replacing earlier ones),
    once they fit that assessment's form and the document limits."""
    assessment_type = check_assessment_type(assessment_type)
    check_results(assessment_type, results, limits)
    now = utc_now()
    insert = upsertable_insert(conn.dialect.name, assessments).values(
        user_id=user_id,
        assessment_type=assessment_type,
        results=results,
        created_at=now,
        updated_at=now,
    )
    statement = insert.on_conflict_do_update(
        index_elements=[assessments.c.user_id, assessments.c.assessment_type],
        set_={"results": insert.excluded.results, "updated_at": insert.excluded.updated_at},
    ).returning(*_COLUMNS)
    row = (await conn.execute(statement)).one()
    await conn.commit()
    return _assessment(row)


async def get_assessment(
    conn: AsyncConnection, user_id: int, assessment_type: str
) -> Assessment | None:
    row = (
        await conn.execute(
            select(*_COLUMNS).where(
                assessments.c.user_id == user_id, assessments.c.assessment_type == assessment_type
            )
        )
    ).first()
    return None if row is None else _assessment(row)


async def list_assessments(conn: AsyncConnection, user_id: int) -> list[Assessment]:
    rows = await conn.execute(
        select(*_COLUMNS)
        .where(assessments.c.user_id == user_id)
        .order_by(assessments.c.assessment_type)
    )
    return [_assessment(row) for row in rows]
