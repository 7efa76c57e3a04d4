"""Privacy: EXIF (camera, GPS) is removed from stored images, pixels untouched (AP-4, AP-8)."""

from __future__ import annotations

import io

from PIL import Image

from permit_documents import formats
from permit_documents.formats import Format
from permit_documents.sanitize import strip_metadata
from tests.documents import corpus


def _exif(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as im:
        return dict(im.getexif())


class TestJpeg:
    def test_camera_and_gps_tags_are_removed_AP_4(self):
        original = corpus.jpeg(exif=True)
        assert corpus.GPS_IFD in _exif(original) and corpus.MAKE in _exif(original)
        stored = strip_metadata(original, Format.JPEG)
        tags = _exif(stored)
        assert corpus.GPS_IFD not in tags and corpus.MAKE not in tags and corpus.MODEL not in tags
        assert b"PhoneMaker" not in stored and b"Camera X1" not in stored

    def test_orientation_is_kept_so_photos_stay_upright_AP_4(self):
        stored = strip_metadata(corpus.jpeg(exif=True, orientation=6), Format.JPEG)
        assert _exif(stored) == {corpus.ORIENTATION: 6}

    def test_pixels_are_not_re_encoded_AP_4(self):
        original = corpus.jpeg((32, 32), exif=True)
        stored = strip_metadata(original, Format.JPEG)
        with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(stored)) as b:
            assert a.tobytes() == b.tobytes()
        # Lossless rewrite: the scan data is copied byte for byte.
        scan = original[original.index(b"\xff\xda"):]
        assert stored.endswith(scan)

    def test_comments_and_phone_trailers_are_dropped_and_result_still_valid_AP_4(self):
        original = corpus.jpeg() + b"SEFH" + b"\x07" * 32
        with_comment = original[:2] + b"\xff\xfe\x00\x07hello" + original[2:]
        stored = strip_metadata(with_comment, Format.JPEG)
        assert b"hello" not in stored and b"SEFH" not in stored
        assert formats.detect(stored).format is Format.JPEG

    def test_stripping_is_deterministic_so_duplicates_match_AP_4(self):
        original = corpus.jpeg(exif=True)
        assert strip_metadata(original, Format.JPEG) == strip_metadata(original, Format.JPEG)


class TestPng:
    def test_text_chunks_are_removed_AP_8(self):
        original = corpus.png(text={"Author": "张三", "GPS": "39.9,116.4"})
        stored = strip_metadata(original, Format.PNG)
        assert b"tEXt" in original or b"iTXt" in original
        assert b"tEXt" not in stored and b"iTXt" not in stored and b"GPS" not in stored
        with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(stored)) as b:
            assert a.tobytes() == b.tobytes()


def test_pdf_is_stored_as_uploaded_AP_9():
    data = corpus.pdf()
    assert strip_metadata(data, Format.PDF) == data


def test_exif_between_progressive_scans_is_removed_too_AP_4():
    exif = b"Exif\x00\x00" + b"GPS-secret-position"
    segment = b"\xff\xe1" + len(exif + b"xx").to_bytes(2, "big") + exif
    original = corpus.jpeg_with_segment_between_scans(segment)
    assert formats.detect(original).format is Format.JPEG
    stored = strip_metadata(original, Format.JPEG)
    assert b"GPS-secret-position" not in stored
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(stored)) as b:
        assert a.tobytes() == b.tobytes()
