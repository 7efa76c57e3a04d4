"""Format detection by content and the kinds' allowed formats (AP-4, AP-8, AP-9, ID-5)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permit_documents import errors, formats
from permit_documents.formats import Format
from permit_documents.models import DocumentKind
from permit_documents.sanitize import strip_metadata
from permitkit.errors import PermitError
from tests.documents import corpus


class TestGoodFilesAreRecognisedByContent:
    @pytest.mark.parametrize(("make", "fmt"), [
        (corpus.jpeg, Format.JPEG),
        (corpus.png, Format.PNG),
        (corpus.pdf, Format.PDF),
        (corpus.docx, Format.DOCX),
        (corpus.doc, Format.DOC),
    ], ids=["jpeg", "png", "pdf", "docx", "doc"])
    def test_supported_formats_are_detected_AP_9(self, make, fmt):
        assert formats.detect(make()).format is fmt

    def test_image_reports_its_pixel_size_AP_4(self):
        detected = formats.detect(corpus.jpeg((64, 48)))
        assert (detected.width, detected.height) == (64, 48)

    def test_file_of_exactly_the_limit_is_a_valid_png_AP_4(self):
        data = corpus.png_of_exact_size(formats.MAX_UPLOAD_BYTES)
        assert len(data) == 1_048_576
        assert formats.detect(data).format is Format.PNG

    def test_phone_trailer_after_jpeg_end_is_tolerated_AP_4(self):
        # Samsung cameras append an "SEFH" trailer after the image: harmless, cut off on store.
        assert formats.detect(corpus.jpeg() + b"SEFH" + b"\x01" * 40).format is Format.JPEG


def _reason(data: bytes) -> tuple[str, dict[str, str]]:
    with pytest.raises(PermitError) as info:
        formats.detect(data)
    return info.value.reason, info.value.metadata


class TestBadFilesAreRefused:
    def test_empty_file_is_refused_AP_9(self):
        assert _reason(b"")[0] == "FILE_EMPTY"

    @pytest.mark.parametrize(("make", "name"), [
        (corpus.heic_header, "heic"), (corpus.webp_header, "webp"), (corpus.bmp, "bmp"), (corpus.gif, "gif"),
    ], ids=["heic", "webp", "bmp", "gif"])
    def test_unsupported_image_format_advises_converting_to_jpg_or_png_AP_9(self, make, name):
        with pytest.raises(errors.UnsupportedImageFormat) as info:
            formats.detect(make())
        assert info.value.metadata["detected"] == name
        assert "JPG" in info.value.message and "PNG" in info.value.message and "转换" in info.value.message

    def test_renamed_executable_is_refused_AP_9(self):
        reason, meta = _reason(corpus.windows_exe())
        assert (reason, meta["detected"]) == ("UNSUPPORTED_FORMAT", "executable")

    def test_elf_and_script_are_refused_AP_9(self):
        assert _reason(b"\x7fELF\x02\x01\x01" + b"\x00" * 64)[1]["detected"] == "executable"
        assert _reason(b"#!/bin/sh\nrm -rf /\n")[1]["detected"] == "executable"

    @pytest.mark.parametrize(("data", "kind"), [
        (corpus.html(), "html"), (corpus.svg(), "svg"),
        (b"\xef\xbb\xbf  <html><body>x</body></html>", "html"),
        ("<html>x</html>".encode("utf-16"), "html"),
    ], ids=["html", "svg", "bom-html", "utf16-html"])
    def test_markup_html_and_svg_are_refused_AP_9(self, data, kind):
        reason, meta = _reason(data)
        assert (reason, meta["detected"]) == ("UNSUPPORTED_FORMAT", kind)

    def test_random_bytes_are_refused_AP_9(self):
        assert _reason(b"hello, this is plain text")[0] == "UNSUPPORTED_FORMAT"

    def test_truncated_jpeg_is_refused_AP_4(self):
        assert _reason(corpus.truncated_jpeg())[0] == "FILE_CORRUPT"

    def test_jpeg_missing_only_its_end_marker_is_refused_AP_4(self):
        assert _reason(corpus.jpeg()[:-2])[0] == "FILE_CORRUPT"

    def test_png_with_bad_crc_is_refused_AP_4(self):
        data = bytearray(corpus.png())
        data[40] ^= 0xFF
        assert _reason(bytes(data))[0] == "FILE_CORRUPT"

    def test_png_claiming_huge_dimensions_is_refused_before_decoding_AP_4(self):
        assert _reason(corpus.png_bomb())[0] == "IMAGE_TOO_LARGE"

    def test_jpeg_with_zip_appended_is_a_polyglot_AP_9(self):
        assert _reason(corpus.jpeg_with_zip_appended())[0] == "FILE_POLYGLOT"

    def test_jpeg_with_script_in_a_comment_is_a_polyglot_AP_9(self):
        assert _reason(corpus.jpeg_with_script_comment())[0] == "FILE_POLYGLOT"

    def test_png_with_html_after_iend_is_a_polyglot_AP_9(self):
        assert _reason(corpus.png() + b"<html><script>x</script></html>")[0] == "FILE_POLYGLOT"

    def test_pdf_without_trailer_is_refused_AP_9(self):
        reason, meta = _reason(corpus.pdf_without_trailer())
        assert (reason, meta["missing"]) == ("FILE_CORRUPT", "trailer")

    def test_pdf_with_wrong_startxref_is_refused_AP_9(self):
        data = corpus.pdf().replace(b"startxref\n", b"startxref\n9")
        assert _reason(data)[0] == "FILE_CORRUPT"

    def test_pdf_with_data_after_eof_marker_is_refused_AP_9(self):
        assert _reason(corpus.pdf() + b"MZ" + b"\x00" * 2000)[0] == "FILE_CORRUPT"

    def test_pdf_with_obfuscated_javascript_is_refused_AP_9(self):
        reason, meta = _reason(corpus.pdf_with_javascript())
        assert reason == "FILE_ACTIVE_CONTENT" and "JavaScript" in meta["names"]

    def test_pdf_with_javascript_hidden_in_an_object_stream_is_refused_AP_9(self):
        data = corpus.pdf_with_object_stream()
        assert b"JavaScript" not in data and b"/JS" not in data  # nothing for a byte scan to find
        reason, meta = _reason(data)
        assert reason == "FILE_ACTIVE_CONTENT" and {"JavaScript", "JS"} <= set(meta["names"].split(","))

    def test_pdf_with_a_launch_action_in_an_object_stream_is_refused_AP_9(self):
        reason, meta = _reason(corpus.pdf_with_object_stream("<< /S /Launch /F (cmd.exe) >>"))
        assert reason == "FILE_ACTIVE_CONTENT" and "Launch" in meta["names"]

    def test_pdf_with_a_harmless_object_stream_is_accepted_AP_9(self):
        data = corpus.pdf_with_object_stream("<< /S /GoTo /D [3 0 R /Fit] >>")
        assert formats.detect(data).format is Format.PDF

    def test_docx_bomb_is_refused_AP_9(self):
        assert _reason(corpus.docx_bomb())[0] == "ARCHIVE_UNSAFE"

    def test_docx_bomb_below_the_total_cap_is_refused_by_ratio_AP_9(self):
        assert _reason(corpus.docx_bomb(8 * 1024 * 1024))[0] == "ARCHIVE_UNSAFE"

    def test_docx_with_path_traversal_entry_is_refused_AP_9(self):
        reason, meta = _reason(corpus.docx_traversal())
        assert reason == "ARCHIVE_UNSAFE" and meta["entry"].startswith("../")

    def test_macro_enabled_word_file_is_refused_AP_9(self):
        assert _reason(corpus.docm())[0] == "FILE_ACTIVE_CONTENT"

    def test_zip_that_is_not_a_word_document_is_refused_AP_9(self):
        assert _reason(corpus.xlsx_like_zip())[1]["detected"] == "zip"

    def test_docx_with_prepended_bytes_is_refused_AP_9(self):
        # Shift a real archive behind junk but keep the PK signature first.
        data = corpus.docx()
        assert _reason(b"PK\x03\x04" + b"\x00" * 26 + data)[0] in {"FILE_POLYGLOT", "FILE_CORRUPT"}

    def test_docx_with_data_appended_is_refused_AP_9(self):
        assert _reason(corpus.docx() + b"<html>")[0] == "FILE_POLYGLOT"

    def test_truncated_docx_is_refused_AP_9(self):
        data = corpus.docx()
        assert _reason(data[: len(data) // 2])[0] == "FILE_CORRUPT"

    def test_doc_with_macros_is_refused_AP_9(self):
        assert _reason(corpus.doc_with_macros())[0] == "FILE_ACTIVE_CONTENT"

    def test_ole2_file_that_is_not_word_is_refused_AP_9(self):
        assert _reason(corpus.xls_like_ole2())[1]["detected"] == "ole2"

    def test_truncated_doc_is_refused_AP_9(self):
        assert _reason(corpus.doc()[:700])[0] == "FILE_CORRUPT"


class TestLabels:
    def test_name_and_type_agreeing_with_content_pass_AP_9(self):
        formats.check_label(Format.JPEG, filename="行驶证.JPEG", declared_content_type="image/jpeg")
        formats.check_label(Format.DOCX, filename="护送方案.docx", declared_content_type="")
        formats.check_label(Format.PNG, filename="tmp_123", declared_content_type="application/octet-stream")

    def test_jpeg_named_pdf_is_mislabelled_AP_9(self):
        with pytest.raises(errors.FileMislabelled) as info:
            formats.check_label(Format.JPEG, filename="plan.pdf", declared_content_type="")
        assert info.value.field == "header.filename"

    def test_declared_type_contradicting_content_is_mislabelled_AP_9(self):
        with pytest.raises(errors.FileMislabelled) as info:
            formats.check_label(Format.PDF, filename="plan", declared_content_type="image/png")
        assert info.value.field == "header.declared_content_type"


class TestKindsAllowFormats:
    @pytest.mark.parametrize("kind", [
        DocumentKind.VEHICLE_LICENCE, DocumentKind.TEMPORARY_PLATE, DocumentKind.ID_CARD_FRONT,
        DocumentKind.ID_CARD_BACK, DocumentKind.POWER_OF_ATTORNEY, DocumentKind.OUTLINE_DRAWING,
    ])
    def test_photos_take_jpeg_and_png_only_AP_4_AP_8(self, kind):
        kind.check_format(Format.JPEG)
        kind.check_format(Format.PNG)
        for fmt in (Format.PDF, Format.DOC, Format.DOCX):
            with pytest.raises(errors.FormatNotAllowed):
                kind.check_format(fmt)

    @pytest.mark.parametrize("kind", [DocumentKind.ESCORT_PLAN, DocumentKind.TRANSPORT_PLAN])
    def test_plans_take_images_pdf_doc_docx_AP_9(self, kind):
        for fmt in Format:
            kind.check_format(fmt)

    def test_business_licence_takes_images_and_pdf_ID_5(self):
        for fmt in (Format.JPEG, Format.PNG, Format.PDF):
            DocumentKind.BUSINESS_LICENCE.check_format(fmt)
        with pytest.raises(errors.FormatNotAllowed) as info:
            DocumentKind.BUSINESS_LICENCE.check_format(Format.DOCX)
        assert "道路运输经营许可证" in info.value.message


class TestHarderCases:
    def test_progressive_jpeg_is_accepted_AP_4(self):
        assert formats.detect(corpus.progressive_jpeg()).format is Format.JPEG

    def test_forged_zip_sizes_are_caught_on_read_AP_9(self):
        assert _reason(corpus.docx_with_lying_sizes())[0] in {"ARCHIVE_UNSAFE", "FILE_CORRUPT"}

    def test_zip_inside_a_jpeg_segment_is_a_polyglot_AP_9(self):
        payload = b"PK\x03\x04" + b"\x00" * 40
        segment = b"\xff\xe5" + struct.pack(">H", len(payload) + 2) + payload
        data = corpus.jpeg()
        assert _reason(data[:2] + segment + data[2:])[0] == "FILE_POLYGLOT"


SEEDS = [corpus.jpeg(exif=True, orientation=6), corpus.png(text={"k": "v"}), corpus.pdf(), corpus.docx(),
         corpus.doc(), corpus.progressive_jpeg()]


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), edits=st.lists(
    st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255),
              st.sampled_from(["flip", "cut", "insert"])), min_size=1, max_size=6))
def test_damaged_files_are_refused_with_a_reason_never_a_crash_AP_9(seed, edits):
    """Whatever the bytes, the checks answer a domain error (not INTERNAL) or accept a valid file."""
    data = bytearray(seed)
    for pos, value, op in edits:
        i = pos % (len(data) + 1)
        if op == "flip" and data:
            data[i % len(data)] = value
        elif op == "cut":
            del data[i:]
        else:
            data[i:i] = bytes([value])
    try:
        detected = formats.detect(bytes(data))
    except PermitError as e:
        assert e.code.name == "INVALID_ARGUMENT" and e.reason
        return
    stored = strip_metadata(bytes(data), detected.format)
    assert formats.detect(stored).format is detected.format


def test_docx_with_main_part_elsewhere_is_accepted_AP_9():
    """The main part is found through [Content_Types].xml, not by a fixed name."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", corpus._CONTENT_TYPES.replace("{main}", corpus._WORD_MAIN)
                    .replace("/word/document.xml", "/word/document2.xml"))
        zf.writestr("_rels/.rels", corpus._RELS.replace("word/document.xml", "word/document2.xml"))
        zf.writestr("word/document2.xml", corpus._DOCUMENT)
    assert formats.detect(buf.getvalue()).format is Format.DOCX


def test_docx_declaring_a_missing_main_part_is_refused_AP_9():
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", corpus._CONTENT_TYPES.replace("{main}", corpus._WORD_MAIN))
    assert _reason(buf.getvalue())[1]["detected"] == "zip"


def test_rtf_renamed_doc_gets_save_as_advice_AP_9():
    with pytest.raises(errors.UnsupportedFormat) as info:
        formats.detect(b"{\\rtf1\\ansi hello}")
    assert info.value.metadata["detected"] == "rtf" and "DOCX" in info.value.message
