"""S3 outage (UNAVAILABLE, nothing half-stored, recovers) and the unreferenced-blob sweeper."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import grpc
import pytest
from minio import Minio
from sqlalchemy import create_engine, func, select

from permit_documents import services
from permit_documents.models import Document
from permitkit.db import utcnow
from permitkit.errors import ErrorDetails
from permitkit.testing import S3Endpoint, S3Server
from tests.documents import corpus
from tests.documents.integration.conftest import DocumentsClient, new_party, s3_env

pytestmark = pytest.mark.integration


@pytest.fixture
def own_s3_server() -> Iterator[S3Server]:
    """A private S3 server process this test may stop and start (the shared one stays up)."""
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.close()


def rows_of(db_url: str, owner: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Document).where(Document.owner == owner)) or 0)
    finally:
        engine.dispose()


def minio_client(s3: S3Endpoint) -> Minio:
    return Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=s3.secure)


def test_upload_answers_unavailable_while_s3_is_down_and_works_when_back_AP_4(
    make_documents_client, own_s3_server: S3Server, s3_bucket: str, documents_db_url: str,
):
    client: DocumentsClient = make_documents_client(s3_env(own_s3_server.endpoint, s3_bucket))
    party = new_party()
    before = client.upload(party, corpus.jpeg(color=(1, 1, 1)))

    own_s3_server.stop()
    with pytest.raises(grpc.RpcError) as info:
        client.upload(party, corpus.jpeg(color=(2, 2, 2)))
    err = ErrorDetails.from_rpc_error(info.value)
    assert (err.code, err.reason) == (grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE")
    assert "存储" in err.message and "稍后重新上传" in err.message
    # A download meanwhile is told to try the download again, not to upload anew.
    with pytest.raises(grpc.RpcError) as info:
        client.download(party, before.name)
    err = ErrorDetails.from_rpc_error(info.value)
    assert (err.code, err.reason) == (grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE")
    assert "存储" in err.message and "下载" in err.message and "上传" not in err.message
    # Nothing half-stored: no metadata row for the failed upload.
    assert rows_of(documents_db_url, party.party) == 1

    own_s3_server.start()
    after = client.upload(party, corpus.jpeg(color=(2, 2, 2)))
    assert after.name != before.name and rows_of(documents_db_url, party.party) == 2
    keys = {o.object_name for o in minio_client(own_s3_server.endpoint).list_objects(
        s3_bucket, prefix=party.party + "/", recursive=True)}
    assert keys == {f"{party.party}/{before.sha256}", f"{party.party}/{after.sha256}"}
    assert client.download(party, before.name)[0].name == before.name


def test_service_starting_while_s3_is_down_serves_uploads_once_it_is_up_AP_4(
    make_documents_client, own_s3_server: S3Server, s3_bucket: str,
):
    own_s3_server.stop()
    client: DocumentsClient = make_documents_client(s3_env(own_s3_server.endpoint, s3_bucket))
    with pytest.raises(grpc.RpcError) as info:
        client.upload(new_party(), corpus.jpeg())
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    own_s3_server.start()
    assert client.upload(new_party(), corpus.jpeg()).name.startswith("documents/")


def test_sweeper_removes_only_unreferenced_blobs_past_the_grace_period(
    s3_client: DocumentsClient, s3_endpoint: S3Endpoint, s3_bucket: str,
):
    party = new_party()
    kept = s3_client.upload(party, corpus.jpeg())
    deleted = s3_client.upload(party, corpus.png(), filename="b.png")
    from permit.documents.v1 import documents_service_pb2
    from permitkit.client import call_metadata
    s3_client.stub.DeleteDocument(documents_service_pb2.DeleteDocumentRequest(name=deleted.name),
                                  metadata=call_metadata(party), timeout=10)
    # A blob whose metadata commit never happened (e.g. the database failed after the write).
    orphan = f"{party.party}/{'e' * 64}"
    minio_client(s3_endpoint).put_object(s3_bucket, orphan, io.BytesIO(b"orphan"), 6)

    app = s3_client.app
    grace = dt.timedelta(hours=1)
    assert services.sweep_unreferenced_blobs(app.uow_factory(), app.store, grace=grace, now=utcnow()) == []
    removed = services.sweep_unreferenced_blobs(app.uow_factory(), app.store, grace=grace,
                                                now=utcnow() + dt.timedelta(hours=2))
    assert sorted(removed) == sorted([orphan, f"{party.party}/{deleted.sha256}"])
    remaining = [o.object_name for o in minio_client(s3_endpoint).list_objects(s3_bucket, recursive=True)]
    assert remaining == [f"{party.party}/{kept.sha256}"]
    assert s3_client.download(party, kept.name)[1]
