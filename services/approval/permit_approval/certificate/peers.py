"""Peers of certificate rendering: documents (store and fetch the files), identity (the holder's name)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import grpc

from permitkit.client import call_metadata, service_principal
from permitkit.context import current_request_id
from permitkit.errors import ErrorDetails, NotFound, Unavailable

SERVICE_NAME = "approval"
CHUNK = 64 * 1024


class CertificateStore(Protocol):
    """Where certificate files live (the documents service in production)."""

    def put(self, *, owner: str, filename: str, content_type: str, data: bytes) -> str:
        """Store ``data`` as a CERTIFICATE document of ``owner``; its name."""
        ...

    def get(self, name: str) -> bytes:
        """The content of a stored certificate file."""
        ...


class PartyDirectory(Protocol):
    """Applicant parties' names, printed on the certificate."""

    def display_name(self, party: str) -> str:
        ...


class GrpcCertificateStore:
    """``DocumentInternalService.StoreDocument`` (store, for the holder) and
    ``DocumentService.DownloadDocument`` (read) as the approval service.

    The store names the holder as the owner, so the document is the holder's own; the
    documents service accepts CERTIFICATE documents only this way, from a service.
    """

    def __init__(self, channel: grpc.Channel, *, timeout: float = 10.0) -> None:
        from permit.documents.v1 import documents_internal_pb2_grpc, documents_service_pb2_grpc

        self._internal = documents_internal_pb2_grpc.DocumentInternalServiceStub(channel)
        self._stub = documents_service_pb2_grpc.DocumentServiceStub(channel)
        self._timeout = timeout

    def put(self, *, owner: str, filename: str, content_type: str, data: bytes) -> str:
        from permit.documents.v1 import documents_internal_pb2 as internal
        from permit.documents.v1 import documents_pb2

        def messages() -> Iterator[internal.StoreDocumentRequest]:
            yield internal.StoreDocumentRequest(header=internal.StoreHeader(
                kind=documents_pb2.DOCUMENT_KIND_CERTIFICATE, owner=owner, filename=filename,
                declared_content_type=content_type))
            for i in range(0, len(data), CHUNK):
                yield internal.StoreDocumentRequest(chunk=data[i:i + CHUNK])

        try:
            doc = self._internal.StoreDocument(
                messages(), timeout=self._timeout,
                metadata=tuple(call_metadata(service_principal(SERVICE_NAME), current_request_id())))
        except grpc.RpcError as e:
            raise Unavailable(f"通行证文件保存失败：{ErrorDetails.from_rpc_error(e).reason}") from e
        return str(doc.name)

    def get(self, name: str) -> bytes:
        from permit.documents.v1 import documents_service_pb2 as svc

        try:
            parts = [m.chunk for m in self._stub.DownloadDocument(
                svc.DownloadDocumentRequest(name=name), timeout=self._timeout,
                metadata=tuple(call_metadata(service_principal(SERVICE_NAME),
                                             current_request_id())))
                if m.WhichOneof("payload") == "chunk"]
        except grpc.RpcError as e:
            if ErrorDetails.from_rpc_error(e).code == grpc.StatusCode.NOT_FOUND:
                raise NotFound("通行证文件不存在。", reason="CERTIFICATE_NOT_FOUND") from e
            raise Unavailable() from e
        return b"".join(parts)


class GrpcPartyDirectory:
    """``IdentityInternalService.GetParty`` as the approval service."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 5.0) -> None:
        from permit.identity.v1 import identity_internal_pb2_grpc

        self._stub = identity_internal_pb2_grpc.IdentityInternalServiceStub(channel)
        self._timeout = timeout

    def display_name(self, party: str) -> str:
        from permit.identity.v1 import identity_service_pb2 as svc

        try:
            resp = self._stub.GetParty(
                svc.GetPartyRequest(name=party), timeout=self._timeout,
                metadata=tuple(call_metadata(service_principal(SERVICE_NAME),
                                             current_request_id())))
        except grpc.RpcError as e:
            if ErrorDetails.from_rpc_error(e).code == grpc.StatusCode.NOT_FOUND:
                return ""
            raise Unavailable() from e
        return str(resp.display_name)
