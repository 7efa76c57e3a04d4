"""The events routing reads: an approved route joins the applicant's history (AP-7c).
``sink(...)`` is the service's ``permit.events.v1.EventSinkService``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from permit.application.v1 import events_pb2 as application_events
from permit_routing import convert, services
from permit_routing.reference import ReferenceData
from permit_routing.unit_of_work import RoutingUnitOfWork
from permitkit.context import current_principal
from permitkit.events import EventSink

CONSUMED = (application_events.RouteApproved,)


def sink(uow_factory: Callable[[], RoutingUnitOfWork], ref: ReferenceData) -> EventSink:
    def route_approved(e: Any) -> bool:
        return services.record_approved_route(
            uow_factory(), ref=ref, principal=current_principal(), event_id=e.event_id, applicant=e.applicant,
            application=e.application.name, origin_province=e.origin_province,
            destination_province=e.destination_province, rows=convert.rows_from_proto(e.route),
            approve_time=convert.timestamp_or_none(e.occur_time, e.HasField("occur_time")))

    return EventSink("routing", {application_events.RouteApproved: route_approved})
