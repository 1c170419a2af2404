"""The container of an uploaded image, walked block by block: nothing may follow the image's end
marker, and no text the file carries (PNG text chunks, JPEG comments and APPn segments, WebP
metadata chunks, GIF comments and extensions, EXIF text fields) may hold markup. Such a file
decodes as an image and is also a document that another program (a browser shown the file
under another type, a viewer of the download) reads as HTML, SVG or XML: a polyglot. Refused,
not cleaned (docs/api.md, "Uploads").

Pillow proves the image itself whole (uploads/service.py); this proves there is nothing else."""

import io
import re
import struct
import zlib

from PIL import Image, JpegImagePlugin

# A tag or closing tag, a comment, a doctype, CDATA or a processing instruction, as an HTML or
# XML parser would start one: "<" or "</" then a name without a namespace prefix ended by
# space, "/" or ">"; "<!"; "<?" then a name; and the SVG and XHTML namespaces, which make
# prefixed elements markup for an XML parser. XMP's own elements ("<x:xmpmeta ",
# "</rdf:RDF>") are none of these, and its "<?xpacket" instruction is allowed.
_MARKUP = re.compile(
    rb"<(?:!|\?(?!xpacket\b)[A-Za-z]|/?[A-Za-z][A-Za-z0-9-]*(?=[\s/>]))"
    rb"|http://www\.w3\.org/(?:2000/svg|1999/xhtml)",
    re.IGNORECASE,
)
# Text chunks that are decompressed to be read are read no further than this.
_MAX_TEXT = 4 * 1024 * 1024


class NotACleanImage(ValueError):
    """The file holds more than its image (trailing bytes, markup in its metadata)."""


def _refuse_markup(text: bytes, where: str) -> None:
    if _MARKUP.search(text):
        raise NotACleanImage(f"markup in {where}")


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, _MAX_TEXT)
    if inflater.unconsumed_tail:
        raise NotACleanImage("a compressed text chunk larger than allowed")
    return text


def check_clean_image(content: bytes) -> None:
    """NotACleanImage unless `content` is one PNG, JPEG (or MPO), WebP or GIF file and
    nothing more, carrying no markup. A container it does not know is left to the decoder."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_png(content)
    elif content.startswith(b"\xff\xd8"):
        _check_jpeg_file(content)
    elif content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        _check_webp(content)
    elif content[:6] in (b"GIF87a", b"GIF89a"):
        _check_gif(content)
    else:
        return
    _check_exif(content)


# PNG: chunks of length, type, data and CRC after the signature; IEND ends the file.
_PNG_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}


def _check_png(content: bytes) -> None:
    position = 8
    while True:
        if position + 8 > len(content):
            raise NotACleanImage("a PNG without its IEND chunk")
        length, kind = struct.unpack(">I4s", content[position : position + 8])
        data = content[position + 8 : position + 8 + length]
        position += 12 + length
        if position > len(content):
            raise NotACleanImage("a PNG chunk cut short")
        if kind in _PNG_TEXT_CHUNKS:
            _refuse_markup(_png_text(kind, data), f"a PNG {kind.decode()} chunk")
        elif not kind[:1].isupper() and kind not in _PNG_BINARY_ANCILLARY:
            # An ancillary chunk we do not know: whatever it carries must not be markup.
            _refuse_markup(data, "a PNG chunk")
        if kind == b"IEND":
            break
    if position != len(content):
        raise NotACleanImage("bytes after the PNG's IEND chunk")


# Ancillary chunks whose data is binary by definition (compressed or numbers).
_PNG_BINARY_ANCILLARY = {
    b"bKGD", b"cHRM", b"cICP", b"gAMA", b"hIST", b"iCCP", b"mDCv", b"cLLi", b"pHYs",
    b"sBIT", b"sPLT", b"sRGB", b"sTER", b"tIME", b"tRNS", b"eXIf", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip


def _png_text(kind: bytes, data: bytes) -> bytes:
    """The keyword and text of a tEXt, zTXt or iTXt chunk, decompressed."""
    keyword, _, rest = data.partition(b"\x00")
    if kind == b"tEXt":
        return keyword + b"\x00" + rest
    if kind == b"zTXt":
        return keyword + b"\x00" + _inflate(rest[1:])
    compressed = rest[:1] == b"\x01"
    # iTXt: compression flag, method, language tag NUL, translated keyword NUL, text.
    language, _, rest = rest[2:].partition(b"\x00")
    translated, _, text = rest.partition(b"\x00")
    if compressed:
        text = _inflate(text)
    return b"\x00".join((keyword, language, translated, text))


# JPEG: segments after SOI, entropy-coded data after each SOS, EOI ends the image. An MPO
# (phone cameras' multi-picture JPEG) is several such images one after another.
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0-7
# APPn segments whose payload is binary by definition, by their identifier. EXIF's text
# fields are read by _check_exif; XMP and anything unknown are searched whole.
_JPEG_BINARY_APPS = (
    b"JFIF\x00",
    b"JFXX\x00",
    b"Exif\x00",
    b"ICC_PROFILE\x00",
    b"MPF\x00",
    b"Adobe",
)


def _check_jpeg_file(content: bytes) -> None:
    end = _check_jpeg(content, 0)
    if end == len(content):
        return
    for start, stop in _mpo_frames(content):
        if start != end:
            raise NotACleanImage("bytes after the JPEG's end marker")
        end = _check_jpeg(content, start)
        if end != stop:
            raise NotACleanImage("an MPO picture of another size than its index says")
    if end != len(content):
        raise NotACleanImage("bytes after the JPEG's end marker")


def _mpo_frames(content: bytes) -> list[tuple[int, int]]:
    """The (start, end) of each picture after the first in an MPO, from its index."""
    try:
        with JpegImagePlugin.JpegImageFile(io.BytesIO(content)) as image:
            # The first picture's MP index; its offsets count from the index's own header.
            mp_info = image._getmp()
            if not mp_info or "mpoffset" not in image.info:
                return []
            base = int(image.info["mpoffset"])
            frames = []
            for entry in mp_info[0xB002][1:]:
                start = base + int(entry["DataOffset"])
                frames.append((start, start + int(entry["Size"])))
            return frames
    except Exception:
        return []


def _check_jpeg(content: bytes, start: int) -> int:
    """Walks one JPEG image from its SOI at `start`; the position after its EOI."""
    if content[start : start + 2] != b"\xff\xd8":
        raise NotACleanImage("a JPEG without its start marker")
    position = start + 2
    while True:
        if position >= len(content) or content[position] != 0xFF:
            raise NotACleanImage("a JPEG without its end marker")
        # Markers may be preceded by fill bytes 0xFF.
        while position < len(content) and content[position] == 0xFF:
            position += 1
        if position >= len(content):
            raise NotACleanImage("a JPEG without its end marker")
        marker = content[position]
        position += 1
        if marker == 0xD9:
            return position
        if marker in _STANDALONE:
            continue
        if position + 2 > len(content):
            raise NotACleanImage("a JPEG segment cut short")
        (length,) = struct.unpack(">H", content[position : position + 2])
        payload = content[position + 2 : position + length]
        position += length
        if length < 2 or position > len(content):
            raise NotACleanImage("a JPEG segment cut short")
        if marker == 0xFE:
            _refuse_markup(payload, "a JPEG comment")
        elif 0xE0 <= marker <= 0xEF and not payload.startswith(_JPEG_BINARY_APPS):
            _refuse_markup(payload, f"a JPEG APP{marker - 0xE0} segment")
        if marker == 0xDA:
            position = _skip_scan(content, position)


def _skip_scan(content: bytes, position: int) -> int:
    """The position of the marker that ends the entropy-coded data starting at `position`
    (0xFF00 is a stuffed byte, 0xFFD0-D7 a restart marker inside the scan)."""
    while True:
        found = content.find(b"\xff", position)
        if found < 0 or found + 1 >= len(content):
            raise NotACleanImage("a JPEG scan without its end")
        following = content[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position = found + 1 if following == 0xFF else found + 2
            continue
        return found


# WebP: a RIFF container whose size covers the whole file; chunks padded to even sizes.
_WEBP_BINARY_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF"}


def _check_webp(content: bytes) -> None:
    (riff_size,) = struct.unpack("<I", content[4:8])
    if riff_size + 8 != len(content):
        raise NotACleanImage("bytes after the WebP's RIFF container")
    position = 12
    while position < len(content):
        if position + 8 > len(content):
            raise NotACleanImage("a WebP chunk cut short")
        kind, size = struct.unpack("<4sI", content[position : position + 8])
        data = content[position + 8 : position + 8 + size]
        position += 8 + size + (size & 1)
        if position > len(content):
            raise NotACleanImage("a WebP chunk cut short")
        if kind not in _WEBP_BINARY_CHUNKS:
            _refuse_markup(data, f"a WebP {kind.decode('latin-1').strip()} chunk")


# GIF: header, screen descriptor and colour table, then extensions and images of
# sub-blocks, and the trailer 0x3B.
_GIF_BINARY_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _read_sub_blocks(content: bytes, position: int) -> tuple[int, bytes]:
    """The data of the sub-blocks from `position` to their terminator, and the position
    after it."""
    data = bytearray()
    while True:
        if position >= len(content):
            raise NotACleanImage("a GIF block cut short")
        size = content[position]
        position += 1
        if size == 0:
            return position, bytes(data)
        if position + size > len(content):
            raise NotACleanImage("a GIF block cut short")
        data += content[position : position + size]
        position += size


def _check_gif(content: bytes) -> None:
    if len(content) < 13:
        raise NotACleanImage("a GIF cut short")
    flags = content[10]
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while True:
        if position >= len(content):
            raise NotACleanImage("a GIF without its trailer")
        block = content[position]
        if block == 0x3B:
            position += 1
            break
        if block == 0x21:
            if position + 2 > len(content):
                raise NotACleanImage("a GIF extension cut short")
            label = content[position + 1]
            position, data = _read_sub_blocks(content, position + 2)
            if label == 0xFF:
                identifier = data[:11]
                if not identifier.startswith(_GIF_BINARY_APPLICATIONS):
                    _refuse_markup(data, "a GIF application extension")
            elif label in (0xFE, 0x01):
                _refuse_markup(data, "a GIF comment or text")
            elif label != 0xF9:
                _refuse_markup(data, "a GIF extension")
        elif block == 0x2C:
            if position + 10 > len(content):
                raise NotACleanImage("a GIF image cut short")
            local = content[position + 9]
            position += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            position, _ = _read_sub_blocks(content, position + 1)  # after the LZW code size
        else:
            raise NotACleanImage("a GIF block of no known kind")
    if position != len(content):
        raise NotACleanImage("bytes after the GIF's trailer")


# EXIF's text that is stored as bytes: UserComment (a charset id, then text), and Windows'
# XPTitle, XPComment, XPAuthor, XPKeywords, XPSubject (UTF-16). Other byte values, such as the
# maker's binary note, are not text.
_EXIF_BYTES_TEXT = {0x9286}
_EXIF_UTF16_TEXT = {0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F}


def _check_exif(content: bytes) -> None:
    """EXIF's text fields (a description, a user comment, a maker's note...) hold no markup.
    Binary data (a thumbnail, which the JPEG walk does not enter) is not searched."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            exif = image.getexif()
            values = list(exif.items())
            for ifd in (0x8769, 0x8825, 0xA005):  # Exif, GPS, Interop
                values += list(exif.get_ifd(ifd).items())
    except Exception:
        return  # what cannot be read here the decoder refuses, or holds no EXIF
    for tag, value in values:
        if isinstance(value, str):
            _refuse_markup(value.encode("utf-8", "replace"), "an EXIF field")
        elif tag in _EXIF_UTF16_TEXT and isinstance(value, bytes):
            _refuse_markup(value.decode("utf-16-le", "replace").encode(), "an EXIF field")
        elif tag in _EXIF_BYTES_TEXT and isinstance(value, bytes):
            _refuse_markup(value, "an EXIF field")
