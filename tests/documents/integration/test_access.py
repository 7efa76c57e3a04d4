"""Who may read a document: owner, officers of reviewing provinces, nobody else (AP-4, AP-8, AP-9)."""

from __future__ import annotations

import grpc
import httpx
import pytest

from permitkit.context import Principal
from permitkit.errors import ErrorDetails
from tests.documents import corpus
from tests.documents.integration.conftest import SERVICE, DocumentsClient, new_party, officer

pytestmark = pytest.mark.integration


def failure(call) -> ErrorDetails:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return ErrorDetails.from_rpc_error(info.value)


class TestOwnerAndStrangers:
    def test_owner_gets_a_working_presigned_link_AP_4(self, s3_client: DocumentsClient):
        party = new_party()
        data = corpus.png()
        doc = s3_client.upload(party, data, filename="a.png")
        link = s3_client.url(party, doc.name)
        assert link.expire_time.seconds > 0
        resp = httpx.get(link.url, timeout=10)
        assert resp.status_code == 200 and resp.content == data

    def test_tampered_presigned_link_is_refused_by_s3_AP_4(self, s3_client: DocumentsClient):
        party = new_party()
        doc = s3_client.upload(party, corpus.png(), filename="a.png")
        url = s3_client.url(party, doc.name).url
        head, sig = url.rsplit("X-Amz-Signature=", 1)
        forged = head + "X-Amz-Signature=" + ("0" if sig[0] != "0" else "1") + sig[1:]
        assert httpx.get(forged, timeout=10).status_code == 403

    def test_other_applicant_gets_not_found_everywhere_AP_8(self, s3_client: DocumentsClient):
        owner, stranger = new_party(), new_party()
        doc = s3_client.upload(owner, corpus.jpeg())
        for call in (lambda: s3_client.get(stranger, doc.name), lambda: s3_client.url(stranger, doc.name),
                     lambda: s3_client.download(stranger, doc.name)):
            err = failure(call)
            assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "DOCUMENT_NOT_FOUND")
        missing = failure(lambda: s3_client.get(owner, "documents/" + "0" * 32))
        assert missing.reason == "DOCUMENT_NOT_FOUND"

    def test_owner_streams_the_content_AP_9(self, s3_client: DocumentsClient):
        party = new_party()
        data = corpus.png_of_exact_size(300_000)
        doc = s3_client.upload(party, data, filename="a.png")
        got, content = s3_client.download(party, doc.name)
        assert got.name == doc.name and len(content) == doc.size_bytes
        assert b"prVt" in content  # private chunks are not metadata: kept


class TestOfficerGrants:
    def test_officers_of_reviewing_provinces_read_after_grant_AP_9(self, s3_client: DocumentsClient):
        owner = new_party()
        plan = s3_client.upload(owner, corpus.pdf(), kind="ESCORT_PLAN", filename="plan.pdf")
        photo = s3_client.upload(owner, corpus.jpeg(), kind="OUTLINE_DRAWING")
        hebei, shanxi, beijing = officer("130000"), officer("140000"), officer("110000")
        before = failure(lambda: s3_client.get(hebei, plan.name))
        assert before.code == grpc.StatusCode.NOT_FOUND
        resp = s3_client.grant(SERVICE, "applications/DJ20261201001", ["130000", "140000"],
                               [plan.name, photo.name], owner=owner.party or "")
        assert resp.applied is True
        for who in (hebei, shanxi):
            assert s3_client.get(who, plan.name).name == plan.name
            assert httpx.get(s3_client.url(who, photo.name).url, timeout=10).status_code == 200
        assert failure(lambda: s3_client.get(beijing, plan.name)).code == grpc.StatusCode.NOT_FOUND

    def test_repeated_grant_is_harmless(self, s3_client: DocumentsClient):
        doc = s3_client.upload(new_party(), corpus.jpeg())
        for _ in range(2):
            s3_client.grant(SERVICE, "applications/DJ1", ["130000"], [doc.name])
        assert s3_client.get(officer("130000"), doc.name).name == doc.name

    def test_the_same_event_delivered_twice_grants_once_RV_1(self, s3_client: DocumentsClient):
        doc = s3_client.upload(new_party(), corpus.jpeg())
        first = s3_client.grant(SERVICE, "applications/DJ1", ["130000"], [doc.name], event_id="ev-1")
        again = s3_client.grant(SERVICE, "applications/DJ1", ["130000"], [doc.name], event_id="ev-1")
        assert (first.applied, again.applied) == (True, False)
        assert s3_client.get(officer("130000"), doc.name).name == doc.name

    def test_a_grant_never_opens_another_partys_upload_RV_1(self, s3_client: DocumentsClient):
        doc = s3_client.upload(new_party(), corpus.jpeg())
        err = failure(lambda: s3_client.grant(SERVICE, "applications/DJ1", ["130000"], [doc.name],
                                              owner="parties/someone-else"))
        assert err.reason == "DOCUMENT_NOT_OWNED"
        assert failure(lambda: s3_client.get(officer("130000"), doc.name)).code == grpc.StatusCode.NOT_FOUND

    def test_only_services_may_grant(self, s3_client: DocumentsClient):
        owner = new_party()
        doc = s3_client.upload(owner, corpus.jpeg())
        for who in (owner, officer("130000")):
            err = failure(lambda who=who: s3_client.grant(who, "applications/DJ1", ["130000"], [doc.name]))
            assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_SERVICE")

    def test_grant_of_unknown_document_is_not_found(self, s3_client: DocumentsClient):
        err = failure(lambda: s3_client.grant(SERVICE, "applications/DJ1", ["130000"], ["documents/" + "a" * 32]))
        assert err.reason == "DOCUMENT_NOT_FOUND"

    def test_granted_document_cannot_be_deleted_but_others_can(self, s3_client: DocumentsClient):
        from permit.documents.v1 import documents_service_pb2
        from permitkit.client import call_metadata

        owner = new_party()
        used = s3_client.upload(owner, corpus.jpeg())
        unused = s3_client.upload(owner, corpus.png(), filename="b.png")
        s3_client.grant(SERVICE, "applications/DJ1", ["130000"], [used.name])

        def delete(name: str):
            return s3_client.stub.DeleteDocument(documents_service_pb2.DeleteDocumentRequest(name=name),
                                                 metadata=call_metadata(owner), timeout=10)

        assert failure(lambda: delete(used.name)).reason == "DOCUMENT_IN_REVIEW"
        delete(unused.name)
        assert failure(lambda: s3_client.get(owner, unused.name)).code == grpc.StatusCode.NOT_FOUND


def test_peer_service_reads_metadata_of_any_document(s3_client: DocumentsClient):
    """The application service checks the documents an application references."""
    doc = s3_client.upload(new_party(), corpus.jpeg())
    got = s3_client.get(SERVICE, doc.name)
    assert got.owner == doc.owner and got.kind == doc.kind


def test_licence_officer_reads_the_business_licence_after_grant_ID_5(s3_client: DocumentsClient):
    """The identity service grants the licence image to the officers who review it."""
    owner = new_party()
    licence = s3_client.upload(owner, corpus.pdf(), kind="BUSINESS_LICENCE", filename="经营许可证.pdf")
    reviewer = Principal(subject="officers/9", roles=frozenset({"officer.licence"}), province="130000")
    assert failure(lambda: s3_client.get(reviewer, licence.name)).code == grpc.StatusCode.NOT_FOUND
    s3_client.grant(Principal(subject="services/identity", roles=frozenset({"service"})),
                    "licences/L1", ["130000"], [licence.name])
    assert httpx.get(s3_client.url(reviewer, licence.name).url, timeout=10).content == corpus.pdf()
