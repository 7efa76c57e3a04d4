"""CalendarService: approval's working-day calendar for peer services (RV-4, ID-5).

Internal: only services call it, and the gateway never exposes it (no HTTP rule).
"""

from __future__ import annotations

import grpc
import pytest
from google.type import date_pb2

from permit.approval.v1 import approval_service_pb2 as svc
from permit.approval.v1 import calendar_service_pb2 as cpb
from permit.approval.v1 import calendar_service_pb2_grpc as cgrpc
from permit_gateway.transcoding import load_service_modules
from tests.approval.conftest import Running, reason_of

pytestmark = pytest.mark.integration


def stub_of(running: Running) -> cgrpc.CalendarServiceStub:
    return cgrpc.CalendarServiceStub(grpc.insecure_channel(f"127.0.0.1:{running.port}"))


def ask(running: Running, y: int, m: int, d: int, days: int, md=None) -> cpb.AddWorkingDaysResponse:  # type: ignore[no-untyped-def]
    return stub_of(running).AddWorkingDays(
        cpb.AddWorkingDaysRequest(start_date=date_pb2.Date(year=y, month=m, day=d), days=days),
        metadata=md if md is not None else running.service(), timeout=10)


def test_counts_the_national_day_week_as_approval_does_RV_4(running: Running) -> None:
    r = ask(running, 2026, 9, 29, 5)
    # Sep 30, Oct 8, Oct 9, Oct 10 (make-up Saturday), Oct 12.
    assert (r.due_date.year, r.due_date.month, r.due_date.day, r.provisional) == (2026, 10, 12, False)


def test_a_year_without_data_is_provisional_until_an_administrator_loads_it_RV_4(running: Running) -> None:
    r = ask(running, 2026, 12, 28, 5)
    assert r.provisional and list(r.unknown_years) == [2027] and (r.due_date.year, r.due_date.day) == (2027, 4)
    running.stub.UpdateWorkingCalendar(svc.UpdateWorkingCalendarRequest(
        name="workingCalendars/2027", holidays=[date_pb2.Date(year=2027, month=1, day=1)]),
        metadata=running.admin(), timeout=10)
    r = ask(running, 2026, 12, 28, 5)
    assert not r.provisional and (r.due_date.year, r.due_date.month, r.due_date.day) == (2027, 1, 5)


def test_only_services_may_ask_and_bad_input_names_its_field(running: Running) -> None:
    with pytest.raises(grpc.RpcError) as e:
        ask(running, 2026, 12, 1, 5, md=running.officer("130000"))
    assert (e.value.code(), reason_of(e.value)) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_SERVICE")
    with pytest.raises(grpc.RpcError) as e:
        ask(running, 2026, 2, 30, 5)
    assert (e.value.code(), reason_of(e.value)) == (grpc.StatusCode.INVALID_ARGUMENT, "DATE_INVALID")
    with pytest.raises(grpc.RpcError) as e:
        ask(running, 2026, 12, 1, 400)
    assert reason_of(e.value) == "DAYS_INVALID"


def test_the_gateway_never_exposes_the_calendar_service() -> None:
    exposed = {s.full_name for m in load_service_modules() for s in m.DESCRIPTOR.services_by_name.values()}
    assert "permit.approval.v1.CalendarService" not in exposed
    assert not any(m.GetOptions().ListFields() for m in cpb.DESCRIPTOR.services_by_name["CalendarService"].methods)


def test_check_applicant_case_answers_by_origin_or_route_province_for_services_only_ID_3(
        running: Running) -> None:
    """Identity shows an applicant's enterprise information to a province's officers
    only while the applicant has a case there (PC-2)."""
    from permit.approval.v1 import approval_internal_pb2 as ipb
    from permit.approval.v1 import approval_internal_pb2_grpc as igrpc

    stub = igrpc.ApprovalInternalServiceStub(grpc.insecure_channel(f"127.0.0.1:{running.port}"))

    def has(party: str, province: str, md=None) -> bool:  # type: ignore[no-untyped-def]
        return stub.CheckApplicantCase(ipb.CheckApplicantCaseRequest(applicant=party, province=province),
                                       metadata=md if md is not None else running.service(), timeout=10).has_case

    assert not has("parties/p1", "130000")
    running.submit(party="parties/p1", route=["130000", "370000", "320000"])
    assert has("parties/p1", "130000") and has("parties/p1", "320000")
    assert not has("parties/p1", "410000") and not has("parties/p2", "130000")
    with pytest.raises(grpc.RpcError) as e:
        has("parties/p1", "130000", md=running.officer("130000"))
    assert reason_of(e.value) == "NOT_SERVICE"
    with pytest.raises(grpc.RpcError) as e:
        has("", "130000")
    assert reason_of(e.value) == "INVALID_FIELD"
