"""Image files made on the spot with Pillow, and files that only pretend to be images."""

import io
import os
import struct
import zlib
from typing import Any

from PIL import Image, PngImagePlugin


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


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SCRIPT = "<script>alert(document.cookie)</script>"
# An XMP packet as cameras and editors write it: namespaced XML, no HTML.
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:title>Vision board</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>"
    b'<?xpacket end="w"?>'
)


def png_with_text(text: str, how: str) -> bytes:
    """A PNG carrying `text` in a tEXt, zTXt or iTXt chunk."""
    info = PngImagePlugin.PngInfo()
    if how == "tEXt":
        info.add_text("Comment", text)
    elif how == "zTXt":
        info.add_text("Comment", text, zip=True)
    else:
        info.add_itxt("Comment", text, lang="en", tkey="Comment", zip=True)
    return image_bytes("PNG", pnginfo=info)


def exif_with(description: str) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010E] = description  # ImageDescription
    exif[0x010F] = "Camera maker"
    return exif


def mpo() -> bytes:
    """A multi-picture JPEG as phone cameras write (the second picture after the first EOI)."""
    first = Image.new("RGB", (48, 32), (20, 120, 200))
    second = Image.new("RGB", (48, 32), (200, 120, 20))
    sink = io.BytesIO()
    first.save(sink, format="MPO", save_all=True, append_images=[second])
    return sink.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    sink = io.BytesIO()
    frames[0].save(sink, format="GIF", save_all=True, append_images=frames[1:], loop=0)
    return sink.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG whose header claims `width` x `height` pixels, with a few bytes of
    image data: only its header is large."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
