"""A pooled database connection the server dropped does not turn the next upload into a 503.

Uploads are client-streaming RPCs: the server's own retry on a lost connection
covers unary requests only (a stream cannot be read twice). The documents
service reads the stream into memory first and then runs the use case once more
on a fresh connection when the first attempt lost its connection before any
commit (AP-9: an upload is idempotent by content). A download (server streaming)
is retried by the server until its first answer went out.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from permit.documents.v1 import documents_internal_pb2, documents_internal_pb2_grpc, documents_pb2
from permitkit.client import call_metadata
from permitkit.context import Principal
from tests.documents import corpus
from tests.documents.integration.conftest import CHUNK, SERVICE, DocumentsClient, new_party
from tests.documents.integration.test_outage_and_sweep import rows_of

pytestmark = pytest.mark.integration


def terminate_backends(db_url: str) -> int:
    """Cut every connection to the service's database, as a restart of PostgreSQL would;
    returns how many were cut."""
    name = db_url.rpartition("/")[2].split("?")[0]
    admin = db_url.rpartition("/")[0].replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall()
    return sum(1 for (ok,) in rows if ok)


def pooled_connections(client: DocumentsClient) -> int:
    engine = client.app.engine
    assert engine is not None
    return int(engine.pool.checkedin())  # type: ignore[attr-defined]


def test_upload_after_connections_were_cut_succeeds_not_503_AP_9(
    folder_client: DocumentsClient, documents_db_url: str,
):
    party = new_party()
    first = folder_client.upload(party, corpus.jpeg(color=(10, 20, 30)))
    assert pooled_connections(folder_client) >= 1  # the next upload would take a pooled connection

    assert terminate_backends(documents_db_url) >= 1

    second = folder_client.upload(party, corpus.jpeg(color=(40, 50, 60)))
    assert second.name != first.name
    assert rows_of(documents_db_url, party.party) == 2
    # The same content again (a phone's retry) is still the same document, once.
    terminate_backends(documents_db_url)
    again = folder_client.upload(party, corpus.jpeg(color=(40, 50, 60)))
    assert again.name == second.name
    assert rows_of(documents_db_url, party.party) == 2


def test_download_after_connections_were_cut_streams_the_file_AP_9(
    folder_client: DocumentsClient, documents_db_url: str,
):
    """Server streaming: the service retries until its first answer is sent, as for unary calls."""
    party = new_party()
    data = corpus.png_of_exact_size(150_000)
    doc = folder_client.upload(party, data, filename="plan.png")
    assert terminate_backends(documents_db_url) >= 1
    got, content = folder_client.download(party, doc.name)
    assert got.name == doc.name and len(content) == doc.size_bytes


def _store_messages(data: bytes, owner: str) -> Iterator[documents_internal_pb2.StoreDocumentRequest]:
    yield documents_internal_pb2.StoreDocumentRequest(header=documents_internal_pb2.StoreHeader(
        kind=documents_pb2.DocumentKind.Value("DOCUMENT_KIND_CERTIFICATE"), owner=owner,
        filename="通行证.pdf", declared_content_type="application/pdf"))
    for i in range(0, len(data), CHUNK):
        yield documents_internal_pb2.StoreDocumentRequest(chunk=data[i:i + CHUNK])


def test_certificate_store_after_connections_were_cut_succeeds_CT_1(
    make_documents_client, grpc_serve, documents_db_url: str,
):
    client: DocumentsClient = make_documents_client()
    channel = grpc_serve(client.app)
    internal = documents_internal_pb2_grpc.DocumentInternalServiceStub(channel)
    owner = new_party().party
    assert owner is not None
    service: Principal = SERVICE

    def store(data: bytes) -> documents_pb2.Document:
        return internal.StoreDocument(_store_messages(data, owner), metadata=call_metadata(service), timeout=30)

    first = store(corpus.pdf("/Rotate 0 "))
    assert terminate_backends(documents_db_url) >= 1
    second = store(corpus.pdf("/Rotate 90 "))
    assert second.name != first.name and second.owner == owner
    assert rows_of(documents_db_url, owner) == 2
