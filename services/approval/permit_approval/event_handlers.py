"""The application context's events as the approval context reads them (RV-1, PQ-5, PQ-6, PQ-8).

A submission opens a case, a corrected resubmission reopens it, a withdrawal
cancels it; each idempotent by event id (the inbox) and by submission number.
``sink(...)`` is the service's ``permit.events.v1.EventSinkService``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from permit.application.v1 import events_pb2 as application_events
from permit_approval import convert, services
from permit_approval.certificate.desk import cargo_from_pb, overall_from_pb
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permitkit.context import current_principal
from permitkit.events import EventSink


def submission_of(e: Any) -> services.Submission:
    """The case's view of a submitted application (ApplicationSubmitted or ApplicationCorrected)."""
    s = e.submitted
    dates = s.passage_dates
    return services.Submission(
        application=e.application.name, application_number=e.application.number, applicant=e.applicant,
        origin_province=s.origin_province, destination_province=s.destination_province,
        route_provinces=list(s.route_provinces), permit_class=s.permit_class,
        plate_numbers=[v.plate_number for v in s.vehicles],
        start_date=convert.date_from_pb(dates.start_date, dates.HasField("start_date")),
        end_date=convert.date_from_pb(dates.end_date, dates.HasField("end_date")),
        multi_trip=s.multi_trip, submission=s.submission, documents=list(s.documents),
        route=convert.route_from_pb(s.route),
        # The figures PQ-10 compares when a vehicle is changed after submission; a vehicle
        # submitted without them is looked up in the fleet then.
        vehicles=[{"plate_number": v.plate_number, "fleet_vehicle": v.fleet_vehicle,
                   "curb_mass_kg": v.curb_mass_kg, "axle_count": v.axle_count,
                   "wheelbase_mm": v.wheelbase_mm, "tyre_count": v.tyre_count,
                   "vehicle_type": v.vehicle_type}
                  for v in s.vehicles if v.curb_mass_kg and v.axle_count],
        # What the certificate prints and the roadside check shows (CT-1, CT-3).
        cargo=cargo_from_pb(s), overall=overall_from_pb(s),
        # RV-2: the application as submitted, kept per submission for the officers.
        snapshot=s.SerializeToString(deterministic=True),
        submit_time=e.occur_time.ToDatetime(tzinfo=dt.UTC) if e.HasField("occur_time") else None)


CONSUMED = (application_events.ApplicationSubmitted, application_events.ApplicationCorrected,
            application_events.ApplicationWithdrawn)


def sink(uow_factory: Callable[[], ApprovalUnitOfWork], clock: Callable[[], dt.datetime]) -> EventSink:
    """The approval service's EventSinkService: submissions, resubmissions, withdrawals."""

    def submitted(e: Any) -> bool:
        return services.create_case(uow_factory(), principal=current_principal(), event_id=e.event_id,
                                    submission=submission_of(e), now=clock())[1]

    def withdrawn(e: Any) -> bool:
        was_cancelled = _state_of(uow_factory, e.application.name) == "CANCELLED"
        case = services.cancel_case(uow_factory(), principal=current_principal(), event_id=e.event_id,
                                    application=e.application.name, reason=e.reason, now=clock())
        return case.state == "CANCELLED" and not was_cancelled

    return EventSink("approval", {
        application_events.ApplicationSubmitted: submitted,
        application_events.ApplicationCorrected: submitted,
        application_events.ApplicationWithdrawn: withdrawn,
    })


def _state_of(uow_factory: Callable[[], ApprovalUnitOfWork], application: str) -> str:
    uow = uow_factory()
    with uow:
        case = uow.cases.by_application(application)
        state = case.state if case is not None else ""
        uow.commit()
        return state
