"""Documents end to end over HTTP through the gateway, against the started
processes and the real S3 server: every material kind the manual names is
uploaded as a phone does (multipart: file + kind) with a valid file of an
allowed format (AP-4, AP-8, AP-9, ID-5); oversize files, renamed executables
and phone formats the platform does not take are refused with a stable reason
and a Chinese message; another applicant cannot see a document; the owner's
download link is a presigned S3 URL that returns the stored bytes."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
import zlib
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LIMIT = 1_048_576
MIME = {"jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
FORMAT = {"jpg": "DOCUMENT_FORMAT_JPEG", "png": "DOCUMENT_FORMAT_PNG", "pdf": "DOCUMENT_FORMAT_PDF",
          "docx": "DOCUMENT_FORMAT_DOCX"}


# --- valid files, made in code --------------------------------------------------------


def jpeg(rgb: tuple[int, int, int] = (200, 30, 30), *, gps: bool = False) -> bytes:
    """A real JPEG photo; with ``gps`` it carries the camera's EXIF position."""
    buf = io.BytesIO()
    kwargs: dict[str, object] = {"quality": 85}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)}
        kwargs["exif"] = exif.tobytes()
    Image.new("RGB", (64, 48), rgb).save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def png(rgb: tuple[int, int, int] = (10, 120, 200), size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, "PNG")
    return buf.getvalue()


def png_of_size(total: int) -> bytes:
    """A valid PNG of exactly ``total`` bytes, padded with a private ancillary chunk before IEND."""
    base = png(size=(16, 16))
    pad = total - len(base) - 12
    assert pad >= 0
    data = b"a" * pad
    chunk = struct.pack(">I", pad) + b"prVt" + data + struct.pack(">I", zlib.crc32(b"prVt" + data) & 0xFFFFFFFF)
    out = base[:-12] + chunk + base[-12:]
    assert len(out) == total
    return out


def pdf(text: str = "escort") -> bytes:
    """A minimal well-formed PDF: header, three objects, a correct xref table, trailer, %%EOF."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [] /Title ({text}) >>"]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def docx(text: str = "护送方案：全程两车护送。") -> bytes:
    """A minimal Word 2007+ package: content types, package relationships, the main document part."""
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>'),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


def windows_exe() -> bytes:
    """The start of a Windows executable (MZ stub pointing at a PE header)."""
    dos = bytearray(b"MZ" + b"\x90\x00" * 29)
    dos += b"\x00" * (0x3C - len(dos)) + struct.pack("<I", 0x80)
    dos += b"\x00" * (0x80 - len(dos)) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200
    return bytes(dos)


def webp() -> bytes:
    """A real WebP image (Pillow), as Android phones save screenshots."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (5, 6, 7)).save(buf, "WEBP")
    return buf.getvalue()


def heic() -> bytes:
    """The start of an iPhone photo: an ISO-BMFF ftyp box with the heic brand."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 200


# --- helpers ----------------------------------------------------------------------------


def upload(api, kind: str, filename: str, data: bytes, content_type: str) -> httpx.Response:
    return api.http.post("/v1/documents", data={"kind": f"DOCUMENT_KIND_{kind}"},
                         files={"file": (filename, data, content_type)})


def refused(r: httpx.Response, status: int, reason: str) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["reason"] == reason, err
    assert re.search(r"[\u4e00-\u9fff]", err["message"]), err
    return err


# Every kind of material the manual names, each with a file of a format it allows.
MATERIALS = [
    ("VEHICLE_LICENCE", "行驶证.jpg", "jpg"),          # AP-4
    ("TEMPORARY_PLATE", "临时号牌.png", "png"),        # AP-4
    ("ID_CARD_FRONT", "身份证正面.jpg", "jpg"),        # AP-8
    ("ID_CARD_BACK", "身份证反面.png", "png"),         # AP-8
    ("POWER_OF_ATTORNEY", "授权委托书.jpg", "jpg"),    # AP-8
    ("OUTLINE_DRAWING", "车货总体轮廓图.png", "png"),  # AP-9
    ("ESCORT_PLAN", "护送方案.docx", "docx"),          # AP-9
    ("ESCORT_PLAN", "护送方案.pdf", "pdf"),            # AP-9
    ("TRANSPORT_PLAN", "运输计划.pdf", "pdf"),         # AP-9
    ("TRANSPORT_PLAN", "运输计划.docx", "docx"),       # AP-9
    ("BUSINESS_LICENCE", "经营许可证.pdf", "pdf"),     # ID-5
    ("BUSINESS_LICENCE", "经营许可证.jpg", "jpg"),     # ID-5
]


def content(kind: str, ext: str) -> bytes:
    # Distinct content per kind so no upload is answered with an earlier document.
    seed = sum(map(ord, kind)) % 200
    return {"jpg": lambda: jpeg((seed, 40, 80)), "png": lambda: png((seed, 90, 10)),
            "pdf": lambda: pdf(kind.lower()), "docx": lambda: docx(f"{kind}：全程两车护送。")}[ext]()


@pytest.mark.parametrize(("kind", "filename", "ext"), MATERIALS, ids=[f"{k}-{e}" for k, _, e in MATERIALS])
def test_every_material_kind_uploads_through_the_gateway_AP_4_AP_8_AP_9_ID_5(api_as, kind, filename, ext):
    person = api_as("person")
    data = content(kind, ext)
    r = upload(person, kind, filename, data, MIME[ext])
    assert r.status_code == 200, r.text
    doc = r.json()
    assert re.fullmatch(r"documents/[0-9a-f]{32}", doc["name"]), doc["name"]
    assert doc["kind"] == f"DOCUMENT_KIND_{kind}"
    assert doc["owner"] == "parties/L2001"
    assert doc["filename"] == filename
    assert doc["format"] == FORMAT[ext] and doc["contentType"] == MIME[ext]
    assert 0 < int(doc["sizeBytes"]) <= LIMIT
    if ext in ("pdf", "docx"):  # stored as uploaded
        assert doc["sha256"] == hashlib.sha256(data).hexdigest() and int(doc["sizeBytes"]) == len(data)
    assert person.get(f"/v1/{doc['name']}") == doc


def test_file_of_exactly_one_megabyte_is_accepted_and_one_byte_more_is_refused_AP_8(api_as):
    person = api_as("person")
    ok = upload(person, "POWER_OF_ATTORNEY", "委托书.png", png_of_size(LIMIT), "image/png")
    assert ok.status_code == 200, ok.text
    assert int(ok.json()["sizeBytes"]) == LIMIT
    err = refused(upload(person, "POWER_OF_ATTORNEY", "委托书.png", png_of_size(LIMIT + 1), "image/png"), 400,
                  "FILE_TOO_LARGE")
    assert err["status"] == "INVALID_ARGUMENT"
    assert "1MB" in err["message"]


@pytest.mark.parametrize(("filename", "content_type"), [("行驶证.jpg", "image/jpeg"), ("setup.exe", "application/octet-stream"),
                                                        ("运输计划.pdf", "application/pdf")])
def test_renamed_executable_is_refused_AP_9(api_as, filename, content_type):
    err = refused(upload(api_as("person"), "TRANSPORT_PLAN", filename, windows_exe(), content_type), 400,
                  "UNSUPPORTED_FORMAT")
    assert "可执行" in err["message"]


@pytest.mark.parametrize(("filename", "data", "content_type", "label"),
                         [("IMG_0001.HEIC", heic(), "image/heic", "HEIC"), ("Screenshot.webp", webp(), "image/webp", "WebP")],
                         ids=["heic", "webp"])
def test_phone_image_formats_are_refused_with_the_convert_advice_AP_4(api_as, filename, data, content_type, label):
    err = refused(upload(api_as("person"), "VEHICLE_LICENCE", filename, data, content_type), 400,
                  "UNSUPPORTED_IMAGE_FORMAT")
    assert label in err["message"]
    assert "JPG" in err["message"] and "PNG" in err["message"] and "转换" in err["message"]


def test_format_the_kind_does_not_allow_is_refused_AP_4(api_as):
    err = refused(upload(api_as("person"), "VEHICLE_LICENCE", "行驶证.pdf", pdf("vl"), "application/pdf"), 400,
                  "FORMAT_NOT_ALLOWED")
    assert "行驶证" in err["message"] and "JPG" in err["message"]


def test_missing_kind_is_refused(api_as):
    r = api_as("person").http.post("/v1/documents", files={"file": ("a.png", png((1, 2, 3)), "image/png")})
    refused(r, 400, "DOCUMENT_KIND_MISSING")


def test_another_applicant_cannot_read_the_document_PQ_2(api_as):
    person, carrier = api_as("person"), api_as("carrier")
    r = upload(person, "ID_CARD_FRONT", "身份证正面.png", png((77, 1, 2)), "image/png")
    assert r.status_code == 200, r.text
    name = r.json()["name"]
    for path in (f"/v1/{name}", f"/v1/{name}:downloadUrl", f"/v1/{name}:download"):
        other = carrier.http.get(path)
        refused(other, 404, "DOCUMENT_NOT_FOUND")
    # Nor may an officer of a province that was never granted it.
    refused(api_as("jiangsu-review").http.get(f"/v1/{name}"), 404, "DOCUMENT_NOT_FOUND")
    refused(carrier.http.delete(f"/v1/{name}"), 404, "DOCUMENT_NOT_FOUND")
    assert person.get(f"/v1/{name}")["name"] == name


def test_owner_download_link_is_a_presigned_s3_url_returning_the_same_bytes_AP_9(api_as, s3_endpoint):
    person = api_as("person")
    data = pdf("download-check")
    r = upload(person, "ESCORT_PLAN", "护送方案.pdf", data, "application/pdf")
    assert r.status_code == 200, r.text
    doc = r.json()
    link = person.get(f"/v1/{doc['name']}:downloadUrl")
    assert link["expireTime"]
    url = urlsplit(link["url"])
    assert url.netloc == s3_endpoint.endpoint  # the S3 server itself, not the gateway
    assert "X-Amz-Signature=" in url.query
    fetched = httpx.get(link["url"], timeout=30)  # no bearer token: the signature is the permission
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == data
    assert hashlib.sha256(fetched.content).hexdigest() == doc["sha256"]
    # A tampered signature is refused by the S3 server.
    tampered = link["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered, timeout=30).status_code == 403


def test_gateway_download_streams_the_stored_bytes_to_the_owner_AP_9(api_as):
    person = api_as("person")
    data = docx("运输计划：每日一趟。")
    r = upload(person, "TRANSPORT_PLAN", "运输计划.docx", data, MIME["docx"])
    assert r.status_code == 200, r.text
    got = person.http.get(f"/v1/{r.json()['name']}:download")
    assert got.status_code == 200, got.text[:500]
    assert got.content == data
    assert got.headers["content-type"].startswith(MIME["docx"])
    assert "attachment" in got.headers.get("content-disposition", "")


def test_photo_is_stored_without_its_gps_position(api_as):
    person = api_as("person")
    photo = jpeg((3, 140, 60), gps=True)
    assert 0x8825 in Image.open(io.BytesIO(photo)).getexif()
    r = upload(person, "VEHICLE_LICENCE", "IMG_2001.jpg", photo, "image/jpeg")
    assert r.status_code == 200, r.text
    link = person.get(f"/v1/{r.json()['name']}:downloadUrl")
    stored = httpx.get(link["url"], timeout=30)
    assert stored.status_code == 200
    img = Image.open(io.BytesIO(stored.content))
    assert img.format == "JPEG" and img.size == (64, 48)
    assert 0x8825 not in img.getexif() and 0x010F not in img.getexif()
    assert hashlib.sha256(stored.content).hexdigest() == r.json()["sha256"]
