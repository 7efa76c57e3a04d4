"""Documents integration fixtures: a migrated PostgreSQL database, the S3 server, a real gRPC server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2

from permit.approval.v1 import events_pb2 as approval_events
from permit.documents.v1 import documents_pb2, documents_service_pb2, documents_service_pb2_grpc
from permit.events.v1 import event_sink_pb2, event_sink_pb2_grpc
from permit.identity.v1 import events_pb2 as identity_events
from permit.type.v1 import types_pb2
from permit_documents import bootstrap
from permit_documents.__main__ import MIGRATIONS
from permit_documents.config import Settings
from permitkit.client import call_metadata
from permitkit.context import Principal
from permitkit.migrations import upgrade
from permitkit.testing import S3Endpoint

CHUNK = 64 * 1024


@pytest.fixture(scope="session")
def documents_db_url(make_database: Callable[[str], str]) -> str:
    """One PostgreSQL database per test session (per xdist worker), migrated to head."""
    url = make_database("documents")
    upgrade(url, MIGRATIONS)
    return url


def s3_env(s3: S3Endpoint, bucket: str) -> dict[str, str]:
    return {**s3.env(), "PERMIT_DOCUMENTS_S3_BUCKET": bucket}


@dataclass
class DocumentsClient:
    """A stub plus helpers to call it as a given principal."""

    stub: documents_service_pb2_grpc.DocumentServiceStub
    app: bootstrap.App
    sink: event_sink_pb2_grpc.EventSinkServiceStub

    def upload(self, principal: Principal | None, data: bytes, *, kind: str = "VEHICLE_LICENCE",
               filename: str = "photo.jpg", declared: str = "", chunk: int = CHUNK) -> documents_pb2.Document:
        return self.stub.UploadDocument(
            upload_messages(data, kind=kind, filename=filename, declared=declared, chunk=chunk),
            metadata=call_metadata(principal), timeout=30)

    def get(self, principal: Principal | None, name: str) -> documents_pb2.Document:
        return self.stub.GetDocument(documents_service_pb2.GetDocumentRequest(name=name),
                                     metadata=call_metadata(principal), timeout=10)

    def url(self, principal: Principal | None, name: str) -> documents_pb2.DownloadUrl:
        return self.stub.GetDownloadUrl(documents_service_pb2.GetDownloadUrlRequest(name=name),
                                        metadata=call_metadata(principal), timeout=10)

    def download(self, principal: Principal | None, name: str, token: str = "") -> tuple[documents_pb2.Document, bytes]:
        stream = self.stub.DownloadDocument(
            documents_service_pb2.DownloadDocumentRequest(name=name, token=token),
            metadata=call_metadata(principal), timeout=10)
        first, *rest = list(stream)
        return first.document, b"".join(m.chunk for m in rest)

    def grant(self, principal: Principal | None, application: str, provinces: Sequence[str],
              documents: Sequence[str], *, owner: str = "", event_id: str = "") -> event_sink_pb2.DeliverResponse:
        """Deliver the event that grants access, as its producer's relay does: CaseOpened for
        an application (approval), LicenceSubmitted for a business licence (identity)."""
        event: Any
        if application.startswith("licences/"):
            event = identity_events.LicenceSubmitted(
                event_id=event_id or str(uuid.uuid4()), licence=application, applicant=owner,
                province=provinces[0], document=documents[0])
        else:
            event = approval_events.CaseOpened(
                event_id=event_id or str(uuid.uuid4()),
                application=types_pb2.ApplicationRef(name=application), applicant=owner,
                route_provinces=list(provinces), documents=list(documents))
        packed = any_pb2.Any()
        packed.Pack(event)
        return self.sink.Deliver(event_sink_pb2.DeliverRequest(envelope=event_sink_pb2.Envelope(
            event_id=event.event_id, topic=event.DESCRIPTOR.full_name, event=packed)),
            metadata=call_metadata(principal), timeout=10)


def upload_messages(data: bytes, *, kind: str, filename: str, declared: str = "",
                    chunk: int = CHUNK) -> Iterator[documents_service_pb2.UploadDocumentRequest]:
    yield documents_service_pb2.UploadDocumentRequest(header=documents_service_pb2.UploadHeader(
        kind=documents_pb2.DocumentKind.Value(f"DOCUMENT_KIND_{kind}"), filename=filename,
        declared_content_type=declared))
    for i in range(0, len(data), chunk):
        yield documents_service_pb2.UploadDocumentRequest(chunk=data[i:i + chunk])


@pytest.fixture
def make_documents_client(
    grpc_serve: Callable[..., grpc.Channel], documents_db_url: str, tmp_path: Path,
) -> Iterator[Callable[..., DocumentsClient]]:
    """``make_documents_client(env_overrides) -> DocumentsClient`` on a real server on port 0."""
    apps: list[bootstrap.App] = []

    def make(extra_env: dict[str, str] | None = None) -> DocumentsClient:
        env = {
            "PERMIT_DOCUMENTS_DATABASE_URL": documents_db_url,
            "PERMIT_DATA_DIR": str(tmp_path / "var"),
            "PERMIT_DOCUMENTS_LINK_SECRET": "test-link-secret-0123456789",
            "PERMIT_DOCUMENTS_SWEEP_INTERVAL_SECONDS": "0",
            **(extra_env or {}),
        }
        app = bootstrap.build(Settings.from_env(env))
        apps.append(app)
        channel = grpc_serve(app)
        return DocumentsClient(documents_service_pb2_grpc.DocumentServiceStub(channel), app,
                               event_sink_pb2_grpc.EventSinkServiceStub(channel))

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def s3_bucket() -> str:
    """A fresh bucket name per test: the service must create it when missing."""
    return f"permit-docs-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3_client(make_documents_client: Callable[..., DocumentsClient], s3_endpoint: S3Endpoint,
              s3_bucket: str) -> DocumentsClient:
    """The documents service on PostgreSQL and the real S3 server."""
    return make_documents_client(s3_env(s3_endpoint, s3_bucket))


@pytest.fixture
def folder_client(make_documents_client: Callable[..., DocumentsClient]) -> DocumentsClient:
    """The documents service on PostgreSQL and the embedded folder store."""
    return make_documents_client()


def new_party() -> Principal:
    return Principal(subject=f"users/{uuid.uuid4().hex[:8]}", party=f"parties/{uuid.uuid4().hex[:12]}",
                     roles=frozenset({"applicant"}), onboarding="ACTIVE")


def officer(province: str) -> Principal:
    return Principal(subject=f"officers/{uuid.uuid4().hex[:8]}", roles=frozenset({"officer.review"}),
                     province=province)


SERVICE = Principal(subject="services/approval", roles=frozenset({"service"}))
