"""Uploads: type sniffing, the size limit, dedupe, who may read a file, cascade delete."""

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.api.images import (
    GIF,
    HTML,
    JPEG,
    JPEG_256,
    PNG,
    PNG_SIGNATURE_ONLY,
    SCRIPT,
    SVG_WITH_SCRIPT,
    TEXT,
    WEBP,
    XMP,
    animated_gif,
    big_png,
    exif_with,
    image_bytes,
    mpo,
    png_claiming,
    png_with_text,
)
from tests.api.support import ClientFor, login, new_client
from tests.support import Account, Backend, MakeAccount
from workshop_data.app import close_app, create_app
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import uploads
from workshop_data.uploads.service import MAX_PIXELS


async def upload(
    client: httpx.AsyncClient, content: bytes, content_type: str = "image/png"
) -> httpx.Response:
    return await client.post(
        "/api/uploads", content=content, headers={"Content-Type": content_type}
    )


async def stored_count(backend: Backend, user_id: int | None = None) -> int:
    engine = create_engine(backend.settings())
    query = select(func.count()).select_from(uploads)
    if user_id is not None:
        query = query.where(uploads.c.user_id == user_id)
    async with engine.connect() as conn:
        count = int((await conn.execute(query)).scalar_one())
    await engine.dispose()
    return count


async def test_png_labelled_jpeg_is_stored_as_png_and_served_with_the_contract_headers(
    alice: httpx.AsyncClient,
) -> None:
    response = await upload(alice, PNG, "image/jpeg")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    stored = body["upload"]
    sha = hashlib.sha256(PNG).hexdigest()
    assert stored["contentType"] == "image/png"
    assert stored["size"] == len(PNG)
    assert stored["sha256"] == sha
    assert stored["url"] == f"/api/uploads/{stored['id']}"
    assert stored["createdAt"].endswith("Z")
    assert response.headers["Location"] == stored["url"]

    served = await alice.get(stored["url"])
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers.get_list("cache-control") == ["private, max-age=31536000, immutable"]
    assert served.headers["etag"] == f'"{sha}"'

    again = await alice.get(stored["url"], headers={"If-None-Match": f'W/"{sha}"'})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    ("content", "expected"),
    [(JPEG, "image/jpeg"), (WEBP, "image/webp"), (GIF, "image/gif"), (PNG, "image/png")],
    ids=["jpeg", "webp", "gif", "png"],
)
async def test_each_accepted_type_is_sniffed_from_its_bytes(
    alice: httpx.AsyncClient, content: bytes, expected: str
) -> None:
    response = await upload(alice, content, "application/octet-stream")
    assert response.status_code == 201, response.text
    assert response.json()["upload"]["contentType"] == expected
    served = await alice.get(response.json()["upload"]["url"])
    assert served.headers["content-type"] == expected
    assert served.content == content


REFUSED = [
    ("svg with script labelled png", SVG_WITH_SCRIPT, "image/png"),
    ("svg with script as octet-stream", SVG_WITH_SCRIPT, "application/octet-stream"),
    ("text labelled png", TEXT, "image/png"),
    ("png signature only", PNG_SIGNATURE_ONLY, "image/png"),
    ("png cut in half", PNG[: len(PNG) // 2], "image/png"),
    ("png without its end", PNG[:-12], "image/png"),
    ("jpeg cut in half", JPEG[: len(JPEG) // 2], "image/jpeg"),
    ("jpeg scan cut short", JPEG_256[: len(JPEG_256) * 4 // 5], "image/jpeg"),
    ("gif without its trailer", GIF[:-1], "image/gif"),
    ("webp cut short", WEBP[: len(WEBP) - 10], "image/webp"),
    ("empty body", b"", "image/png"),
]


@pytest.mark.parametrize(
    ("case", "content", "content_type"), REFUSED, ids=[case[0] for case in REFUSED]
)
async def test_anything_but_a_whole_image_is_415_and_nothing_is_stored(
    alice: httpx.AsyncClient,
    backend: Backend,
    accounts: dict[str, Account],
    case: str,
    content: bytes,
    content_type: str,
) -> None:
    response = await upload(alice, content, content_type)
    assert response.status_code == 415, response.text
    assert response.json() == {
        "success": False,
        "error": response.json()["error"],
        "code": "unsupported_image",
    }
    assert await stored_count(backend, accounts["alice"].id) == 0


@pytest.mark.parametrize("content_type", ["image/svg+xml", "text/plain", "multipart/form-data"])
async def test_other_labels_are_refused_before_the_body_is_read(
    alice: httpx.AsyncClient, content_type: str
) -> None:
    response = await upload(alice, PNG, content_type)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


async def test_cross_site_upload_is_refused(alice: httpx.AsyncClient, backend: Backend) -> None:
    response = await alice.post(
        "/api/uploads",
        content=PNG,
        headers={"Content-Type": "image/png", "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "cross_site_request"
    assert await stored_count(backend) == 0


@pytest.fixture
async def small_limits(
    backend: Backend, accounts: dict[str, Account]
) -> AsyncIterator[httpx.AsyncClient]:
    """alice on an app whose uploads may be 50,000 bytes and other bodies only 2,048."""
    application = create_app(backend.settings(max_upload_bytes=50_000, max_body_bytes=2048))
    async with new_client(application) as client:
        assert (await login(client, accounts["alice"])).status_code == 200
        yield client
    await close_app(application)


async def test_upload_over_the_limit_is_413_and_nothing_is_stored(
    small_limits: httpx.AsyncClient, backend: Backend
) -> None:
    too_big = big_png(50_001)
    assert len(too_big) > 50_000
    response = await upload(small_limits, too_big)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(too_big), 8192):
            yield too_big[start : start + 8192]

    chunked = await small_limits.post(
        "/api/uploads", content=chunks(), headers={"Content-Type": "image/png"}
    )
    assert chunked.status_code == 413
    assert await stored_count(backend) == 0


async def test_the_upload_limit_applies_to_the_upload_route_only(
    small_limits: httpx.AsyncClient,
) -> None:
    fits = big_png(10_000)
    assert 2048 < len(fits) <= 50_000
    assert (await upload(small_limits, fits)).status_code == 201
    save = await small_limits.post(
        "/api/workshop-data/step",
        json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"t": "x" * 3000}},
    )
    assert save.status_code == 413


async def test_same_bytes_twice_give_the_same_upload(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, backend: Backend
) -> None:
    first = await upload(alice, PNG)
    second = await upload(alice, PNG, "application/octet-stream")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["upload"] == first.json()["upload"]
    assert "Location" not in second.headers
    # Per user: bob's copy is his own.
    bobs = await upload(bob, PNG)
    assert bobs.status_code == 201
    assert bobs.json()["upload"]["id"] != first.json()["upload"]["id"]
    assert await stored_count(backend) == 2


READERS = {"alice": 200, "fran": 200, "root": 200, "bob": 404, "gus": 404}


@pytest.mark.usefixtures("fran_facilitates_alice")
@pytest.mark.parametrize("persona", [*READERS, "anonymous"])
async def test_only_the_owner_their_facilitator_and_admins_can_read_an_upload(
    persona: str,
    accounts: dict[str, Account],
    client_for: ClientFor,
    anon: httpx.AsyncClient,
) -> None:
    alice = await client_for(accounts["alice"])
    url = (await upload(alice, PNG)).json()["upload"]["url"]
    client = anon if persona == "anonymous" else await client_for(accounts[persona])
    response = await client.get(url)
    if persona == "anonymous":
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        return
    assert response.status_code == READERS[persona]
    if response.status_code == 200:
        assert response.content == PNG
        return
    # Exactly what an id that does not exist gets.
    missing = await client.get("/api/uploads/" + "0" * 32)
    assert missing.status_code == 404
    assert response.json() == missing.json()
    assert response.json()["code"] == "not_found"
    malformed = await client.get("/api/uploads/not-an-id")
    assert malformed.status_code == 404 and malformed.json() == missing.json()


async def test_deleting_a_user_deletes_their_uploads(
    make_account: MakeAccount,
    client_for: ClientFor,
    root: httpx.AsyncClient,
    backend: Backend,
    alice: httpx.AsyncClient,
) -> None:
    account = await make_account()
    client = await client_for(account)
    assert (await upload(client, PNG)).status_code == 201
    assert (await upload(client, JPEG)).status_code == 201
    assert (await upload(alice, PNG)).status_code == 201
    assert await stored_count(backend, account.id) == 2
    assert (await root.delete(f"/api/admin/users/{account.id}")).status_code == 200
    assert await stored_count(backend, account.id) == 0
    assert await stored_count(backend) == 1  # alice's stays


POLYGLOTS = [
    ("png then html", PNG + HTML),
    ("jpeg then html", JPEG + HTML),
    ("webp then html", WEBP + HTML),
    ("gif then html", GIF + HTML),
    ("mpo then html", mpo() + HTML),
    ("png then one byte", PNG + b"\x00"),
    ("jpeg then one byte", JPEG + b"<"),
    ("webp padded past its riff size", WEBP + b"\x00\x00"),
    ("gif then nul bytes", GIF + b"\x00" * 4),
    ("png tEXt with a script", png_with_text(SCRIPT, "tEXt")),
    ("png zTXt with a script", png_with_text(SCRIPT, "zTXt")),
    ("png iTXt with a script", png_with_text("<html><body onload=alert(1)>", "iTXt")),
    ("jpeg comment with a script", image_bytes("JPEG", comment=SCRIPT.encode())),
    ("jpeg xmp with a script", image_bytes("JPEG", xmp=XMP.replace(b"<dc:title>", b"<script>"))),
    (
        "jpeg xmp declaring xhtml",
        image_bytes(
            "JPEG", xmp=XMP.replace(b"purl.org/dc/elements/1.1/", b"www.w3.org/1999/xhtml")
        ),
    ),
    (
        "jpeg exif with an img tag",
        image_bytes("JPEG", exif=exif_with("<img src=x onerror=alert(1)>")),
    ),
    ("webp xmp with html", image_bytes("WEBP", xmp=HTML)),
    ("webp exif with a script", image_bytes("WEBP", exif=exif_with(SCRIPT))),
    ("gif comment with an svg", image_bytes("GIF", comment=b"<svg onload=alert(1)>")),
]


@pytest.mark.parametrize(("case", "content"), POLYGLOTS, ids=[case for case, _ in POLYGLOTS])
async def test_an_image_that_is_also_a_document_is_415_and_nothing_is_stored(
    alice: httpx.AsyncClient,
    backend: Backend,
    accounts: dict[str, Account],
    case: str,
    content: bytes,
) -> None:
    response = await upload(alice, content, "application/octet-stream")
    assert response.status_code == 415, (case, response.text)
    assert response.json()["code"] == "unsupported_image"
    assert "more than an image" in response.json()["error"]
    assert await stored_count(backend, accounts["alice"].id) == 0


CLEAN_WITH_METADATA = [
    (
        "png with a plain text chunk",
        png_with_text("Made with a drawing app, 2 < 3", "tEXt"),
        "image/png",
    ),
    ("png with an xmp packet", png_with_text(XMP.decode(), "iTXt"), "image/png"),
    (
        "jpeg with exif, xmp and a comment",
        image_bytes(
            "JPEG", exif=exif_with("Our team board"), xmp=XMP, comment=b"Taken at the workshop"
        ),
        "image/jpeg",
    ),
    ("mpo from a phone camera", mpo(), "image/jpeg"),
    ("progressive jpeg", image_bytes("JPEG", (300, 200), progressive=True), "image/jpeg"),
    ("webp with exif and xmp", image_bytes("WEBP", exif=exif_with("Board"), xmp=XMP), "image/webp"),
    ("animated gif", animated_gif(), "image/gif"),
    ("gif with a plain comment", image_bytes("GIF", comment=b"Our board"), "image/gif"),
]


@pytest.mark.parametrize(
    ("case", "content", "content_type"),
    CLEAN_WITH_METADATA,
    ids=[case for case, _, _ in CLEAN_WITH_METADATA],
)
async def test_images_with_ordinary_metadata_are_stored_as_sent(
    alice: httpx.AsyncClient, case: str, content: bytes, content_type: str
) -> None:
    response = await upload(alice, content, "application/octet-stream")
    assert response.status_code == 201, (case, response.text)
    assert response.json()["upload"]["contentType"] == content_type
    served = await alice.get(response.json()["upload"]["url"])
    assert served.content == content


@pytest.mark.parametrize(("width", "height"), [(8000, 7000), (50_001, 1000), (7072, 7071)])
async def test_an_image_over_the_pixel_limit_is_413_by_its_header_alone(
    alice: httpx.AsyncClient,
    backend: Backend,
    accounts: dict[str, Account],
    width: int,
    height: int,
) -> None:
    # Tens of megapixels, fewer than Pillow's own decompression-bomb limit (about 89 million):
    # only the server's limit (MAX_PIXELS, 50 million) refuses it, before decoding.
    assert Image.MAX_IMAGE_PIXELS is not None
    assert MAX_PIXELS < width * height < Image.MAX_IMAGE_PIXELS
    response = await upload(alice, png_claiming(width, height))
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "payload_too_large"
    assert f"{width}x{height}" in response.json()["error"]
    assert await stored_count(backend, accounts["alice"].id) == 0


async def test_an_image_just_within_the_pixel_limit_is_judged_on_its_data(
    alice: httpx.AsyncClient,
) -> None:
    # 50 million pixels exactly: not too large; its few bytes of data are no whole image.
    response = await upload(alice, png_claiming(10_000, 5_000))
    assert response.status_code == 415, response.text
