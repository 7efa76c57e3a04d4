"""Which RPCs of ApplicationService are implemented (progress is visible): today, all."""

from __future__ import annotations

from permit.application.v1 import application_service_pb2 as spb
from permit.application.v1 import application_service_pb2_grpc as sgrpc
from permit_application.grpc_api import ApplicationServicer

# RPCs that still answer UNIMPLEMENTED (the generated base class's default).
STILL_UNIMPLEMENTED: set[str] = set()


def test_every_rpc_is_implemented_except_the_listed_ones() -> None:
    methods = {m.name for m in spb.DESCRIPTOR.services_by_name["ApplicationService"].methods}
    implemented = {m for m in methods
                   if getattr(ApplicationServicer, m) is not getattr(sgrpc.ApplicationServiceServicer, m)}
    assert methods - implemented == STILL_UNIMPLEMENTED
    assert len(methods) == 26


def test_every_public_rpc_has_an_http_rule_and_the_internal_ones_have_none() -> None:
    from google.api import annotations_pb2

    from permit.application.v1 import application_internal_pb2 as ipb

    for m in spb.DESCRIPTOR.services_by_name["ApplicationService"].methods:
        assert m.GetOptions().HasExtension(annotations_pb2.http), m.name
    internal = ipb.DESCRIPTOR.services_by_name["ApplicationInternalService"]
    assert [m.name for m in internal.methods] == ["ImportLegacyRecords", "ReserveVehicleTime", "ReleaseVehicleTime",
                                                  "SyncLegacyRecords"]
    assert not any(m.GetOptions().HasExtension(annotations_pb2.http) for m in internal.methods)
