"""The integration events the application context publishes (application/v1/events.proto),
built from the model; the use cases queue them with ``uow.record_event``."""

from __future__ import annotations

import datetime as dt

from permit.application.v1 import application_pb2 as pb
from permit.application.v1 import events_pb2 as ev
from permit.type.v1 import types_pb2 as tpb
from permit_application import convert as cv
from permit_application import values as vo
from permit_application.access import MAX_OVERLAPPING
from permit_application.identifiers import mask_id_number
from permit_application.models import Application
from permit_application.rules import Verdict


def _ref(app: Application) -> tpb.ApplicationRef:
    return tpb.ApplicationRef(name=app.name, number=app.number)


def mask_phone(phone: str) -> str:
    """The middle four digits of a mobile number hidden: "138****5678"."""
    return phone[:3] + "****" + phone[7:] if len(phone) == 11 else "*" * len(phone)


def documents_of(app: Application) -> list[str]:
    """Every document the application refers to, each once, in form order."""
    docs: list[str] = [m.document for m in app.material_values]
    for v in app.vehicle_values:
        docs += v.licence_documents
    agent = app.agent_value
    if agent:
        docs += agent.id_card_documents + ([agent.power_of_attorney_document]
                                           if agent.power_of_attorney_document else [])
    return list(dict.fromkeys(d for d in docs if d))


def submitted_application(app: Application, *, verdict: Verdict | None = None,
                          overlaps: list[tuple[str, int]] | None = None,
                          now: dt.datetime | None = None) -> ev.SubmittedApplication:
    """The submitted figures: cargo, vehicles, overall, route, dates, agent (masked), materials,
    the classification with its rules and the duplicate-check result (RV-2)."""
    passage = app.passage_value or vo.Passage()
    agent = app.agent_value
    out = ev.SubmittedApplication(
        submission=app.submission, permit_class=app.permit_class,
        vehicles=[cv.vehicle_to_pb(v) for v in app.vehicle_values],
        origin_province=passage.origin_province, destination_province=passage.destination_province,
        origin_place=passage.origin_place, destination_place=passage.destination_place,
        route=cv.route_to_pb(passage.route),
        route_provinces=list(app.route_provinces or passage.route_provinces()),
        passage_dates=cv.date_range_to_pb(passage.start_date, passage.end_date), multi_trip=passage.multi_trip,
        materials=[pb.MaterialRef(kind=cv.material_kind_to_pb(m.kind), document=m.document)
                   for m in app.material_values],
        documents=documents_of(app))
    if app.cargo_value is not None:
        out.cargo.CopyFrom(cv.cargo_to_pb(app.cargo_value))
    if app.overall_value is not None:
        out.overall.CopyFrom(cv.overall_to_pb(app.overall_value))
    if agent is not None:
        out.agent.CopyFrom(ev.SubmittedAgent(
            name=agent.name, masked_id_number=mask_id_number(agent.id_number) if agent.id_number else "",
            masked_phone=mask_phone(agent.phone) if agent.phone else "",
            id_card_documents=agent.id_card_documents,
            power_of_attorney_document=agent.power_of_attorney_document))
    if verdict is not None:
        out.classification.CopyFrom(cv.verdict_to_pb(verdict))
    if overlaps is not None:
        check = ev.DuplicateCheck(ok=all(n < MAX_OVERLAPPING for _, n in overlaps), vehicles=[
            ev.VehicleOverlap(plate_number=p, overlapping_applications=n) for p, n in overlaps])
        if now is not None:
            check.check_time.CopyFrom(cv.ts_to_pb(now))
        out.duplicate_check.CopyFrom(check)
    return out


def application_submitted(app: Application, *, actor: str, return_reason: str = "",
                          verdict: Verdict | None = None, overlaps: list[tuple[str, int]] | None = None,
                          now: dt.datetime | None = None,
                          ) -> ev.ApplicationSubmitted | ev.ApplicationCorrected:
    """ApplicationSubmitted for a first submission, ApplicationCorrected for a resubmission."""
    passage = app.passage_value or vo.Passage()
    common = dict(application=_ref(app), applicant=app.party, province=passage.origin_province,
                  submitted_by=actor,
                  submitted=submitted_application(app, verdict=verdict, overlaps=overlaps, now=now))
    if app.submission > 1:
        return ev.ApplicationCorrected(return_reason=return_reason, **common)
    return ev.ApplicationSubmitted(**common)


def application_withdrawn(app: Application, *, reason: str) -> ev.ApplicationWithdrawn:
    passage = app.passage_value or vo.Passage()
    return ev.ApplicationWithdrawn(
        application=_ref(app), applicant=app.party, province=passage.origin_province,
        reason=reason or "申请人撤销", submission=app.submission,
        route_provinces=list(app.route_provinces or passage.route_provinces()))


def route_approved(app: Application, *, when: dt.datetime) -> ev.RouteApproved:
    passage = app.passage_value or vo.Passage()
    return ev.RouteApproved(
        occur_time=cv.ts_to_pb(when), application=_ref(app), applicant=app.party,
        province=passage.origin_province, origin_province=passage.origin_province,
        destination_province=passage.destination_province, route=cv.route_to_pb(passage.route),
        permit_number=app.permit_number)
