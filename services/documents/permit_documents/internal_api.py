"""gRPC transport of DocumentInternalService: files other services produce (CT-1)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import grpc

from permit.documents.v1 import documents_internal_pb2, documents_internal_pb2_grpc, documents_pb2
from permit_documents import convert, services
from permit_documents.storage import BlobStore
from permit_documents.unit_of_work import DocumentsUnitOfWork
from permit_documents.upload_stream import read_stream
from permitkit.context import current_principal
from permitkit.db import retry_transient
from permitkit.server import ServiceSpec

SERVICE_NAME = "permit.documents.v1.DocumentInternalService"


class DocumentInternalServicer(documents_internal_pb2_grpc.DocumentInternalServiceServicer):
    """DocumentInternalService over the use cases in ``services``."""

    def __init__(self, *, uow_factory: Callable[[], DocumentsUnitOfWork], store: BlobStore) -> None:
        self._uow = uow_factory
        self._store = store

    def StoreDocument(self, request_iterator: Iterable[documents_internal_pb2.StoreDocumentRequest],
                      context: grpc.ServicerContext) -> documents_pb2.Document:
        principal = current_principal()
        head, data = read_stream(request_iterator, lambda h: services.check_store_header(
            principal=principal, kind=convert.kind_from_proto(h.kind), owner=h.owner))
        kind = convert.kind_from_proto(head.kind)
        # Read in full: a connection lost before the commit is retried once on a fresh
        # one (the server retries only unary requests); storing is idempotent by content.
        doc = retry_transient(lambda: services.store_document(
            self._uow(), self._store, principal=principal, kind=kind, owner=head.owner,
            filename=head.filename, declared_content_type=head.declared_content_type, content=data))
        return convert.document_to_proto(doc)


def internal_service_spec(servicer: DocumentInternalServicer) -> ServiceSpec:
    return (documents_internal_pb2_grpc.add_DocumentInternalServiceServicer_to_server, servicer, SERVICE_NAME)
