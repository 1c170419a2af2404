"""Pieces every domain's schemas share: camelCase JSON and the error body."""

from fastapi import Response
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ErrorResponse(BaseModel):
    success: bool = False
    error: str
    code: str


def api_response(
    model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialise a response model straight to JSON bytes (no second validation pass)."""
    return Response(
        content=model.model_dump_json(by_alias=True),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def unavailable_or_busy(why_busy: str) -> dict[str, object]:
    """A route's 503 in `responses=` where, besides the database being unreachable, the route
    may be too busy: `why_busy` completes "or ..." in the description."""
    return {
        "model": ErrorResponse,
        "description": "The database is not reachable (`database_unavailable`), or "
        f"{why_busy} (`busy`). `Retry-After` says when to try again.",
    }
