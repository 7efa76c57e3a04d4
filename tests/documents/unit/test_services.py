"""Use cases with fake storage and unit of work: upload, dedup, access, grants, sweep."""

from __future__ import annotations

import datetime as dt

import pytest

from permit_documents import errors, services
from permit_documents.links import LinkSigner
from permit_documents.models import DocumentKind
from permitkit.access import NotService
from permitkit.context import Principal
from permitkit.errors import PermitError
from tests.documents import corpus
from tests.documents.fakes import FakeBlobStore, FakeUnitOfWork

OWNER = Principal(subject="users/1", party="parties/p1", roles=frozenset({"applicant"}))
OTHER = Principal(subject="users/2", party="parties/p2", roles=frozenset({"applicant"}))
OFFICER_HE = Principal(subject="officers/7", roles=frozenset({"officer.review"}), province="130000")
OFFICER_SX = Principal(subject="officers/8", roles=frozenset({"officer.review"}), province="140000")
SERVICE = Principal(subject="services/approval", roles=frozenset({"service"}))
SIGNER = LinkSigner(b"k" * 32)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def store() -> FakeBlobStore:
    return FakeBlobStore()


def upload(uow, store, data=None, *, principal=OWNER, kind=DocumentKind.VEHICLE_LICENCE,
           filename="photo.jpg", declared=""):
    return services.upload_document(uow, store, principal=principal, kind=kind, filename=filename,
                                    declared_content_type=declared,
                                    content=corpus.jpeg() if data is None else data)


class TestUpload:
    def test_upload_stores_blob_and_metadata_AP_4(self, uow, store):
        doc = upload(uow, store, corpus.jpeg(exif=True))
        assert doc.owner == "parties/p1" and doc.kind == "VEHICLE_LICENCE"
        assert doc.format == "JPEG" and doc.content_type == "image/jpeg"
        assert uow.committed[doc.id] is doc
        stored = store.blobs[doc.blob_key][0]
        assert len(stored) == doc.size_bytes and b"PhoneMaker" not in stored

    def test_identical_upload_by_same_owner_is_stored_once_AP_4(self, uow, store):
        first = upload(uow, store)
        again = upload(uow, store)
        assert again.id == first.id
        assert store.puts == 1 and len(store.blobs) == 1 and len(uow.committed) == 1

    def test_same_content_under_another_file_name_answers_the_name_given_AP_9(self, uow, store):
        """A carrier uploading the same picture as 运输方案.jpg after 行驶证.jpg sees 运输方案.jpg."""
        first = upload(uow, store, filename="行驶证.jpg")
        second = upload(uow, store, filename="运输方案.jpg")
        assert second.filename == "运输方案.jpg" and first.filename == "行驶证.jpg"
        assert second.id != first.id and second.blob_key == first.blob_key
        assert store.puts <= 2 and len(store.blobs) == 1
        assert upload(uow, store, filename="运输方案.jpg").id == second.id  # a retry

    def test_same_content_as_another_kind_shares_the_blob_AP_8(self, uow, store):
        a = upload(uow, store, kind=DocumentKind.ID_CARD_FRONT)
        b = upload(uow, store, kind=DocumentKind.POWER_OF_ATTORNEY)
        assert a.id != b.id and a.blob_key == b.blob_key and len(store.blobs) == 1

    def test_same_content_by_another_owner_is_a_separate_document_AP_4(self, uow, store):
        a = upload(uow, store)
        b = upload(uow, store, principal=OTHER)
        assert a.id != b.id and a.blob_key != b.blob_key

    def test_one_byte_over_the_limit_is_refused_and_nothing_stored_AP_9(self, uow, store):
        with pytest.raises(errors.FileTooLarge):
            upload(uow, store, corpus.png_of_exact_size(1_048_577), filename="a.png")
        assert not store.blobs and not uow.committed

    def test_exactly_the_limit_is_accepted_AP_9(self, uow, store):
        doc = upload(uow, store, corpus.png_of_exact_size(1_048_576), filename="a.png")
        assert doc.format == "PNG"

    def test_empty_file_is_refused_AP_9(self, uow, store):
        with pytest.raises(errors.FileEmpty):
            upload(uow, store, b"")

    def test_pdf_for_a_photo_kind_is_refused_AP_8(self, uow, store):
        with pytest.raises(errors.FormatNotAllowed) as info:
            upload(uow, store, corpus.pdf(), kind=DocumentKind.ID_CARD_BACK, filename="id.pdf")
        assert "身份证反面" in info.value.message
        assert not store.blobs

    def test_docx_escort_plan_is_accepted_AP_9(self, uow, store):
        doc = upload(uow, store, corpus.docx(), kind=DocumentKind.ESCORT_PLAN, filename="护送方案.docx")
        assert doc.format == "DOCX" and doc.filename == "护送方案.docx"

    def test_renamed_executable_is_refused_before_storage_AP_9(self, uow, store):
        with pytest.raises(errors.UnsupportedFormat):
            upload(uow, store, corpus.windows_exe(), filename="photo.jpg")
        assert not store.blobs

    def test_caller_without_party_cannot_upload(self, uow, store):
        with pytest.raises(errors.NotApplicant):
            upload(uow, store, principal=OFFICER_HE)

    def test_a_certificate_is_stored_by_the_approval_service_for_the_holder_never_uploaded_CT_1(self, uow, store):
        with pytest.raises(errors.KindReserved):
            upload(uow, store, corpus.pdf(), kind=DocumentKind.CERTIFICATE, filename="通行证.pdf")
        with pytest.raises(errors.KindReserved):
            services.check_upload_header(principal=OWNER, kind=DocumentKind.CERTIFICATE)
        # Not through the public upload either, even from a service acting for the holder.
        for_holder = Principal(subject="services/approval", party="parties/p1", roles=frozenset({"service"}))
        with pytest.raises(errors.KindReserved):
            upload(uow, store, corpus.pdf(), principal=for_holder, kind=DocumentKind.CERTIFICATE,
                   filename="通行证.pdf")
        approval = Principal(subject="services/approval", roles=frozenset({"service"}))
        doc = services.store_document(uow, store, principal=approval, kind=DocumentKind.CERTIFICATE,
                                      owner="parties/p1", filename="通行证.pdf",
                                      declared_content_type="application/pdf", content=corpus.pdf())
        assert (doc.owner, doc.kind, doc.format) == ("parties/p1", "CERTIFICATE", "PDF")
        assert doc.readable_by(OWNER) and not doc.readable_by(OTHER)
        again = services.store_document(uow, store, principal=approval, kind=DocumentKind.CERTIFICATE,
                                        owner="parties/p1", filename="通行证.pdf",
                                        declared_content_type="application/pdf", content=corpus.pdf())
        assert again.name == doc.name
        with pytest.raises(errors.FormatNotAllowed):
            services.store_document(uow, store, principal=approval, kind=DocumentKind.CERTIFICATE,
                                    owner="parties/p1", filename="通行证.docx", declared_content_type="",
                                    content=corpus.docx())

    def test_only_a_peer_service_stores_and_only_the_kinds_services_produce_CT_1(self, uow, store):
        approval = Principal(subject="services/approval", roles=frozenset({"service"}))

        def store_as(principal, kind=DocumentKind.CERTIFICATE, owner="parties/p1"):
            return services.store_document(uow, store, principal=principal, kind=kind, owner=owner,
                                           filename="通行证.pdf", declared_content_type="application/pdf",
                                           content=corpus.pdf())

        with pytest.raises(NotService):
            store_as(OWNER)
        with pytest.raises(errors.KindNotStored) as e:
            store_as(approval, kind=DocumentKind.OUTLINE_DRAWING)
        assert e.value.field == "header.kind"
        with pytest.raises(errors.OwnerInvalid) as e:
            store_as(approval, owner="users/u1")
        assert e.value.field == "header.owner"
        with pytest.raises(errors.DocumentKindMissing):
            store_as(approval, kind=None)

    def test_missing_kind_is_refused(self, uow, store):
        with pytest.raises(errors.DocumentKindMissing):
            upload(uow, store, kind=None)

    def test_storage_down_leaves_no_metadata_AP_4(self, uow, store):
        store.down = True
        with pytest.raises(errors.StorageUnavailable) as info:
            upload(uow, store)
        assert info.value.code.name == "UNAVAILABLE" and "存储" in info.value.message
        assert not uow.committed

    def test_path_in_filename_is_reduced_to_its_last_part(self, uow, store):
        doc = upload(uow, store, filename="../../etc/行驶证\x00.jpg")
        assert doc.filename == "行驶证.jpg"


class TestAccess:
    def test_owner_reads_metadata_and_others_get_not_found_AP_4(self, uow, store):
        doc = upload(uow, store)
        assert services.get_document(uow, principal=OWNER, name=doc.name).id == doc.id
        for who in (OTHER, OFFICER_HE, None):
            with pytest.raises(errors.DocumentNotFound):
                services.get_document(uow, principal=who, name=doc.name)

    def test_unknown_and_malformed_names_are_not_found(self, uow):
        for name in ("documents/" + "0" * 32, "documents/../x", "", "parties/p1"):
            with pytest.raises(errors.DocumentNotFound):
                services.get_document(uow, principal=OWNER, name=name)

    def test_grant_lets_officers_of_reviewing_provinces_read_AP_9(self, uow, store):
        doc = upload(uow, store)
        names = services.grant_access(uow, principal=SERVICE, application="applications/DJ1",
                                      provinces=["130000"], documents=[doc.name])
        assert names == [doc.name]
        assert services.get_document(uow, principal=OFFICER_HE, name=doc.name).id == doc.id
        with pytest.raises(errors.DocumentNotFound):
            services.get_document(uow, principal=OFFICER_SX, name=doc.name)

    def test_grant_for_an_owner_refuses_another_partys_document_PQ_7_PQ_10(self, uow, store):
        """A case of parties/p2 naming parties/p1's upload opens nothing to the provinces."""
        doc = upload(uow, store)
        with pytest.raises(errors.DocumentNotOwned) as e:
            services.grant_access(uow, principal=SERVICE, application="applications/DJ2",
                                  provinces=["130000"], documents=[doc.name], owner="parties/p2")
        assert e.value.metadata["names"] == doc.name
        with pytest.raises(errors.DocumentNotFound):
            services.get_document(uow, principal=OFFICER_HE, name=doc.name)
        # The owner's own grant goes through.
        services.grant_access(uow, principal=SERVICE, application="applications/DJ1",
                              provinces=["130000"], documents=[doc.name], owner="parties/p1")
        assert services.get_document(uow, principal=OFFICER_HE, name=doc.name).id == doc.id

    def test_grant_is_idempotent(self, uow, store):
        doc = upload(uow, store)
        for _ in range(3):
            services.grant_access(uow, principal=SERVICE, application="applications/DJ1",
                                  provinces=["130000", "130000"], documents=[doc.name, doc.name])
        assert len(uow.committed[doc.id].grants) == 1

    def test_only_services_may_grant(self, uow, store):
        doc = upload(uow, store)
        for who in (OWNER, OFFICER_HE, None):
            with pytest.raises(errors.ServiceRoleRequired):
                services.grant_access(uow, principal=who, application="applications/DJ1",
                                      provinces=["130000"], documents=[doc.name])

    @pytest.mark.parametrize(("application", "provinces", "documents", "reason"), [
        ("", ["130000"], [], "APPLICATION_REQUIRED"),
        ("applications/DJ1", ["13"], [], "PROVINCE_INVALID"),
        ("applications/DJ1", ["130000"], ["docs/1"], "DOCUMENT_NAME_INVALID"),
        ("applications/DJ1", ["130000"], ["documents/" + "f" * 32], "DOCUMENT_NOT_FOUND"),
    ])
    def test_grant_validates_its_request(self, uow, application, provinces, documents, reason):
        with pytest.raises(PermitError) as info:
            services.grant_access(uow, principal=SERVICE, application=application,
                                  provinces=provinces, documents=documents)
        assert info.value.reason == reason

    def test_download_link_for_folder_store_is_a_signed_gateway_path(self, uow, store):
        doc = upload(uow, store)
        now = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
        link = services.get_download_url(uow, store, SIGNER, principal=OWNER, name=doc.name,
                                         ttl=dt.timedelta(minutes=5), now=now)
        assert link.url.startswith(f"/v1/{doc.name}:download?token=")
        assert link.expire_time == now + dt.timedelta(minutes=5)
        token = link.url.split("token=")[1]
        got, content = services.download_document(uow, store, SIGNER, principal=None, name=doc.name,
                                                  token=token, now=now)
        assert got.id == doc.id and content == store.blobs[doc.blob_key][0]
        with pytest.raises(errors.DownloadTokenExpired):
            services.download_document(uow, store, SIGNER, principal=None, name=doc.name, token=token,
                                       now=now + dt.timedelta(minutes=6))

    def test_download_link_is_refused_to_strangers(self, uow, store):
        doc = upload(uow, store)
        with pytest.raises(errors.DocumentNotFound):
            services.get_download_url(uow, store, SIGNER, principal=OTHER, name=doc.name,
                                      ttl=dt.timedelta(minutes=5))


class TestDeleteAndSweep:
    def test_owner_deletes_and_sweeper_removes_the_blob_after_grace(self, uow, store):
        doc = upload(uow, store)
        services.delete_document(uow, principal=OWNER, name=doc.name)
        assert doc.id not in uow.committed
        too_soon = services.sweep_unreferenced_blobs(uow, store, grace=dt.timedelta(hours=1),
                                                     now=store.now + dt.timedelta(minutes=30))
        assert too_soon == [] and doc.blob_key in store.blobs
        removed = services.sweep_unreferenced_blobs(uow, store, grace=dt.timedelta(hours=1),
                                                    now=store.now + dt.timedelta(hours=2))
        assert removed == [doc.blob_key] and not store.blobs

    def test_sweeper_keeps_referenced_blobs(self, uow, store):
        doc = upload(uow, store)
        store.blobs["parties/p1/orphan"] = (b"x", store.now)
        removed = services.sweep_unreferenced_blobs(uow, store, grace=dt.timedelta(hours=1),
                                                    now=store.now + dt.timedelta(hours=2))
        assert removed == ["parties/p1/orphan"] and doc.blob_key in store.blobs

    def test_document_in_review_cannot_be_deleted(self, uow, store):
        doc = upload(uow, store)
        services.grant_access(uow, principal=SERVICE, application="applications/DJ1",
                              provinces=["130000"], documents=[doc.name])
        with pytest.raises(errors.DocumentInReview):
            services.delete_document(uow, principal=OWNER, name=doc.name)

    def test_the_holder_cannot_delete_an_issued_certificate_CT_1(self, uow, store):
        approval = Principal(subject="services/approval", roles=frozenset({"service"}))
        cert = services.store_document(uow, store, principal=approval, kind=DocumentKind.CERTIFICATE,
                                       owner="parties/p1", filename="通行证.pdf",
                                       declared_content_type="application/pdf", content=corpus.pdf())
        with pytest.raises(errors.IssuedDocumentKept) as e:
            services.delete_document(uow, principal=OWNER, name=cert.name)
        assert (e.value.reason, e.value.field) == ("CERTIFICATE_KEPT", "name")
        assert cert.id in uow.committed

    def test_others_cannot_delete(self, uow, store):
        doc = upload(uow, store)
        with pytest.raises(errors.DocumentNotFound):
            services.delete_document(uow, principal=OTHER, name=doc.name)
        assert doc.id in uow.committed


def test_upload_logs_the_event_without_file_content_AP_4(uow, store):
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        doc = upload(uow, store, corpus.jpeg(exif=True))
    events = [entry for entry in logs if entry["event"] == "document_uploaded"]
    assert events and events[0]["document"] == doc.name and events[0]["format"] == "JPEG"
    assert not any(isinstance(v, bytes) for entry in logs for v in entry.values())
