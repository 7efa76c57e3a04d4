"""Which RPCs of DocumentService are implemented (progress is visible): today, all."""

from __future__ import annotations

from google.api import annotations_pb2

from permit.documents.v1 import documents_service_pb2 as spb
from permit.documents.v1 import documents_service_pb2_grpc as sgrpc
from permit_documents.grpc_api import DocumentServicer

# RPCs that still answer UNIMPLEMENTED (the generated base class's default).
STILL_UNIMPLEMENTED: set[str] = set()


def test_every_rpc_is_implemented_except_the_listed_ones() -> None:
    methods = {m.name for m in spb.DESCRIPTOR.services_by_name["DocumentService"].methods}
    implemented = {m for m in methods
                   if getattr(DocumentServicer, m) is not getattr(sgrpc.DocumentServiceServicer, m)}
    assert methods - implemented == STILL_UNIMPLEMENTED
    assert len(methods) == 5


def test_every_rpc_is_public_grants_come_from_events() -> None:
    for m in spb.DESCRIPTOR.services_by_name["DocumentService"].methods:
        rule = m.GetOptions().Extensions[annotations_pb2.http]
        assert not getattr(rule, rule.WhichOneof("pattern")).startswith("/internal/"), m.name
