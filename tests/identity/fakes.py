"""A stand-in DocumentService served over real gRPC on port 0: identity's peer
port in its own tests (the real documents service is exercised end to end)."""

from __future__ import annotations

import threading

import grpc

from permit.documents.v1 import documents_pb2, documents_service_pb2_grpc
from permit.events.v1 import event_sink_pb2, event_sink_pb2_grpc
from permit.identity.v1 import events_pb2 as identity_events
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



class FakeDocumentSink(event_sink_pb2_grpc.EventSinkServiceServicer):
    """The documents service's event sink: a LicenceSubmitted grants its image to the
    licence officers of its province; records (licence, provinces, documents, caller)."""

    def __init__(self, documents: FakeDocumentService) -> None:
        self.documents = documents

    def Deliver(self, request, context):  # type: ignore[no-untyped-def]
        if self.documents.fail_grants:
            context.abort(grpc.StatusCode.UNAVAILABLE, "down")
        event = identity_events.LicenceSubmitted()
        request.envelope.event.Unpack(event)
        p = current_principal()
        with self.documents._lock:
            self.documents.grants.append((event.licence, [event.province], [event.document],
                                          p.subject if p else ""))
        return event_sink_pb2.DeliverResponse(applied=True)
