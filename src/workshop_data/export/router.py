from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from workshop_data.api_schema import ErrorResponse
from workshop_data.deps import (
    CatalogDep,
    CurrentUser,
    DbDep,
    UploadStoreDep,
    UserIdPath,
)
from workshop_data.export import service
from workshop_data.export.schemas import ExportData
from workshop_data.timeutil import utc_now
from workshop_data.users.access import readable_user

router = APIRouter(prefix="/api/export", tags=["export"])


@router.get(
    "/users/{userId}",
    response_model=ExportData,
    responses={
        200: {"description": "The export, as a download (Content-Disposition: attachment)."},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        403: {
            "model": ErrorResponse,
            "description": "The caller is not that user, their facilitator or an "
            "administrator (`forbidden`).",
        },
        404: {
            "model": ErrorResponse,
            "description": "There is no user with that id; only administrators learn this "
            "(`not_found`).",
        },
    },
)
async def export_user(
    user_id: UserIdPath,
    user: CurrentUser,
    db: DbDep,
    catalog: CatalogDep,
    store: UploadStoreDep,
    history: Annotated[
        bool, Query(description="Also every kept version of every step (workshopStepHistory).")
    ] = False,
) -> Response:
    """Export a user's data.

    Everything the user entered. For the user, their facilitator and administrators."""
    owner = await readable_user(db, user, user_id)
    now = utc_now()
    document = await service.export_user(
        db, catalog, owner.id, user.username, now, store, history=history
    )
    return Response(
        orjson.dumps(document),
        media_type="application/json",
        headers={"Content-Disposition": service.content_disposition(owner.username, now)},
    )
