from fastapi import APIRouter, Response

from workshop_data.api_schema import ErrorResponse, api_response, unavailable_or_busy
from workshop_data.deps import (
    CatalogDep,
    CurrentUser,
    DbDep,
    EventBusDep,
    JsonBody,
    JsonLimitsDep,
    WorkshopTypePath,
)
from workshop_data.events.schemas import ProgressChanged
from workshop_data.navigation import service
from workshop_data.navigation.schemas import (
    NavigationProgressResponse,
    ProgressLockedResponse,
    ProgressUpdate,
)
from workshop_data.timeutil import utc_now

router = APIRouter(prefix="/api/navigation-progress", tags=["navigation progress"])

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
}


@router.get("/{workshopType}", response_model=NavigationProgressResponse, responses=_ERRORS)
async def get_progress(
    workshop_type: WorkshopTypePath, user: CurrentUser, db: DbDep, catalog: CatalogDep
) -> Response:
    """The caller's navigation progress in a workshop (empty if never visited)."""
    workshop = catalog.check_workshop_type(workshop_type)
    return api_response(
        NavigationProgressResponse.of(workshop, await service.get_progress(db, user.id, workshop))
    )


@router.put(
    "/{workshopType}",
    response_model=NavigationProgressResponse,
    responses={
        **_ERRORS,
        503: unavailable_or_busy("the progress was changed by too many requests at once"),
    },
)
async def update_progress(
    workshop_type: WorkshopTypePath,
    user: CurrentUser,
    body: JsonBody[ProgressUpdate],
    db: DbDep,
    catalog: CatalogDep,
    limits: JsonLimitsDep,
    bus: EventBusDep,
) -> Response:
    """Record where the caller is in a workshop.

    The current step, the completed and unlocked steps, video progress and the time of the
    last visit."""
    change = service.check_change(catalog, workshop_type, body, limits)
    progress = await service.update_progress(db, catalog, user.id, change)
    bus.publish(ProgressChanged(user.id, change.workshop_type, utc_now()))
    return api_response(NavigationProgressResponse.of(change.workshop_type, progress))


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
    workshop_type: WorkshopTypePath,
    user: CurrentUser,
    db: DbDep,
    catalog: CatalogDep,
    bus: EventBusDep,
) -> Response:
    """Start a workshop's navigation over (refused once the workshop is completed)."""
    workshop = catalog.check_workshop_type(workshop_type)
    progress = await service.reset_progress(db, user.id, workshop)
    bus.publish(ProgressChanged(user.id, workshop, utc_now()))
    return api_response(NavigationProgressResponse.of(workshop, progress))
