"""CalendarService: the working-day calendar for peer services (internal, never on the gateway).

Approval owns the national working-day calendar (RV-4); identity asks it for
the licence review due date (ID-5) instead of keeping a calendar of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from permit.approval.v1 import calendar_service_pb2 as cpb
from permit.approval.v1 import calendar_service_pb2_grpc as cgrpc
from permit_approval import access, convert
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permit_approval.workdays import DueDate
from permitkit.context import Principal, current_principal
from permitkit.errors import InvalidArgument
from permitkit.server import ServiceSpec

FULL_NAME = "permit.approval.v1.CalendarService"
MAX_DAYS = 366


def add_working_days(uow: ApprovalUnitOfWork, *, principal: Principal | None, start: dt.date,
                     days: int) -> DueDate:
    """The ``days``-th working day after ``start`` by approval's calendar (library years
    with the administrator's years over them); provisional across an unknown year."""
    access.require_service(principal)
    if not 0 <= days <= MAX_DAYS:
        raise InvalidArgument(f"工作日天数必须在 0 至 {MAX_DAYS} 之间。", reason="DAYS_INVALID", field="days")
    with uow:
        calendar = uow.calendar()
        uow.commit()
    return calendar.add_working_days(start, days)


class CalendarServicer(cgrpc.CalendarServiceServicer):
    """Transport of the calendar use case."""

    def __init__(self, uow_factory: Callable[[], ApprovalUnitOfWork]) -> None:
        self._uow = uow_factory

    def AddWorkingDays(self, request: cpb.AddWorkingDaysRequest, context: Any) -> cpb.AddWorkingDaysResponse:
        try:
            start = convert.date_from_pb(request.start_date, request.HasField("start_date"))
        except ValueError:
            start = None
        if start is None:
            raise InvalidArgument("日期不正确。", reason="DATE_INVALID", field="start_date")
        due = add_working_days(self._uow(), principal=current_principal(), start=start, days=request.days)
        return cpb.AddWorkingDaysResponse(due_date=convert.date_pb(due.date), provisional=due.provisional,
                                          unknown_years=list(due.unknown_years))


def calendar_service_spec(uow_factory: Callable[[], ApprovalUnitOfWork]) -> ServiceSpec:
    return (cgrpc.add_CalendarServiceServicer_to_server, CalendarServicer(uow_factory), FULL_NAME)
