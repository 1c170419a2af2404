from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.deps import CurrentUser, DbDep, SettingsDep, UploadStoreDep
from workshop_data.timeutil import iso
from workshop_data.uploads import service
from workshop_data.uploads.schemas import (
    IMAGE_CONTENT_TYPES,
    UPLOAD_CONTENT_TYPES,
    UploadOut,
    UploadResponse,
)
from workshop_data.uploads.storage import UploadInfo

router = APIRouter(prefix="/api/uploads", tags=["uploads"])

_IMAGE_BODY = {"schema": {"type": "string", "format": "binary"}}
_CACHE_FOREVER = "private, max-age=31536000, immutable"
UploadIdPath = Annotated[str, Path(alias="uploadId", max_length=64, description="an upload's id")]


def _upload_out(info: UploadInfo) -> UploadOut:
    return UploadOut(
        id=info.id,
        url=info.url,
        content_type=info.content_type,
        size=info.size,
        sha256=info.sha256,
        created_at=iso(info.created_at),
    )


def _etag(info: UploadInfo) -> str:
    return f'"{info.sha256}"'


@router.post(
    "",
    status_code=201,
    response_model=UploadResponse,
    responses={
        200: {"model": UploadResponse, "description": "The same bytes were uploaded before"},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        413: {
            "model": ErrorResponse,
            "description": "The image is larger than the upload limit, or has too many "
            "pixels (`payload_too_large`).",
        },
        415: {
            "model": ErrorResponse,
            "description": "The Content-Type is not an image type or "
            "application/octet-stream (`unsupported_media_type`), or the bytes are not a "
            "complete PNG, JPEG, WebP or GIF image (`unsupported_image`).",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The image file itself (not multipart).",
            "content": dict.fromkeys(sorted(UPLOAD_CONTENT_TYPES), _IMAGE_BODY),
        }
    },
)
async def upload_image(
    request: Request,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    store: UploadStoreDep,
) -> Response:
    """Upload an image.

    PNG, JPEG, WebP or GIF (sniffed from its bytes), stored once per user: the same bytes
    again answer 200 with the same upload."""
    stored = await service.store_upload(
        db, store, user.id, await request.body(), settings.max_upload_bytes
    )
    return api_response(
        UploadResponse(upload=_upload_out(stored.info)),
        status_code=201 if stored.created else 200,
        headers={"Location": stored.info.url} if stored.created else None,
    )


@router.get(
    "/{uploadId}",
    response_class=Response,
    responses={
        200: {
            "description": "The file, with its sniffed content type",
            "content": dict.fromkeys(sorted(IMAGE_CONTENT_TYPES), _IMAGE_BODY),
        },
        304: {"description": "Not modified (If-None-Match)"},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        404: {
            "model": ErrorResponse,
            "description": "No such upload, or the caller may not read it: the same answer "
            "(`not_found`).",
        },
    },
)
async def get_upload(
    upload_id: UploadIdPath,
    user: CurrentUser,
    db: DbDep,
    store: UploadStoreDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Download an upload.

    The file, for its owner, the owner's facilitator and administrators (404 for others)."""
    info = await service.readable_upload(db, store, user, upload_id)
    headers = {
        "ETag": _etag(info),
        "Cache-Control": _CACHE_FOREVER,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if if_none_match is not None and _etag(info) in (
        tag.strip().removeprefix("W/") for tag in if_none_match.split(",")
    ):
        return Response(status_code=304, headers=headers)
    content = await service.upload_content(db, store, info)
    return Response(content, media_type=info.content_type, headers=headers)
