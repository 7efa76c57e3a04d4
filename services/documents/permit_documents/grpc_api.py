"""gRPC transport of the documents service: protobuf in, use case call, protobuf out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator

import grpc
from google.protobuf import empty_pb2

from permit.documents.v1 import documents_pb2, documents_service_pb2, documents_service_pb2_grpc
from permit_documents import convert, services
from permit_documents.links import LinkSigner
from permit_documents.storage import BlobStore
from permit_documents.unit_of_work import DocumentsUnitOfWork
from permit_documents.upload_stream import read_stream
from permitkit.context import current_principal
from permitkit.db import retry_transient, utcnow

DOWNLOAD_CHUNK_BYTES = 64 * 1024
SERVICE_NAME = "permit.documents.v1.DocumentService"


class DocumentServicer(documents_service_pb2_grpc.DocumentServiceServicer):
    """DocumentService over the use cases in ``services``."""

    def __init__(self, *, uow_factory: Callable[[], DocumentsUnitOfWork], store: BlobStore,
                 signer: LinkSigner, link_ttl: dt.timedelta,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._uow = uow_factory
        self._store = store
        self._signer = signer
        self._link_ttl = link_ttl
        self._clock = clock

    def UploadDocument(self, request_iterator: Iterable[documents_service_pb2.UploadDocumentRequest],
                       context: grpc.ServicerContext) -> documents_pb2.Document:
        principal = current_principal()
        head, data = read_stream(request_iterator, lambda h: services.check_upload_header(
            principal=principal, kind=convert.kind_from_proto(h.kind)))
        kind = convert.kind_from_proto(head.kind)
        # The stream is in memory now: a connection lost before the commit (a pooled
        # connection the database dropped) is retried once on a fresh one, as the
        # server does for unary requests. The upload is idempotent by content (AP-9).
        doc = retry_transient(lambda: services.upload_document(
            self._uow(), self._store, principal=principal, kind=kind, filename=head.filename,
            declared_content_type=head.declared_content_type, content=data))
        return convert.document_to_proto(doc)

    def GetDocument(self, request: documents_service_pb2.GetDocumentRequest,
                    context: grpc.ServicerContext) -> documents_pb2.Document:
        doc = services.get_document(self._uow(), principal=current_principal(), name=request.name)
        return convert.document_to_proto(doc)

    def GetDownloadUrl(self, request: documents_service_pb2.GetDownloadUrlRequest,
                       context: grpc.ServicerContext) -> documents_pb2.DownloadUrl:
        link = services.get_download_url(self._uow(), self._store, self._signer,
                                         principal=current_principal(), name=request.name,
                                         ttl=self._link_ttl, now=self._clock())
        return documents_pb2.DownloadUrl(url=link.url, expire_time=convert.timestamp(link.expire_time))

    def DownloadDocument(self, request: documents_service_pb2.DownloadDocumentRequest,
                         context: grpc.ServicerContext
                         ) -> Iterator[documents_service_pb2.DownloadDocumentResponse]:
        doc, content = services.download_document(
            self._uow(), self._store, self._signer, principal=current_principal(),
            name=request.name, token=request.token, now=self._clock(),
        )
        yield documents_service_pb2.DownloadDocumentResponse(document=convert.document_to_proto(doc))
        for i in range(0, len(content), DOWNLOAD_CHUNK_BYTES):
            yield documents_service_pb2.DownloadDocumentResponse(chunk=content[i:i + DOWNLOAD_CHUNK_BYTES])

    def DeleteDocument(self, request: documents_service_pb2.DeleteDocumentRequest,
                       context: grpc.ServicerContext) -> empty_pb2.Empty:
        services.delete_document(self._uow(), principal=current_principal(), name=request.name)
        return empty_pb2.Empty()

