"""The documents service as identity needs it: check a licence image, grant its
reviewers access (ID-5). Every call has a deadline."""

from __future__ import annotations

import grpc

from permit.documents.v1 import documents_pb2, documents_service_pb2, documents_service_pb2_grpc
from permit_identity.ports import DocumentInfo
from permitkit.client import call_metadata, make_channel, service_principal
from permitkit.errors import ErrorDetails, Unavailable


class DocumentsClient:
    """gRPC client of permit.documents.v1.DocumentService, calling as `services/identity`."""

    def __init__(self, addr: str, *, timeout: float = 3.0) -> None:
        self._channel = make_channel(addr)
        self._stub = documents_service_pb2_grpc.DocumentServiceStub(self._channel)
        self._timeout = timeout

    @property
    def channel(self) -> grpc.Channel:
        return self._channel

    def _md(self) -> tuple[tuple[str, str | bytes], ...]:
        return tuple(call_metadata(service_principal("identity")))

    def describe(self, name: str) -> DocumentInfo | None:
        try:
            doc = self._stub.GetDocument(documents_service_pb2.GetDocumentRequest(name=name),
                                         timeout=self._timeout, metadata=self._md())
        except grpc.RpcError as e:
            details = ErrorDetails.from_rpc_error(e)
            if details.code == grpc.StatusCode.NOT_FOUND:
                return None
            if details.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable("材料服务暂时不可用，请稍后重试。", reason="DOCUMENTS_UNAVAILABLE") from None
            raise
        kind = documents_pb2.DocumentKind.Name(doc.kind).removeprefix("DOCUMENT_KIND_")
        return DocumentInfo(name=doc.name, owner=doc.owner, kind=kind)

    def grant_access(self, *, resource: str, provinces: list[str], documents: list[str],
                     owner: str = "") -> None:
        self._stub.GrantAccess(documents_service_pb2.GrantAccessRequest(
            application=resource, provinces=provinces, documents=documents, owner=owner),
            timeout=self._timeout, metadata=self._md())

    def close(self) -> None:
        self._channel.close()
