"""The certificate's rendering and signing, without services (CT-1, CT-2)."""

from __future__ import annotations

import datetime as dt
import io

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from permit_approval.certificate import signing
from permit_approval.certificate.content import Content, build, metres, tonnes
from permit_approval.certificate.fonts import FontMissing, find_font
from permit_approval.certificate.qr import verify_url
from permit_approval.certificate.render_pdf import render_pdf, render_png

NOW = dt.datetime(2026, 12, 6, 2, tzinfo=dt.UTC)
ROUTE = [{"province": "130000", "roads": ["G4", "G1811"]}, {"province": "370000", "roads": ["G2", "G3"]},
         {"province": "320000", "roads": ["G2"]}]


def content(**over) -> Content:  # type: ignore[no-untyped-def]
    base = dict(
        permit_number="冀2026000001", version=1, reason="ISSUED", holder="parties/L1001",
        vehicles=[{"plate_number": "冀A12345", "vehicle_type": "重型半挂牵引车"},
                  {"plate_number": "冀B6789挂", "vehicle_type": "重型低平板半挂车"}],
        cargo={"name": "变压器", "weight_kg": 30000, "length_mm": 9000, "width_mm": 3200, "height_mm": 3100},
        overall={"total_mass_kg": 48300, "length_mm": 19900, "width_mm": 3200, "height_mm": 4300},
        route=ROUTE, start_date="2027-01-05", end_date="2027-01-08", multi_trip=False,
        conditions=[{"province": "370000", "text": "夜间22时至次日6时通行"}],
        issuing_province="130000", issue_date="2026-12-06", made_date="2026-12-06", permit_class=2)
    base.update(over)
    return Content(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def key() -> tuple[str, signing.Ed25519PrivateKey]:
    pair = signing.generate_key_pair(NOW)
    return pair.key_id, signing.load_private(pair.private_key_pem)


def payload(key_id: str, **over) -> signing.Payload:  # type: ignore[no-untyped-def]
    base = dict(key_id=key_id, permit_number="冀2026000001", version=1, plates=["冀A12345", "冀B6789挂"],
                start_date=dt.date(2027, 1, 5), end_date=dt.date(2027, 1, 8), multi_trip=False,
                route_digest=signing.route_digest(ROUTE))
    base.update(over)
    return signing.Payload(**base)  # type: ignore[arg-type]


class TestSigning:
    def test_a_signed_code_verifies_with_the_public_key_alone_CT_2(self, key) -> None:  # type: ignore[no-untyped-def]
        kid, private = key
        code = signing.sign(payload(kid), private)
        assert code.startswith("PC1.")
        found = signing.verify(f"https://example.org/verify?c={code}", {kid: private.public_key()})
        assert found == payload(kid)

    def test_a_changed_byte_an_unknown_key_or_garbage_is_refused_CT_2(self, key) -> None:  # type: ignore[no-untyped-def]
        kid, private = key
        code = signing.sign(payload(kid), private)
        keys = {kid: private.public_key()}
        prefix, body, sig = code.split(".")
        forged_body = signing.b64(signing.unb64(body).replace(b"01-08", b"12-31"))
        assert signing.verify(f"{prefix}.{forged_body}.{sig}", keys) is None
        assert signing.verify(code, {"other": private.public_key()}) is None
        other = signing.load_private(signing.generate_key_pair(NOW).private_key_pem)
        assert signing.verify(code, {kid: other.public_key()}) is None
        for junk in ("", "PC1.", "PC1.abc.def", "hello", "PV1.abc.def"):
            assert signing.verify(junk, keys) is None

    def test_route_digest_changes_with_any_province_or_road_CT_2(self) -> None:
        digest = signing.route_digest(ROUTE)
        assert len(digest) == 16
        assert signing.route_digest([*ROUTE[:2], {"province": "320000", "roads": ["G15"]}]) != digest
        assert signing.route_digest(list(reversed(ROUTE))) != digest

    def test_the_raw_public_key_is_what_a_phone_stores_CT_2(self, key) -> None:  # type: ignore[no-untyped-def]
        pem = signing.generate_key_pair(NOW).public_key_pem
        assert len(signing.unb64(signing.raw_public(pem))) == 32


class TestRendering:
    def test_the_pdf_carries_every_printed_fact_in_an_embedded_cjk_font_CT_1(self) -> None:
        pdf = render_pdf(content(), applicant_name="河北冀运大件物流有限公司", url="http://x/verify?c=PC1.a.b")
        reader = PdfReader(io.BytesIO(pdf))
        text = reader.pages[0].extract_text()
        for expected in ("超限运输车辆通行证", "冀2026000001", "河北冀运大件物流有限公司", "冀A12345",
                         "重型低平板半挂车", "变压器", "30.000", "48.300", "19.900", "河北省", "山东省", "江苏省",
                         "G1811", "2027年1月5日", "2027年1月8日", "单次通行", "夜间22时至次日6时通行"):
            assert expected in text, expected
        width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        fonts = reader.pages[0]["/Resources"]["/Font"]
        descriptor = fonts[next(iter(fonts))].get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor.get_object()

    def test_the_same_content_renders_to_the_same_bytes_CT_1(self) -> None:
        a = render_pdf(content(), applicant_name="甲", url="http://x/verify?c=1")
        assert a == render_pdf(content(), applicant_name="甲", url="http://x/verify?c=1")
        assert a != render_pdf(content(end_date="2027-01-09"), applicant_name="甲", url="http://x/verify?c=1")

    def test_the_qr_code_decodes_to_the_verification_address_CT_2(self) -> None:
        url = verify_url("http://127.0.0.1:8080/", "PC1.eyJ9.c2ln")
        assert url == "http://127.0.0.1:8080/verify?c=PC1.eyJ9.c2ln"
        pdf = render_pdf(content(), applicant_name="甲", url=url)
        doc = pdfium.PdfDocument(pdf)
        found = zxingcpp.read_barcodes(doc[0].render(scale=3).to_pil())
        doc.close()
        assert [b.text for b in found] == [url]

    def test_the_phone_image_is_a_tall_png_under_the_upload_limit_with_the_qr_code_CT_1(self) -> None:
        url = "http://127.0.0.1:8080/verify?c=PC1.eyJ9.c2ln"
        png = render_png(content(), applicant_name="甲", url=url)
        assert len(png) < 1_048_576
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.width == 1080 and image.height > 2 * image.width
        assert [b.text for b in zxingcpp.read_barcodes(image.convert("RGB"))] == [url]

    def test_without_cargo_and_overall_the_certificate_still_renders_CT_1(self) -> None:
        text = PdfReader(io.BytesIO(render_pdf(content(cargo=None, overall=None, conditions=[]),
                                               applicant_name="", url="http://x/verify"))).pages[0].extract_text()
        assert "parties/L1001" in text and "无附加条件" in text

    def test_units_show_three_decimals_AP_3(self) -> None:
        assert (tonnes(48300), metres(19900), metres(4000), tonnes(5)) == ("48.300", "19.900", "4.000", "0.005")


class TestFont:
    def test_a_missing_font_fails_loudly_with_what_to_install_CT_1(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(FontMissing, match="fonts-wqy-microhei"):
            find_font({"PERMIT_APPROVAL_CERTIFICATE_FONT": str(tmp_path / "none.ttf")})

    def test_the_installed_font_is_found(self) -> None:
        assert find_font({}).path.is_file()


@pytest.mark.parametrize(("created", "issued"), [
    (dt.datetime(2026, 12, 6, 15, 59, tzinfo=dt.UTC), "2026-12-06"),
    (dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.UTC), "2026-12-07"),  # midnight in Beijing
    (dt.datetime(2026, 12, 6, 17, 30), "2026-12-07"),  # a naive time (SQLite) is UTC
    (None, "2026-12-05"),  # not yet stored: the day the certificate is made
])
def test_the_issue_date_is_the_date_in_beijing_when_the_permit_was_made_CT_1(
        created: dt.datetime | None, issued: str) -> None:
    from types import SimpleNamespace

    permit = SimpleNamespace(number="冀2026120700001", holder="冀运大件物流有限公司", plate_numbers=["冀A12345"],
                             route=[], start_date=dt.date(2026, 12, 10), end_date=dt.date(2026, 12, 12),
                             multi_trip=False, conditions=[], issuing_province="130000", create_time=created)
    case = SimpleNamespace(vehicles=[], cargo=None, overall=None, permit_class=1)
    content = build(permit=permit, case=case, version=1, reason="ISSUED", today=dt.date(2026, 12, 5))
    assert content.issue_date == issued and content.made_date == "2026-12-05"
