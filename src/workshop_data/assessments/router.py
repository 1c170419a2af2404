from typing import Annotated

from fastapi import APIRouter, Path, Response

from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.assessments import service
from workshop_data.assessments.schemas import (
    AssessmentListResponse,
    AssessmentOut,
    AssessmentResponse,
    SaveAssessmentRequest,
    SaveAssessmentResponse,
)
from workshop_data.deps import CurrentUser, DbDep, JsonBody, JsonLimitsDep
from workshop_data.timeutil import iso

router = APIRouter(prefix="/api/assessments", tags=["assessments"])
AssessmentTypePath = Annotated[
    str,
    Path(
        alias="assessmentType",
        description="which assessment",
        json_schema_extra={"enum": list(service.RESULT_MODELS)},
    ),
]

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
}


def assessment_out(assessment: service.Assessment) -> AssessmentOut:
    return AssessmentOut(
        assessment_type=assessment.assessment_type,
        results=assessment.results,
        created_at=iso(assessment.created_at),
        updated_at=iso(assessment.updated_at),
    )


@router.get("", response_model=AssessmentListResponse, responses=_ERRORS)
async def list_assessments(user: CurrentUser, db: DbDep) -> Response:
    """Every assessment the caller has saved, by type."""
    found = await service.list_assessments(db, user.id)
    return api_response(
        AssessmentListResponse(assessments={a.assessment_type: assessment_out(a) for a in found})
    )


@router.get("/{assessmentType}", response_model=AssessmentResponse, responses=_ERRORS)
async def get_assessment(
    assessment_type: AssessmentTypePath, user: CurrentUser, db: DbDep
) -> Response:
    """The caller's results of one assessment (`results: null` if not taken yet)."""
    kind = service.check_assessment_type(assessment_type)
    found = await service.get_assessment(db, user.id, kind)
    return api_response(
        AssessmentResponse(
            assessment_type=kind,
            results=None if found is None else found.results,
            created_at=None if found is None else iso(found.created_at),
            updated_at=None if found is None else iso(found.updated_at),
        )
    )


@router.put(
    "/{assessmentType}",
    response_model=SaveAssessmentResponse,
    responses={**_ERRORS, 413: {"model": ErrorResponse}},
)
async def save_assessment(
    assessment_type: AssessmentTypePath,
    user: CurrentUser,
    body: JsonBody[SaveAssessmentRequest],
    db: DbDep,
    limits: JsonLimitsDep,
) -> Response:
    """Save the caller's results of an assessment (checked against that assessment's form)."""
    saved = await service.save_assessment(db, user.id, assessment_type, body.results, limits)
    return api_response(SaveAssessmentResponse(assessment=assessment_out(saved)))
