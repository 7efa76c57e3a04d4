"""A stand-in DocumentService served over real gRPC on port 0: identity's peer
port in its own tests (the real documents service is exercised end to end)."""

from __future__ import annotations

import threading

import grpc

from permit.documents.v1 import documents_pb2, documents_service_pb2, documents_service_pb2_grpc
from permitkit.context import current_principal


class FakeDocumentService(documents_service_pb2_grpc.DocumentServiceServicer):
    """Knows documents registered by the test; records access grants."""

    def __init__(self) -> None:
        self.documents: dict[str, documents_pb2.Document] = {}
        self.grants: list[tuple[str, list[str], list[str], str]] = []
        self.fail_grants = False
        self._lock = threading.Lock()

    def add(self, name: str, owner: str, kind: str = "BUSINESS_LICENCE") -> str:
        self.documents[name] = documents_pb2.Document(
            name=name, owner=owner, kind=documents_pb2.DocumentKind.Value(f"DOCUMENT_KIND_{kind}"))
        return name

    def GetDocument(self, request, context):  # type: ignore[no-untyped-def]
        doc = self.documents.get(request.name)
        if doc is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "not found")
        return doc

    def GrantAccess(self, request, context):  # type: ignore[no-untyped-def]
        if self.fail_grants:
            context.abort(grpc.StatusCode.UNAVAILABLE, "down")
        p = current_principal()
        with self._lock:
            self.grants.append((request.application, list(request.provinces), list(request.documents),
                                p.subject if p else ""))
        return documents_service_pb2.GrantAccessResponse(documents=list(request.documents))
