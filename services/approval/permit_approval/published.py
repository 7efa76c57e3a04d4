"""The integration events the approval context publishes (approval/v1/events.proto).

Transitions record what happened as ``OutgoingEvent`` (kind and fields) on the
case or permit; the unit of work turns each into its event message here, with
the case for what every event carries (application number, applicant, case).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from permit.approval.v1 import events_pb2 as ev
from permit.type.v1 import types_pb2 as tpb
from permit_approval.convert import date_pb, route_rows, ts_pb
from permit_approval.models import Case, EventKind, OutgoingEvent
from permit_approval.workdays import WorkingCalendar

_OUTCOMES = {EventKind.PROVINCE_APPROVED: ev.REVIEW_OUTCOME_APPROVED,
             EventKind.PROVINCE_DENIED: ev.REVIEW_OUTCOME_DENIED,
             EventKind.PROVINCE_RETURNED: ev.REVIEW_OUTCOME_RETURNED}
_STAGES = {"ACCEPTANCE": ev.DUE_STAGE_ACCEPTANCE, "REVIEW": ev.DUE_STAGE_REVIEW,
           "FAST_TRACK": ev.DUE_STAGE_FAST_TRACK}
_DENIALS = {"ACCEPTANCE": ev.DENIAL_STAGE_ACCEPTANCE, "ADJUSTMENT_REJECTED": ev.DENIAL_STAGE_ADJUSTMENT_REJECTED}


def _header(case: Case, f: dict[str, Any]) -> dict[str, Any]:
    """What every approval event carries."""
    return {"occur_time": ts_pb(dt.datetime.fromisoformat(f["occur_time"])),
            "application": tpb.ApplicationRef(name=case.application, number=case.application_number),
            "applicant": case.applicant, "province": f.get("province") or case.origin_province,
            "case": case.name, "submission": int(f.get("submission") or case.submission)}


def _validity(start: str | dt.date | None, end: str | dt.date | None) -> tpb.DateRange:
    def d(v: str | dt.date | None) -> dt.date | None:
        return dt.date.fromisoformat(v) if isinstance(v, str) and v else v if isinstance(v, dt.date) else None
    return tpb.DateRange(start_date=date_pb(d(start)), end_date=date_pb(d(end)))


def province_due(province: str, due: dt.date | None, provisional: bool, stage: str) -> ev.ProvinceDue:
    return ev.ProvinceDue(province=province, due_date=date_pb(due), provisional=provisional, stage=_STAGES[stage])


def with_remind_dates(message: Message, calendar: Callable[[], WorkingCalendar]) -> Message:
    """Fill each deadline's remind date (the working day before it) in ``message``."""
    dues: list[ev.ProvinceDue] = []
    for fname in ("acceptance_due", "due", "review_due"):
        if fname in message.DESCRIPTOR.fields_by_name and message.HasField(fname):
            dues.append(getattr(message, fname))
    if "review_dues" in message.DESCRIPTOR.fields_by_name:
        dues.extend(message.review_dues)  # type: ignore[attr-defined]
    for due in dues:
        if due.due_date.year:
            when = dt.date(due.due_date.year, due.due_date.month, due.due_date.day)
            due.remind_date.CopyFrom(date_pb(calendar().previous_working_day(when)))
    return message


def provinces_of(case: Case) -> list[str]:
    """The origin and every route province, each once: whose officers may read the documents."""
    return list(dict.fromkeys([case.origin_province, *case.route_provinces]))


def messages(e: OutgoingEvent, case: Case) -> list[Message]:
    """The event messages one recorded fact stands for."""
    f, k = e.fields, e.kind
    h = _header(case, f)
    officer = f.get("officer") or ""
    if k == EventKind.CASE_ACCEPTED:
        dues = [province_due(r.province, r.due_date, r.due_provisional, "REVIEW")
                for r in case.reviews if r.state == "PENDING" and r.due_date is not None]
        return [ev.CaseAccepted(officer=officer, route_provinces=list(case.route_provinces), review_dues=dues, **h)]
    if k == EventKind.CASE_RETURNED:
        return [ev.CaseReturned(officer=officer, reason=f.get("reason") or "", **h)]
    if k in _OUTCOMES:
        return [ev.ReviewDecided(officer=officer, outcome=_OUTCOMES[k], reason=f.get("reason") or "",
                                 kept=bool(f.get("kept")), conditions=_conditions(case, h["province"], k), **h)]
    if k == EventKind.ROUTE_ADJUSTMENT_PROPOSED:
        return [ev.RouteAdjustmentProposed(officer=officer, reason=f.get("reason") or "",
                                           suggested_route=route_rows(f.get("route") or []), **h)]
    if k == EventKind.ROUTE_ADJUSTMENT_ACCEPTED:
        due = province_due(h["province"], f.get("due_date"), bool(f.get("provisional")), "FAST_TRACK")
        return [ev.RouteAdjustmentAnswered(
            accepted=True, route=route_rows(f.get("route") or []), documents=list(f.get("documents") or []),
            route_provinces=provinces_of(case), review_due=due, **h)]
    if k == EventKind.ROUTE_ADJUSTMENT_REJECTED:
        return [ev.RouteAdjustmentAnswered(accepted=False, route_provinces=provinces_of(case), **h)]
    if k == EventKind.CASE_DENIED:
        return [ev.ApplicationDenied(officer=officer, reason=f.get("reason") or "",
                                     stage=_DENIALS.get(f.get("stage") or "", ev.DENIAL_STAGE_REVIEW), **h)]
    if k == EventKind.PERMIT_ISSUED:
        return [ev.PermitIssued(officer=officer, permit=f["permit"], permit_number=f["permit_number"],
                                validity=_validity(f.get("permit_start_date"), f.get("permit_end_date")),
                                route=route_rows(case.route or []), plate_numbers=list(case.plate_numbers),
                                destination_province=case.destination_province, **h)]
    if k == EventKind.PERMIT_ABOLISHED:
        return [ev.PermitAbolished(permit=f["permit"], permit_number=f["permit_number"],
                                   reason=f.get("reason") or "",
                                   validity=_validity(f.get("permit_start_date"), f.get("permit_end_date")), **h)]
    if k in (EventKind.PERMIT_EXTENDED, EventKind.EXTENSION_DENIED):
        return [ev.ExtensionDecided(officer=officer, permit=f["permit"], permit_number=f["permit_number"],
                                    approved=k == EventKind.PERMIT_EXTENDED,
                                    validity=_validity(f.get("permit_start_date"), f.get("permit_end_date")),
                                    provinces=list(f.get("provinces") or []), reason=f.get("reason") or "",
                                    extension=f.get("extension") or "", **h)]
    if k in (EventKind.VEHICLE_CHANGED, EventKind.VEHICLE_CHANGE_DENIED):
        return [ev.VehicleChangeDecided(
            officer=officer, approved=k == EventKind.VEHICLE_CHANGED,
            old_plate_number=f.get("old_plate_number") or "", new_plate_number=f.get("new_plate_number") or "",
            new_vehicle=f.get("new_vehicle") or "", documents=list(f.get("documents") or []),
            route_provinces=provinces_of(case), reason=f.get("reason") or "",
            vehicle_change=f.get("vehicle_change") or "", **h)]
    raise ValueError(f"no event message for {k}")


def _conditions(case: Case, province: str, kind: EventKind) -> list[str]:
    if kind != EventKind.PROVINCE_APPROVED:
        return []
    return [c for r in case.reviews if r.province == province for c in (r.conditions or [])]


def case_opened(case: Case, *, reopened: bool, now: dt.datetime) -> list[Message]:
    """CaseOpened, with its acceptance deadline, for a new or reopened case."""
    h = _header(case, {"occur_time": now.isoformat()})
    due = province_due(case.origin_province, case.acceptance_due_date, case.acceptance_due_provisional,
                       "ACCEPTANCE")
    return [ev.CaseOpened(reopened=reopened, route_provinces=provinces_of(case),
                          documents=list(dict.fromkeys(d for d in case.documents or [] if d)),
                          permit_class=case.permit_class, acceptance_due=due, **h)]
