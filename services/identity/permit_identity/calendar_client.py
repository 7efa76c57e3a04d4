"""The working-day calendar, asked of its owner, approval (CalendarService).

Identity keeps no calendar of its own. When approval does not answer within
the deadline (down, or slow), the licence review due date is counted on
weekdays only and flagged provisional, exactly as for a year without calendar
data: the licence is still accepted and the due date is shown as provisional
(ID-5). Any other refusal is a defect and is raised.
"""

from __future__ import annotations

import datetime as dt

import grpc
import structlog
from google.type import date_pb2

from permit.approval.v1 import calendar_service_pb2 as cpb
from permit.approval.v1 import calendar_service_pb2_grpc as cgrpc
from permitkit.client import call_metadata, make_channel, service_principal
from permitkit.errors import ErrorDetails

log = structlog.get_logger(__name__)

_DOWN = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def weekdays_after(start: dt.date, days: int) -> dt.date:
    """The ``days``-th weekday after ``start`` (the fallback count, provisional)."""
    d, left = start, days
    while left > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            left -= 1
    return d


class ApprovalCalendar:
    """gRPC client of permit.approval.v1.CalendarService, calling as ``services/identity``."""

    def __init__(self, addr: str, *, timeout: float = 2.0) -> None:
        self._channel = make_channel(addr)
        self._stub = cgrpc.CalendarServiceStub(self._channel)
        self._timeout = timeout

    def add_working_days(self, start: dt.date, days: int) -> tuple[dt.date, bool]:
        """(due date, provisional): approval's answer, or the weekday count when it is down."""
        request = cpb.AddWorkingDaysRequest(
            start_date=date_pb2.Date(year=start.year, month=start.month, day=start.day), days=days)
        try:
            r = self._stub.AddWorkingDays(request, timeout=self._timeout,
                                          metadata=call_metadata(service_principal("identity")))
        except grpc.RpcError as e:
            details = ErrorDetails.from_rpc_error(e)
            if details.code not in _DOWN:
                raise details.to_error() from None
            log.warning("calendar_unavailable_weekdays_counted", code=details.code.name,
                        start=start.isoformat(), days=days)
            return weekdays_after(start, days), True
        return dt.date(r.due_date.year, r.due_date.month, r.due_date.day), r.provisional

    def close(self) -> None:
        self._channel.close()


class ApprovalCases:
    """gRPC client of permit.approval.v1.ApprovalInternalService, calling as ``services/identity``.

    Officers see an applicant's enterprise information only when approval confirms a
    case in their province (PC-2); when approval does not answer, the request fails
    (UNAVAILABLE, APPROVAL_UNAVAILABLE) rather than showing it unchecked."""

    def __init__(self, addr: str, *, timeout: float = 2.0) -> None:
        from permit.approval.v1 import approval_internal_pb2_grpc as igrpc

        self._channel = make_channel(addr)
        self._stub = igrpc.ApprovalInternalServiceStub(self._channel)
        self._timeout = timeout

    def applicant_in_province(self, applicant: str, province: str) -> bool:
        from permit.approval.v1 import approval_internal_pb2 as ipb
        from permitkit.errors import Unavailable

        try:
            r = self._stub.CheckApplicantCase(ipb.CheckApplicantCaseRequest(applicant=applicant, province=province),
                                              timeout=self._timeout,
                                              metadata=call_metadata(service_principal("identity")))
        except grpc.RpcError as e:
            details = ErrorDetails.from_rpc_error(e)
            if details.code in _DOWN:
                raise Unavailable("审批服务暂时不可用，请稍后重试。", reason="APPROVAL_UNAVAILABLE") from None
            raise details.to_error() from None
        return bool(r.has_case)
