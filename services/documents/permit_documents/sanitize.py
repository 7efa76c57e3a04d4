"""Privacy: remove location and camera metadata from images before they are stored.

Lossless: JPEG and PNG are rewritten segment by segment (chunk by chunk), the
pixels are never re-encoded. A JPEG keeps only its orientation tag, so phone
photos still display upright. PDF and Word files are stored as uploaded.
"""

from __future__ import annotations

import io
import struct
import warnings

from PIL import Image

from permit_documents.formats import Format, jpeg_structure, png_chunks

ORIENTATION_TAG = 0x0112

# JPEG segments kept: JFIF/JFXX (APP0), ICC colour profile (APP2 "ICC_PROFILE"),
# Adobe colour transform (APP14) and everything that is not an APPn/COM segment.
_APP0, _APP2, _APP14, _COM = 0xE0, 0xE2, 0xEE, 0xFE

# PNG ancillary chunks that carry text, time or EXIF (camera, GPS, software).
_PNG_DROP = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})


def strip_metadata(data: bytes, fmt: Format) -> bytes:
    """The bytes to store: ``data`` without EXIF/XMP/IPTC/comments for images, unchanged otherwise."""
    if fmt is Format.JPEG:
        return _strip_jpeg(data)
    if fmt is Format.PNG:
        return _strip_png(data)
    return data


def _jpeg_orientation(data: bytes) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # broken EXIF only costs the orientation
            with Image.open(io.BytesIO(data)) as im:
                value = im.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - unreadable EXIF: treat as upright
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _strip_jpeg(data: bytes) -> bytes:
    segments, _end = jpeg_structure(data)
    orientation = _jpeg_orientation(data)
    kept = bytearray()
    inserted = orientation == 1
    for seg in segments:
        body = data[seg.start:seg.end]
        if 0xE0 <= seg.marker <= 0xEF:
            keep = (
                seg.marker == _APP0
                or (seg.marker == _APP2 and body[4:15] == b"ICC_PROFILE")
                or seg.marker == _APP14
            )
        else:
            keep = seg.marker != _COM
        if keep:
            kept += body
        if not inserted and seg.marker == _APP0:
            kept += _orientation_segment(orientation)
            inserted = True
    if not inserted:
        # No JFIF segment: the orientation goes right after SOI.
        kept[0:0] = _orientation_segment(orientation)
    # Whatever followed EOI (phone trailers) is dropped with the metadata.
    return b"\xff\xd8" + bytes(kept) + b"\xff\xd9"


def _orientation_segment(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    payload = exif.tobytes()
    if not payload.startswith(b"Exif\x00\x00"):
        payload = b"Exif\x00\x00" + payload
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    for ctype, start, end in png_chunks(data):
        if ctype in _PNG_DROP:
            continue
        out += data[start:end]
    return bytes(out)
