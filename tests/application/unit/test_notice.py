"""AP-1 by the server's clock: the notice's receipt, never the phone's time, counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import timestamp_pb2

from permit.application.v1 import application_service_pb2 as spb
from permit.application.v1 import application_service_pb2_grpc as sgrpc
from permit_application import services as svc
from permit_application.grpc_api import ApplicationServicer, service_specs
from permit_application.notice import NoticeSigner
from permitkit.client import call_metadata
from permitkit.context import Principal
from permitkit.errors import ErrorDetails
from tests.application.conftest import APPLICANT, DEMO_EXPORT, NOW, OTHER
from tests.application.unit.fakes import FakeUnitOfWork, Store


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stub(grpc_serve: Callable[..., grpc.Channel], clock: Clock) -> sgrpc.ApplicationServiceStub:
    store = Store()
    svc.import_legacy_records(FakeUnitOfWork(store), export=DEMO_EXPORT, check_caller=False, now=NOW)
    servicer = ApplicationServicer(lambda: FakeUnitOfWork(store), clock=clock, notices=NoticeSigner(b"s" * 32))
    return sgrpc.ApplicationServiceStub(grpc_serve(service_specs(servicer), domain="permit.application"))


def refused(call: Callable[[], object]) -> ErrorDetails:
    with pytest.raises(grpc.RpcError) as e:
        call()
    return ErrorDetails.from_rpc_error(e.value)


def create(stub, receipt: str = "", shown: dt.datetime | None = None, principal: Principal = APPLICANT):
    req = spb.CreateApplicationRequest(notice_receipt=receipt)
    if shown is not None:
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(shown)
        req.notice_shown_time.CopyFrom(ts)
    return stub.CreateApplication(req, metadata=call_metadata(principal))


def notice(stub, principal: Principal = APPLICANT):
    return stub.GetPermitNotice(spb.GetPermitNoticeRequest(), metadata=call_metadata(principal))


def test_the_notice_comes_with_a_receipt_of_the_server_time_AP_1(stub, clock) -> None:
    n = notice(stub)
    assert n.title == "许可须知" and "许可" in n.text and n.read_seconds == 5 and n.receipt
    assert n.issue_time.ToDatetime(tzinfo=dt.UTC) == NOW


def test_a_back_dated_notice_time_cannot_shorten_the_five_seconds_AP_1(stub, clock) -> None:
    receipt = notice(stub).receipt
    clock.now = NOW + dt.timedelta(seconds=4.9)
    d = refused(lambda: create(stub, receipt, shown=NOW - dt.timedelta(hours=1)))
    assert (d.code, d.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTICE_NOT_READ")
    assert d.metadata["shown_seconds"] == "4.9" and "5 秒" in d.message
    clock.now = NOW + dt.timedelta(seconds=5)
    app = create(stub, receipt, shown=NOW + dt.timedelta(hours=1))  # a phone whose clock runs ahead
    assert app.name.startswith("applications/")


def test_a_notice_time_alone_is_not_enough_AP_1(stub) -> None:
    d = refused(lambda: create(stub, shown=NOW - dt.timedelta(minutes=5)))
    assert (d.reason, d.metadata["field"]) == ("NOTICE_NOT_READ", "notice_receipt")


def test_a_forged_or_another_partys_receipt_is_refused_AP_1(stub, clock) -> None:
    theirs = notice(stub, OTHER).receipt
    clock.now = NOW + dt.timedelta(seconds=10)
    assert refused(lambda: create(stub, theirs)).reason == "NOTICE_RECEIPT_INVALID"
    forged = NoticeSigner(b"x" * 32).serve(party=APPLICANT.party or "", now=NOW - dt.timedelta(days=1)).receipt
    assert refused(lambda: create(stub, forged)).reason == "NOTICE_RECEIPT_INVALID"
    assert refused(lambda: create(stub, "garbage")).reason == "NOTICE_RECEIPT_INVALID"


def test_a_receipt_older_than_a_day_is_read_again_AP_1(stub, clock) -> None:
    receipt = notice(stub).receipt
    clock.now = NOW + dt.timedelta(hours=24, seconds=1)
    assert refused(lambda: create(stub, receipt)).reason == "NOTICE_NOT_READ"


def test_onboarding_is_checked_before_the_notice_ID_5(stub) -> None:
    newcomer = Principal(subject="users/n1", party="parties/n1", roles=frozenset({"applicant"}),
                         onboarding="LICENCE_REQUIRED")
    assert refused(lambda: create(stub)).reason == "NOTICE_NOT_READ"
    assert refused(lambda: create(stub, principal=newcomer)).reason == "LICENCE_REQUIRED"
    assert refused(lambda: notice(stub, newcomer)).reason == "LICENCE_REQUIRED"
