"""Image files made on the spot with Pillow, and files that only pretend to be images."""

import io
import os
from typing import Any

from PIL import Image


def image_bytes(image_format: str, size: tuple[int, int] = (32, 24), **options: Any) -> bytes:
    image = Image.new("RGB", size, (200, 40, 90))
    for x in range(0, size[0], 3):  # some detail, so the encoded file is not trivially short
        image.putpixel((x, x % size[1]), (x % 256, 255 - x % 256, 7))
    sink = io.BytesIO()
    image.save(sink, format=image_format, **options)
    return sink.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG", quality=90)
# Large enough that a cut leaves every header whole and only the scan data short.
JPEG_256 = image_bytes("JPEG", (256, 256), quality=90)
WEBP = image_bytes("WEBP")
GIF = image_bytes("GIF")
PNG_SIGNATURE_ONLY = b"\x89PNG\r\n\x1a\n"
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>'
)
TEXT = b"Just some text, not an image at all.\n"


def big_png(minimum_bytes: int) -> bytes:
    """A valid PNG of at least this many bytes (noise does not compress)."""
    side = int((minimum_bytes / 3) ** 0.5) + 8
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    sink = io.BytesIO()
    image.save(sink, format="PNG")
    return sink.getvalue()
