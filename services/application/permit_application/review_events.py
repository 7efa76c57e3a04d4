"""The approval context's facts applied to the application (the rules are the model's:
``Application.on_review_event``); idempotent by event id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import structlog

from permit_application import published
from permit_application.access import UnitOfWork, app_id_of, today_of
from permit_application.errors import (
    ApplicationNotFound,
    InvalidEvent,
)
from permit_application.identifiers import normalize_plate
from permit_application.models import (
    PROGRESS_ONLY,
    ReviewEvent,
    ReviewKind,
)
from permitkit.db import utcnow

log = structlog.get_logger()


def record_review_event(uow: UnitOfWork, *, application: str, event: ReviewEvent,
                        now: dt.datetime | None = None) -> bool:
    """Apply a fact of the approval context to the application (idempotent by event id).

    Returns False for a repeat delivery, an event about an older submission or
    one that does not fit the state (kept in the trail, never an error that
    would block the sender's ordered queue). The rules are the application's
    (``Application.on_review_event``); the application service never decides a
    review outcome itself. A permit issued publishes the approved route.
    """
    now = now or utcnow()
    if not event.event_id:
        raise InvalidEvent("缺少事件编号。", field="event_id")
    if event.kind in PROGRESS_ONLY and not event.province:
        raise InvalidEvent("缺少省份。", field="province")
    if event.kind == ReviewKind.PERMIT_ISSUED and not (event.permit_number and event.permit_start_date
                                                       and event.permit_end_date):
        raise InvalidEvent("发证事件缺少许可证编号或有效期。", field="permit_number")
    with uow:
        app = uow.applications.get(app_id_of(application), for_update=True)
        if app is None:
            raise ApplicationNotFound(metadata={"name": application})
        if not uow.first_delivery(event.event_id, f"review.{event.kind.value}"):
            return False
        replacement = None
        if event.kind == ReviewKind.VEHICLE_CHANGED:
            new = normalize_plate(event.new_plate_number)
            replacement = uow.fleet.vehicles_by_plates(app.party, [new]).get(new)
            event = replace(event, old_plate_number=normalize_plate(event.old_plate_number))
        result = app.on_review_event(event, actor=event.officer or "services/approval", now=now,
                                     replacement=replacement)
        for change in result.changes:
            uow.applications.add_change(change)
        # AP-6: a decided vehicle change or extension no longer holds time of its own; the
        # application's new vehicle or end date now takes it (and what it covers goes).
        if event.hold:
            uow.applications.release_holds(event.hold)
        if result.applied and event.kind in (ReviewKind.VEHICLE_CHANGED, ReviewKind.PERMIT_EXTENDED):
            uow.applications.release_covered_holds(app)
        if result.applied and not app.occupies_vehicle(today_of(now)):
            uow.applications.release_all_holds(app)  # denied or abolished: nothing pending holds time
        if result.applied and event.kind == ReviewKind.PERMIT_ISSUED:
            uow.record_event(published.route_approved(app, when=event.occur_time or now))
        uow.commit()
        if result.applied:
            log.info("review_event_recorded", application=app.name, kind=event.kind.value, state=app.state)
        else:
            log.warning("review_event_ignored", application=app.name, kind=event.kind.value, state=app.state)
        return result.applied


def give_back_hold(uow: UnitOfWork, *, event_id: str, topic: str, hold: str) -> bool:
    """A refused vehicle change (PQ-10) or extension (PQ-11): the time it held for its
    vehicles (AP-6) is free again. Idempotent by event id (and by the hold's name);
    True when a hold was given back."""
    with uow:
        if not uow.first_delivery(event_id, topic):
            return False
        released = uow.applications.release_holds(hold) if hold else 0
        uow.commit()
    if released:
        log.info("vehicle_time_released", hold=hold, event_id=event_id)
    return bool(released)


def note_event(uow: UnitOfWork, *, event_id: str, topic: str) -> bool:
    """An event that changes nothing here (a refused extension, ...): only remembered in
    the inbox, so its delivery is acknowledged once; always False (no effect)."""
    with uow:
        uow.first_delivery(event_id, topic)
        uow.commit()
    return False
