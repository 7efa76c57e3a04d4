"""Uploads over gRPC into the real S3 server and PostgreSQL (AP-4, AP-8, AP-9, ID-5)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import grpc
import httpx
import pytest
from minio import Minio
from PIL import Image

from permit.documents.v1 import documents_pb2, documents_service_pb2
from permitkit.client import call_metadata
from permitkit.errors import ErrorDetails
from permitkit.testing import S3Endpoint
from tests.documents import corpus
from tests.documents.integration.conftest import CHUNK, DocumentsClient, new_party, upload_messages

pytestmark = pytest.mark.integration


def minio_client(s3: S3Endpoint) -> Minio:
    return Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=s3.secure)


def objects(s3: S3Endpoint, bucket: str, prefix: str) -> list[str]:
    client = minio_client(s3)
    if not client.bucket_exists(bucket):
        return []
    return [o.object_name for o in client.list_objects(bucket, prefix=prefix + "/", recursive=True)]


def failure(call) -> ErrorDetails:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return ErrorDetails.from_rpc_error(info.value)


class TestGoodUploads:
    def test_jpeg_is_stored_in_s3_with_metadata_AP_4(self, s3_client: DocumentsClient, s3_endpoint, s3_bucket):
        party = new_party()
        doc = s3_client.upload(party, corpus.jpeg(), filename="行驶证.jpg", declared="image/jpeg")
        assert doc.name.startswith("documents/") and doc.owner == party.party
        assert doc.kind == documents_pb2.DOCUMENT_KIND_VEHICLE_LICENCE
        assert doc.format == documents_pb2.DOCUMENT_FORMAT_JPEG and doc.content_type == "image/jpeg"
        assert doc.filename == "行驶证.jpg" and doc.create_time.seconds > 0
        # The bucket did not exist before: the service created it.
        keys = objects(s3_endpoint, s3_bucket, party.party)
        assert keys == [f"{party.party}/{doc.sha256}"]
        stored = minio_client(s3_endpoint).get_object(s3_bucket, keys[0]).read()
        assert hashlib.sha256(stored).hexdigest() == doc.sha256 and len(stored) == doc.size_bytes
        assert s3_client.get(party, doc.name) == doc

    def test_exactly_one_mebibyte_is_accepted_AP_9(self, s3_client: DocumentsClient):
        doc = s3_client.upload(new_party(), corpus.png_of_exact_size(1_048_576), filename="big.png")
        assert doc.format == documents_pb2.DOCUMENT_FORMAT_PNG

    @pytest.mark.parametrize(("kind", "make", "filename"), [
        ("VEHICLE_LICENCE", corpus.jpeg, "行驶证.jpg"),
        ("TEMPORARY_PLATE", corpus.png, "临时号牌.png"),
        ("ID_CARD_FRONT", corpus.jpeg, "身份证正面.jpg"),
        ("ID_CARD_BACK", corpus.jpeg, "身份证反面.jpg"),
        ("POWER_OF_ATTORNEY", corpus.png, "授权委托书.png"),
        ("OUTLINE_DRAWING", corpus.jpeg, "车货总体轮廓图.jpg"),
        ("ESCORT_PLAN", corpus.docx, "护送方案.docx"),
        ("ESCORT_PLAN", corpus.doc, "护送方案.doc"),
        ("TRANSPORT_PLAN", corpus.pdf, "运输计划.pdf"),
        ("TRANSPORT_PLAN", corpus.jpeg, "运输计划.jpg"),
        ("BUSINESS_LICENCE", corpus.pdf, "经营许可证.pdf"),
        ("BUSINESS_LICENCE", corpus.jpeg, "经营许可证.jpg"),
    ])
    def test_every_kind_of_the_manual_uploads_AP_4_AP_8_AP_9_ID_5(self, s3_client, kind, make, filename):
        doc = s3_client.upload(new_party(), make(), kind=kind, filename=filename)
        assert documents_pb2.DocumentKind.Name(doc.kind) == f"DOCUMENT_KIND_{kind}"

    def test_identical_upload_is_stored_once_AP_4(self, s3_client: DocumentsClient, s3_endpoint, s3_bucket):
        party = new_party()
        first = s3_client.upload(party, corpus.jpeg())
        again = s3_client.upload(party, corpus.jpeg(), chunk=1000)
        assert again.name == first.name
        assert len(objects(s3_endpoint, s3_bucket, party.party)) == 1

    def test_stored_image_has_no_exif_location_or_camera_AP_4(self, s3_client: DocumentsClient):
        party = new_party()
        doc = s3_client.upload(party, corpus.jpeg(exif=True, orientation=3))
        link = s3_client.url(party, doc.name)
        body = httpx.get(link.url, timeout=10).raise_for_status().content
        with Image.open(io.BytesIO(body)) as im:
            assert dict(im.getexif()) == {corpus.ORIENTATION: 3}
        assert b"PhoneMaker" not in body and hashlib.sha256(body).hexdigest() == doc.sha256


BAD_FILES = [
    ("oversize_by_one_byte", lambda: corpus.png_of_exact_size(1_048_577), "big.png", "FILE_TOO_LARGE"),
    ("renamed_exe", corpus.windows_exe, "photo.jpg", "UNSUPPORTED_FORMAT"),
    ("truncated_jpeg", corpus.truncated_jpeg, "photo.jpg", "FILE_CORRUPT"),
    ("heic_header", corpus.heic_header, "IMG_0001.HEIC", "UNSUPPORTED_IMAGE_FORMAT"),
    ("webp", corpus.webp_header, "a.webp", "UNSUPPORTED_IMAGE_FORMAT"),
    ("bmp", corpus.bmp, "a.bmp", "UNSUPPORTED_IMAGE_FORMAT"),
    ("html", corpus.html, "photo.jpg", "UNSUPPORTED_FORMAT"),
    ("svg", corpus.svg, "a.svg", "UNSUPPORTED_FORMAT"),
    ("polyglot_jpeg_zip", corpus.jpeg_with_zip_appended, "photo.jpg", "FILE_POLYGLOT"),
    ("mislabelled_png_as_pdf", corpus.png, "scan.pdf", "FILE_MISLABELLED"),
]


class TestBadUploads:
    @pytest.mark.parametrize(("case", "make", "filename", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
    def test_bad_photo_is_refused_and_nothing_stored_AP_4_AP_8(self, s3_client, s3_endpoint, s3_bucket,
                                                               case, make, filename, reason):
        party = new_party()
        err = failure(lambda: s3_client.upload(party, make(), kind="ID_CARD_FRONT", filename=filename))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT
        assert err.reason == reason and err.domain == "permit.documents"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message)  # a Chinese message
        assert objects(s3_endpoint, s3_bucket, party.party) == []

    @pytest.mark.parametrize(("case", "make", "reason"), [
        ("docx_bomb", corpus.docx_bomb, "ARCHIVE_UNSAFE"),
        ("docx_traversal", corpus.docx_traversal, "ARCHIVE_UNSAFE"),
        ("pdf_without_trailer", corpus.pdf_without_trailer, "FILE_CORRUPT"),
        ("pdf_javascript", corpus.pdf_with_javascript, "FILE_ACTIVE_CONTENT"),
        ("doc_macros", corpus.doc_with_macros, "FILE_ACTIVE_CONTENT"),
    ])
    def test_bad_plan_is_refused_and_nothing_stored_AP_9(self, s3_client, s3_endpoint, s3_bucket, case, make,
                                                         reason):
        party = new_party()
        err = failure(lambda: s3_client.upload(party, make(), kind="ESCORT_PLAN", filename="plan"))
        assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
        assert objects(s3_endpoint, s3_bucket, party.party) == []

    def test_unsupported_image_gets_the_convert_advice_AP_9(self, s3_client: DocumentsClient):
        err = failure(lambda: s3_client.upload(new_party(), corpus.heic_header(), filename="IMG_1.HEIC"))
        assert err.reason == "UNSUPPORTED_IMAGE_FORMAT" and err.metadata["detected"] == "heic"
        assert "HEIC" in err.message and "JPG" in err.message and "PNG" in err.message

    def test_pdf_for_an_id_card_is_refused_AP_8(self, s3_client: DocumentsClient):
        err = failure(lambda: s3_client.upload(new_party(), corpus.pdf(), kind="ID_CARD_BACK", filename="id.pdf"))
        assert err.reason == "FORMAT_NOT_ALLOWED" and "header.kind" in [v.field for v in err.violations]

    def test_empty_file_is_refused_AP_9(self, s3_client: DocumentsClient):
        err = failure(lambda: s3_client.upload(new_party(), b""))
        assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "FILE_EMPTY")

    def test_stream_without_header_is_refused(self, s3_client: DocumentsClient):
        msgs = iter([documents_service_pb2.UploadDocumentRequest(chunk=corpus.jpeg())])
        err = failure(lambda: s3_client.stub.UploadDocument(msgs, metadata=call_metadata(new_party()), timeout=10))
        assert err.reason == "UPLOAD_HEADER_MISSING"

    def test_kind_is_required(self, s3_client: DocumentsClient):
        msgs = iter([documents_service_pb2.UploadDocumentRequest(header=documents_service_pb2.UploadHeader()),
                     documents_service_pb2.UploadDocumentRequest(chunk=corpus.jpeg())])
        err = failure(lambda: s3_client.stub.UploadDocument(msgs, metadata=call_metadata(new_party()), timeout=10))
        assert err.reason == "DOCUMENT_KIND_MISSING"

    def test_caller_without_party_cannot_upload(self, s3_client: DocumentsClient):
        err = failure(lambda: s3_client.upload(None, corpus.jpeg()))
        assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_APPLICANT")

    def test_reading_stops_once_the_limit_is_passed_AP_9(self, s3_client, s3_endpoint, s3_bucket):
        """A 256 MiB stream is cut at the limit: the server never pulls most of it."""
        party = new_party()
        pulled = 0
        total_chunks = 4096  # 4096 x 64 KiB = 256 MiB

        def endless() -> Iterator[documents_service_pb2.UploadDocumentRequest]:
            nonlocal pulled
            header, *_ = list(upload_messages(b"", kind="VEHICLE_LICENCE", filename="a.jpg"))
            yield header
            block = b"\xff\xd8\xff" + b"\x00" * (CHUNK - 3)
            for _ in range(total_chunks):
                pulled += 1
                yield documents_service_pb2.UploadDocumentRequest(chunk=block)

        err = failure(lambda: s3_client.stub.UploadDocument(endless(), metadata=call_metadata(party), timeout=60))
        assert err.reason == "FILE_TOO_LARGE" and err.metadata["limit_bytes"] == "1048576"
        assert pulled < total_chunks // 2
        assert objects(s3_endpoint, s3_bucket, party.party) == []


def test_concurrent_identical_uploads_end_as_one_document_AP_4(s3_client: DocumentsClient, s3_endpoint, s3_bucket):
    from concurrent.futures import ThreadPoolExecutor

    party = new_party()
    data = corpus.jpeg(color=(9, 99, 199))
    with ThreadPoolExecutor(max_workers=6) as pool:
        docs = list(pool.map(lambda _: s3_client.upload(party, data), range(6)))
    assert len({d.name for d in docs}) == 1
    assert len(objects(s3_endpoint, s3_bucket, party.party)) == 1
