from typing import Annotated

from fastapi import APIRouter, Depends, Response

from workshop_data.api_schema import ErrorResponse, api_response, unavailable_or_busy
from workshop_data.deps import (
    AutocommitDbDep,
    CatalogDep,
    CurrentUser,
    JsonLimitsDep,
    WorkshopTypePath,
    json_body,
    openapi_body,
)
from workshop_data.json_input import check_document
from workshop_data.navigation import service
from workshop_data.navigation.schemas import (
    NavigationProgressResponse,
    ProgressLockedResponse,
    ProgressUpdate,
)
from workshop_data.timeutil import iso

router = APIRouter(prefix="/api/navigation-progress", tags=["navigation progress"])

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
}


def progress_response(
    workshop_type: str, progress: service.Progress | None
) -> NavigationProgressResponse:
    """The stored progress, or the empty progress of a workshop not yet visited."""
    if progress is None:
        return NavigationProgressResponse(
            workshop_type=workshop_type,
            current_step_id=None,
            completed_steps=[],
            unlocked_steps=[],
            video_progress={},
            last_visited_at=None,
            version=None,
            created_at=None,
            updated_at=None,
        )
    return NavigationProgressResponse(
        workshop_type=progress.workshop_type,
        current_step_id=progress.current_step_id,
        completed_steps=progress.completed_steps,
        unlocked_steps=progress.unlocked_steps,
        video_progress=progress.video_progress,
        last_visited_at=iso(progress.last_visited_at),
        version=progress.version,
        created_at=iso(progress.created_at),
        updated_at=iso(progress.updated_at),
    )


@router.get("/{workshopType}", response_model=NavigationProgressResponse, responses=_ERRORS)
async def get_progress(
    workshop_type: WorkshopTypePath, user: CurrentUser, db: AutocommitDbDep, catalog: CatalogDep
) -> Response:
    """The caller's navigation progress in a workshop (empty if never visited)."""
    workshop = catalog.check_workshop_type(workshop_type)
    return api_response(
        progress_response(workshop, await service.get_progress(db, user.id, workshop))
    )


@router.put(
    "/{workshopType}",
    response_model=NavigationProgressResponse,
    responses={
        **_ERRORS,
        503: unavailable_or_busy("the progress was changed by too many requests at once"),
    },
    openapi_extra=openapi_body(ProgressUpdate),
)
async def update_progress(
    workshop_type: WorkshopTypePath,
    user: CurrentUser,
    body: Annotated[ProgressUpdate, Depends(json_body(ProgressUpdate))],
    db: AutocommitDbDep,
    catalog: CatalogDep,
    limits: JsonLimitsDep,
) -> Response:
    """Record where the caller is in a workshop.

    The current step, the completed and unlocked steps, video progress and the time of the
    last visit."""
    check_document(body.video_progress, ("videoProgress",), limits)
    change = service.check_change(catalog, workshop_type, body)
    progress = await service.update_progress(db, catalog, user.id, change)
    return api_response(progress_response(change.workshop_type, progress))


@router.post(
    "/{workshopType}/reset",
    response_model=NavigationProgressResponse,
    responses={
        **_ERRORS,
        423: {
            "model": ProgressLockedResponse,
            "description": "The workshop was completed, so its progress cannot be reset "
            "(`workshop_locked`).",
        },
        503: unavailable_or_busy("the progress was changed by too many requests at once"),
    },
)
async def reset_progress(
    workshop_type: WorkshopTypePath, user: CurrentUser, db: AutocommitDbDep, catalog: CatalogDep
) -> Response:
    """Start a workshop's navigation over (refused once the workshop is completed)."""
    workshop = catalog.check_workshop_type(workshop_type)
    return api_response(
        progress_response(workshop, await service.reset_progress(db, user.id, workshop))
    )
