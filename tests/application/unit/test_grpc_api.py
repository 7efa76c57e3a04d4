"""The transport layer alone: ApplicationServicer over a real gRPC server on port 0,
backed by the in-memory unit of work (conversions, masks, errors on the wire)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2

from permit.application.v1 import application_pb2 as pb
from permit.application.v1 import application_service_pb2 as spb
from permit.application.v1 import application_service_pb2_grpc as sgrpc
from permit_application import services as svc
from permit_application.grpc_api import ApplicationServicer, service_specs
from permit_application.notice import NoticeSigner
from permitkit.client import call_metadata
from permitkit.errors import ErrorDetails
from tests.application.conftest import APPLICANT, DEMO_EXPORT, NOW
from tests.application.unit.fakes import FakeUnitOfWork, Store

NOTICES = NoticeSigner(b"k" * 32)


@pytest.fixture
def stub(grpc_serve: Callable[..., grpc.Channel]) -> sgrpc.ApplicationServiceStub:
    store = Store()
    svc.import_legacy_records(FakeUnitOfWork(store), export=DEMO_EXPORT, check_caller=False, now=NOW)
    servicer = ApplicationServicer(lambda: FakeUnitOfWork(store), clock=lambda: NOW, notices=NOTICES)
    return sgrpc.ApplicationServiceStub(grpc_serve(service_specs(servicer), domain="permit.application"))


def create(stub: sgrpc.ApplicationServiceStub) -> pb.Application:
    receipt = NOTICES.serve(party=APPLICANT.party or "", now=NOW - dt.timedelta(seconds=5)).receipt
    return stub.CreateApplication(spb.CreateApplicationRequest(notice_receipt=receipt), metadata=call_metadata(APPLICANT))


def test_a_draft_round_trips_with_three_decimal_quantities_AP_3(stub: sgrpc.ApplicationServiceStub) -> None:
    app = create(stub)
    assert app.name.startswith("applications/DJ13") and app.etag
    app.cargo.CopyFrom(pb.Cargo(name="钢梁", weight_tonnes="12.5", length_metres="20.05", width_metres="2.8",
                                height_metres="1"))
    out = stub.UpdateApplication(spb.UpdateApplicationRequest(
        application=app, update_mask=field_mask_pb2.FieldMask(paths=["cargo"])), metadata=call_metadata(APPLICANT))
    assert (out.cargo.weight_kg, out.cargo.weight_tonnes, out.cargo.length_mm, out.cargo.length_metres) == (
        12500, "12.500", 20050, "20.050")
    assert out.etag != app.etag


def test_a_missing_update_mask_is_an_invalid_argument(stub: sgrpc.ApplicationServiceStub) -> None:
    app = create(stub)
    with pytest.raises(grpc.RpcError) as e:
        stub.UpdateApplication(spb.UpdateApplicationRequest(application=app), metadata=call_metadata(APPLICANT))
    d = ErrorDetails.from_rpc_error(e.value)
    assert (d.code, d.reason, d.domain) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_UPDATE_MASK",
                                            "permit.application")


def test_an_anonymous_caller_is_unauthenticated(stub: sgrpc.ApplicationServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as e:
        stub.ListApplications(spb.ListApplicationsRequest())
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_plate_validation_answers_without_an_error_AP_4(stub: sgrpc.ApplicationServiceStub) -> None:
    ok = stub.ValidatePlateNumber(spb.ValidatePlateNumberRequest(plate_number="冀ad12345"))
    bad = stub.ValidatePlateNumber(spb.ValidatePlateNumberRequest(plate_number="冀A1"))
    assert (ok.valid, ok.normalized, ok.plate_kind) == (True, "冀AD12345", "NEW_ENERGY")
    assert not bad.valid and "格式" in bad.message


def test_required_materials_and_classification_of_a_draft_AP_5_AP_9(stub: sgrpc.ApplicationServiceStub) -> None:
    app = create(stub)
    app.vehicles.extend([pb.Vehicle(plate_number="冀A12345"), pb.Vehicle(plate_number="冀B6789挂")])
    app.overall.CopyFrom(pb.Overall(total_mass_kg=48300, length_mm=18500, width_mm=3000, height_mm=4600,
                                    axle_spacings_mm=[3300, 1350, 7000, 1310, 1310],
                                    axle_loads_kg=[6300, 8000, 8000, 8700, 8700, 8600]))
    md = call_metadata(APPLICANT)
    stub.UpdateApplication(spb.UpdateApplicationRequest(
        application=app, update_mask=field_mask_pb2.FieldMask(paths=["vehicles", "overall"])), metadata=md)
    verdict = stub.ClassifyApplication(spb.ClassifyApplicationRequest(name=app.name), metadata=md)
    assert (verdict.permit_class, verdict.rules[0].rule, verdict.rule_set) == (
        3, "ART15_CLASS3_HEIGHT", "JT-2016-62@2016-09-21")
    req = stub.GetRequiredMaterials(spb.GetRequiredMaterialsRequest(name=app.name), metadata=md)
    assert [(r.kind, r.required_count, r.provided_count) for r in req.missing] == [
        (pb.MATERIAL_KIND_OUTLINE_DRAWING, 3, 0), (pb.MATERIAL_KIND_ESCORT_PLAN, 1, 0)]
