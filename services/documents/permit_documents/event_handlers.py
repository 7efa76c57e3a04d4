"""The events documents reads: who may read which upload (RV-1, PQ-6, PQ-7, PQ-10, ID-5).

A case opened or reopened, an accepted route adjustment with a new escort plan and an
approved vehicle change with a new power of attorney let the officers of the origin and
every route province read the documents the event names; a submitted business licence
lets the licence officers of its province read the image. Every grant is named with the
applicant (another party's upload is never opened) and idempotent by event id (inbox).
``sink(...)`` is the service's ``permit.events.v1.EventSinkService``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from permit.approval.v1 import events_pb2 as approval_events
from permit.identity.v1 import events_pb2 as identity_events
from permit_documents import services
from permit_documents.unit_of_work import DocumentsUnitOfWork
from permitkit.context import current_principal
from permitkit.events import EventSink

CONSUMED = (approval_events.CaseOpened, approval_events.RouteAdjustmentAnswered,
            approval_events.VehicleChangeDecided, identity_events.LicenceSubmitted)


def sink(uow_factory: Callable[[], DocumentsUnitOfWork]) -> EventSink:
    def grant(e: Any, resource: str, provinces: list[str], documents: list[str]) -> bool:
        if not documents:
            return False
        granted = services.grant_access(uow_factory(), principal=current_principal(), application=resource,
                                        provinces=provinces, documents=documents, owner=e.applicant,
                                        event=(e.event_id, e.DESCRIPTOR.full_name))
        return bool(granted)

    def case_opened(e: Any) -> bool:
        return grant(e, e.application.name, list(e.route_provinces), list(e.documents))

    def adjustment_answered(e: Any) -> bool:
        return grant(e, e.application.name, list(e.route_provinces), list(e.documents) if e.accepted else [])

    def vehicle_change_decided(e: Any) -> bool:
        return grant(e, e.application.name, list(e.route_provinces), list(e.documents) if e.approved else [])

    def licence_submitted(e: Any) -> bool:
        return grant(e, e.licence, [e.province], [e.document] if e.document else [])

    return EventSink("documents", {
        approval_events.CaseOpened: case_opened,
        approval_events.RouteAdjustmentAnswered: adjustment_answered,
        approval_events.VehicleChangeDecided: vehicle_change_decided,
        identity_events.LicenceSubmitted: licence_submitted,
    })
