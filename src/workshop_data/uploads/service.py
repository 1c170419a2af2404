"""Uploads: images stored once per user under their SHA-256, served to the owner, the owner's
facilitator and administrators, referred to from step documents by URL."""

import hashlib
import io
import re
import secrets
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
import orjson
from PIL import (
    GifImagePlugin,
    Image,
    JpegImagePlugin,
    MpoImagePlugin,
    PngImagePlugin,
    WebPImagePlugin,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.errors import NotFound, PayloadTooLarge, UnsupportedImage
from workshop_data.timeutil import utc_now
from workshop_data.uploads.storage import URL_PREFIX, NewUpload, UploadInfo, UploadStore
from workshop_data.uploads.structure import NotACleanImage, check_clean_image
from workshop_data.users.access import can_read
from workshop_data.users.service import User, get_user

# Pillow's format ids (their plugins registered by the import above, and only these are
# tried); the JPEG plugin opens the multi-picture JPEGs many phone cameras write as MPO.
_PLUGINS = (GifImagePlugin, JpegImagePlugin, MpoImagePlugin, PngImagePlugin, WebPImagePlugin)
_CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
_OPENED_AS = ["PNG", "JPEG", "WEBP", "GIF"]
# Decoding is what proves a file whole; this bounds the memory it takes (about 200 MB).
MAX_PIXELS = 50_000_000
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_REFERENCE = re.compile(re.escape(URL_PREFIX).encode() + rb"([0-9a-f]{32})")


@dataclass(frozen=True)
class StoredUpload:
    info: UploadInfo
    created: bool


def _decode_fully(content: bytes) -> str:
    """The content type of a complete PNG, JPEG, WebP or GIF image, read from its bytes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(content), formats=_OPENED_AS) as image:
            image_format = str(image.format)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PayloadTooLarge(
                    f"The image is {width}x{height} pixels; at most {MAX_PIXELS} pixels "
                    "are accepted."
                )
            check_clean_image(content)  # nothing after the image, no markup in it
            image.verify()  # PNG: every chunk's checksum, up to IEND
        with Image.open(io.BytesIO(content), formats=_OPENED_AS) as image:
            if image_format in ("JPEG", "MPO"):
                # Scaled decoding still reads every byte of the scan, at an eighth of the work.
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()  # a truncated image fails here
    return _CONTENT_TYPES[image_format]


def sniff_image_type(content: bytes) -> str:
    """The image's real type, or UnsupportedImage (SVG, text, anything truncated or broken)."""
    if not content:
        raise UnsupportedImage("The upload is empty; send a PNG, JPEG, WebP or GIF image.")
    try:
        return _decode_fully(content)
    except PayloadTooLarge:
        raise
    except NotACleanImage:
        raise UnsupportedImage(
            "The upload holds more than an image (bytes after its end, or markup in its "
            "metadata); save it again as a plain PNG, JPEG, WebP or GIF image."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PayloadTooLarge(
            f"The image has more than {MAX_PIXELS} pixels, which is not accepted."
        ) from None
    except Exception:
        # Untrusted bytes: whatever the decoders raise means "not an image we accept".
        raise UnsupportedImage(
            "The upload is not a complete PNG, JPEG, WebP or GIF image (SVG and other "
            "formats are not accepted)."
        ) from None


async def store_upload(
    conn: AsyncConnection,
    store: UploadStore,
    user_id: int,
    content: bytes,
    max_bytes: int,
) -> StoredUpload:
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"The upload is larger than {max_bytes} bytes.")
    content_type = await anyio.to_thread.run_sync(sniff_image_type, content)
    new = NewUpload(
        id=secrets.token_hex(16),
        user_id=user_id,
        sha256=hashlib.sha256(content).hexdigest(),
        content_type=content_type,
        content=content,
        now=utc_now(),
    )
    info, created = await store.add(conn, new)
    return StoredUpload(info, created)


async def readable_upload(
    conn: AsyncConnection, store: UploadStore, viewer: User, upload_id: str
) -> UploadInfo:
    """The upload, if `viewer` may read it; NotFound otherwise, as if it did not exist."""
    missing = NotFound("There is no upload at this address.")
    if not _UPLOAD_ID.match(upload_id):
        raise missing
    info = await store.find(conn, upload_id)
    if info is None:
        raise missing
    if info.user_id != viewer.id and not viewer.is_admin:
        owner = await get_user(conn, info.user_id)
        if owner is None or not can_read(viewer, owner):
            raise missing
    return info


async def upload_content(conn: AsyncConnection, store: UploadStore, info: UploadInfo) -> bytes:
    content = await store.content(conn, info.id)
    if content is None:
        raise NotFound("There is no upload at this address.")
    return content


def referenced_upload_ids(document: Any) -> list[str]:
    """The ids of the uploads a step document refers to ("/api/uploads/<id>" anywhere in it)."""
    encoded = orjson.dumps(document)
    if URL_PREFIX.encode() not in encoded:
        return []
    return sorted({match.decode() for match in _REFERENCE.findall(encoded)})


async def prune(
    conn: AsyncConnection,
    store: UploadStore,
    unreferenced_for: timedelta,
    dry_run: bool,
    now: datetime | None = None,
) -> list[UploadInfo]:
    if unreferenced_for <= timedelta(0):
        raise ValueError("the age must be positive")
    now = now or utc_now()
    return await store.prune(conn, now - unreferenced_for, now, dry_run)


async def uploads_of_users(
    conn: AsyncConnection, store: UploadStore, user_ids: Sequence[int]
) -> list[UploadInfo]:
    return await store.list_for_users(conn, user_ids)
