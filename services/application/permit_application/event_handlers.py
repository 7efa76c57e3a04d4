"""The approval context's events as the application context reads them (PQ-1, PQ-2).

Each handler turns one typed event of ``permit/approval/v1/events.proto`` into a
``ReviewEvent`` and applies it through ``services.record_review_event``
(idempotent by event id). ``sink(uow_factory)`` is the service's
``permit.events.v1.EventSinkService``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from permit.approval.v1 import events_pb2 as approval_events
from permit_application import convert as cv
from permit_application import services as svc
from permit_application.models import ReviewEvent, ReviewKind
from permitkit.db import utcnow
from permitkit.events import EventSink


def _common(e: Any) -> dict[str, Any]:
    return {"event_id": e.event_id, "province": e.province, "submission": e.submission,
            "occur_time": cv.ts_from_pb(e.occur_time) if e.HasField("occur_time") else None}


def _officer(e: Any) -> dict[str, str]:
    return {"officer": e.officer}


_OUTCOMES = {
    approval_events.REVIEW_OUTCOME_APPROVED: ReviewKind.PROVINCE_APPROVED,
    approval_events.REVIEW_OUTCOME_DENIED: ReviewKind.PROVINCE_DENIED,
    approval_events.REVIEW_OUTCOME_RETURNED: ReviewKind.PROVINCE_RETURNED,
}


def review_event_of(e: Any) -> ReviewEvent | None:
    """The ReviewEvent an approval event means to the application; None when it
    changes nothing here (a refused extension or vehicle change, a rejected
    adjustment, which ApplicationDenied follows)."""
    if isinstance(e, approval_events.CaseAccepted):
        return ReviewEvent(kind=ReviewKind.CASE_ACCEPTED, **_common(e), **_officer(e))
    if isinstance(e, approval_events.CaseReturned):
        return ReviewEvent(kind=ReviewKind.CASE_RETURNED, reason=e.reason, **_common(e), **_officer(e))
    if isinstance(e, approval_events.ReviewDecided):
        kind = _OUTCOMES.get(e.outcome)
        if kind is None:
            raise svc.InvalidEvent("未知的审批结论。", field="outcome")
        return ReviewEvent(kind=kind, reason=e.reason, **_common(e), **_officer(e))
    if isinstance(e, approval_events.RouteAdjustmentProposed):
        return ReviewEvent(kind=ReviewKind.ROUTE_ADJUSTMENT_PROPOSED, reason=e.reason,
                           route=cv.route_from_pb(e.suggested_route), **_common(e), **_officer(e))
    if isinstance(e, approval_events.RouteAdjustmentAnswered):
        if not e.accepted:
            return None
        return ReviewEvent(kind=ReviewKind.ROUTE_ADJUSTMENT_ACCEPTED, route=cv.route_from_pb(e.route),
                           documents=list(e.documents), **_common(e))
    if isinstance(e, approval_events.ApplicationDenied):
        return ReviewEvent(kind=ReviewKind.CASE_DENIED, reason=e.reason, **_common(e), **_officer(e))
    if isinstance(e, approval_events.PermitIssued):
        return ReviewEvent(kind=ReviewKind.PERMIT_ISSUED, permit=e.permit, permit_number=e.permit_number,
                           permit_start_date=cv.date_from_pb(e.validity.start_date),
                           permit_end_date=cv.date_from_pb(e.validity.end_date), **_common(e), **_officer(e))
    if isinstance(e, approval_events.PermitAbolished):
        return ReviewEvent(kind=ReviewKind.PERMIT_ABOLISHED, reason=e.reason, permit=e.permit,
                           permit_number=e.permit_number, **_common(e))
    if isinstance(e, approval_events.ExtensionDecided):
        if not e.approved:
            return None
        return ReviewEvent(kind=ReviewKind.PERMIT_EXTENDED, reason=e.reason, permit=e.permit,
                           permit_number=e.permit_number, hold=e.extension,
                           permit_end_date=cv.date_from_pb(e.validity.end_date), **_common(e), **_officer(e))
    if isinstance(e, approval_events.VehicleChangeDecided):
        if not e.approved:
            return None
        return ReviewEvent(kind=ReviewKind.VEHICLE_CHANGED, old_plate_number=e.old_plate_number,
                           new_plate_number=e.new_plate_number, documents=list(e.documents),
                           hold=e.vehicle_change, **_common(e), **_officer(e))
    raise TypeError(type(e).__name__)  # pragma: no cover - the sink dispatches only the types above


def refused_hold(e: Any) -> str:
    """The AP-6 hold a refused vehicle change or extension gives back ("" for none)."""
    if isinstance(e, approval_events.ExtensionDecided) and not e.approved:
        return e.extension
    if isinstance(e, approval_events.VehicleChangeDecided) and not e.approved:
        return e.vehicle_change
    return ""


CONSUMED = (approval_events.CaseAccepted, approval_events.CaseReturned, approval_events.ReviewDecided,
            approval_events.RouteAdjustmentProposed, approval_events.RouteAdjustmentAnswered,
            approval_events.ApplicationDenied, approval_events.PermitIssued, approval_events.PermitAbolished,
            approval_events.ExtensionDecided, approval_events.VehicleChangeDecided)


def sink(uow_factory: Callable[[], svc.UnitOfWork], clock: Callable[[], dt.datetime] = utcnow) -> EventSink:
    """The application service's EventSinkService: every approval event it reads."""

    def handle(e: Any) -> bool:
        review = review_event_of(e)
        if review is None and (hold := refused_hold(e)):
            return svc.give_back_hold(uow_factory(), event_id=e.event_id, topic=e.DESCRIPTOR.full_name,
                                      hold=hold)
        if review is None:
            return svc.note_event(uow_factory(), event_id=e.event_id, topic=e.DESCRIPTOR.full_name)
        return svc.record_review_event(uow_factory(), application=e.application.name, event=review, now=clock())

    return EventSink("application", {cls: handle for cls in CONSUMED})
