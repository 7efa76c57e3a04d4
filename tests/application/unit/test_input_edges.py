"""Edges a new user meets on the wire: impossible dates named, false verdicts present."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2, json_format
from google.type import date_pb2

from permit.application.v1 import application_pb2 as pb
from permit.application.v1 import application_service_pb2 as spb
from permit.application.v1 import application_service_pb2_grpc as sgrpc
from permit_application import services as svc
from permit_application.dates import date_problem
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


def draft(stub: sgrpc.ApplicationServiceStub) -> pb.Application:
    receipt = NOTICES.serve(party=APPLICANT.party or "", now=NOW - dt.timedelta(seconds=5)).receipt
    return stub.CreateApplication(spb.CreateApplicationRequest(notice_receipt=receipt),
                                  metadata=call_metadata(APPLICANT))


@pytest.mark.parametrize(("ymd", "expected"), [
    ((2027, 2, 30), "2月没有30日"), ((2027, 2, 29), "2027年2月没有29日"), ((2027, 13, 1), "月份应为1至12"),
    ((2027, 0, 5), "月份应为1至12"), ((2027, 4, 31), "4月没有31日"), ((2027, 4, 0), "日应为1至30"),
])
def test_an_impossible_date_says_what_is_wrong_AP_7(ymd, expected) -> None:
    assert expected in date_problem(*ymd)
    assert date_problem(2028, 2, 29) == ""


@pytest.mark.parametrize(("ymd", "expected"), [((2027, 2, 30), "2月没有30日"), ((2027, 13, 1), "月份应为1至12")])
def test_saving_passage_with_an_impossible_date_names_the_problem_AP_7(stub, ymd, expected) -> None:
    app = draft(stub)
    app.passage.start_date.CopyFrom(date_pb2.Date(year=ymd[0], month=ymd[1], day=ymd[2]))
    with pytest.raises(grpc.RpcError) as e:
        stub.UpdateApplication(spb.UpdateApplicationRequest(
            application=app, update_mask=field_mask_pb2.FieldMask(paths=["passage"])),
            metadata=call_metadata(APPLICANT))
    d = ErrorDetails.from_rpc_error(e.value)
    assert d.code == grpc.StatusCode.INVALID_ARGUMENT
    [v] = [v for v in d.violations if v.field == "passage.start_date"]
    assert expected in v.description and v.reason == "DATE_INVALID"
    assert "请选择通行起始日期" not in v.description


def test_schedule_check_with_an_impossible_date_names_the_problem_AP_6(stub) -> None:
    app = draft(stub)
    with pytest.raises(grpc.RpcError) as e:
        stub.CheckVehicleSchedule(spb.CheckVehicleScheduleRequest(
            name=app.name, start_date=date_pb2.Date(year=2027, month=2, day=30),
            end_date=date_pb2.Date(year=2027, month=3, day=2), plate_numbers=["冀A12345"]),
            metadata=call_metadata(APPLICANT))
    d = ErrorDetails.from_rpc_error(e.value)
    assert [(v.field, v.reason) for v in d.violations] == [("start_date", "DATE_INVALID")]


def test_false_verdicts_are_present_in_the_json_AP_4() -> None:
    """A phone reading ``ok``/``valid`` must see false, not a missing key."""
    assert json_format.MessageToDict(spb.CheckVehicleScheduleResponse(ok=False)) == {"ok": False}
    assert json_format.MessageToDict(spb.ValidatePlateNumberResponse(valid=False)) == {"valid": False}


def test_plate_check_answers_valid_false_on_the_wire_AP_4(stub) -> None:
    bad = stub.ValidatePlateNumber(spb.ValidatePlateNumberRequest(plate_number="冀A1"))
    assert bad.HasField("valid") and json_format.MessageToDict(bad)["valid"] is False
