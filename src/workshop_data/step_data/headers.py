"""What the step write routes read from their headers: the version in If-Match (or
X-Base-Version), the request id in Idempotency-Key, the schema version in X-Schema-Version; and
the ETag they answer with; the writing device in X-Device-Id."""

import re

from workshop_data.errors import InvalidInput
from workshop_data.step_data.schemas import MAX_REQUEST_ID_LENGTH, MAX_VERSION

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


MAX_DEVICE_ID_LENGTH = 64


def device_id_of(header: str | None) -> str | None:
    """The device (or tab) a write came from, as its `X-Device-Id` header names it: 1 to 64
    printable ASCII characters; anything else is no device id (never a refusal: the header
    only labels the write's event)."""
    if header is None or not 0 < len(header) <= MAX_DEVICE_ID_LENGTH:
        return None
    return header if header.isascii() and header.isprintable() else None


def request_id_of(header: str | None, body: str | None) -> str | None:
    request_id = header if header is not None else body
    if request_id is not None and not 0 < len(request_id) <= MAX_REQUEST_ID_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_REQUEST_ID_LENGTH} characters.",
            code="invalid_idempotency_key",
        )
    return request_id


def base_version_of(body: int | None, if_match: str | None) -> int | None:
    if body is not None or if_match is None:
        return body
    match = _ETAG.match(if_match)
    if match is None or int(match.group(1)) > MAX_VERSION:
        raise InvalidInput('If-Match must be a version such as "3".', code="invalid_if_match")
    return int(match.group(1))


def patch_base_version_of(if_match: str | None, x_base_version: str | None) -> int | None:
    from_etag = base_version_of(None, if_match)
    if x_base_version is None:
        return from_etag
    stripped = x_base_version.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 10:
        raise InvalidInput(
            "X-Base-Version must be a version such as 3.", code="invalid_base_version"
        )
    version = int(stripped)
    if from_etag is not None and from_etag != version:
        raise InvalidInput(
            "If-Match and X-Base-Version name different versions.", code="invalid_base_version"
        )
    return version


def schema_version_of(x_schema_version: str | None) -> int | None:
    if x_schema_version is None:
        return None
    stripped = x_schema_version.strip()
    if (
        not stripped.isascii()
        or not stripped.isdigit()
        or len(stripped) > 10
        or not 1 <= int(stripped) <= MAX_VERSION
    ):
        raise InvalidInput(
            "X-Schema-Version must be a schema version such as 2.", code="invalid_schema_version"
        )
    return int(stripped)
