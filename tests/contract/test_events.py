"""The integration events are a contract: every event some context declares in its
``events.proto`` is consumed by a handler of another context or listed as published for
notifications only; the relays deliver each consumer exactly the events its sink handles;
every event carries its header (id, time, what it concerns, the applicant, the province);
and every handler is idempotent: the same event delivered twice over gRPC to the real
service has one effect (RV-1, PQ-5, PQ-6, PQ-7, PQ-10, AP-7c, ID-5)."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.type import date_pb2
from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

import permit
from permit.application.v1 import application_pb2 as apb
from permit.application.v1 import events_pb2 as application_events
from permit.approval.v1 import approval_pb2
from permit.approval.v1 import approval_service_pb2 as approval_svc
from permit.approval.v1 import events_pb2 as approval_events
from permit.events.v1 import event_sink_pb2, event_sink_pb2_grpc
from permit.identity.v1 import events_pb2 as identity_events
from permit.type.v1 import types_pb2
from permitkit.client import call_metadata, service_principal

ROOT = Path(__file__).resolve().parents[2]

# Read by notifications alone: no other context needs them.
NOTIFICATIONS_ONLY = {"permit.approval.v1.ReviewDueDateSet", "permit.identity.v1.LicenceDecided"}


def declared_events() -> dict[str, Any]:
    """Every message of every ``events.proto``, by full name."""
    out: dict[str, Any] = {}
    for mod in pkgutil.walk_packages(permit.__path__, "permit."):
        if mod.name.endswith(".events_pb2"):
            for msg in importlib.import_module(mod.name).DESCRIPTOR.message_types_by_name.values():
                if "event_id" in msg.fields_by_name:
                    out[msg.full_name] = msg
    return out


def consumers() -> dict[str, frozenset[str]]:
    """Each consuming service's sink: the event messages it has a handler for."""
    from permit_application import event_handlers as application
    from permit_approval import event_handlers as approval
    from permit_documents import event_handlers as documents
    from permit_notifications import handlers as notifications
    from permit_routing import event_handlers as routing

    return {name: frozenset(m.DESCRIPTOR.full_name for m in mod.CONSUMED)
            for name, mod in (("application", application), ("approval", approval),
                              ("documents", documents), ("routing", routing),
                              ("notifications", notifications))}


def test_every_declared_event_is_consumed_or_published_for_notifications_only() -> None:
    events = declared_events()
    assert len(events) == 18
    by_consumer = consumers()
    handled = set().union(*by_consumer.values())
    assert handled <= set(events), "a handler for an event no context declares"
    assert handled == set(events), f"events nobody consumes: {set(events) - handled}"
    others = set().union(*(v for k, v in by_consumer.items() if k != "notifications"))
    assert set(events) - others == NOTIFICATIONS_ONLY


def test_every_relay_delivers_each_consumer_exactly_what_its_sink_handles() -> None:
    from permit_application.clients import relay_subscriptions
    from permit_approval.bootstrap import subscriptions as approval_subscriptions
    from permit_identity.bootstrap import subscriptions as identity_subscriptions

    ch = grpc.insecure_channel("127.0.0.1:9")
    routes: dict[str, set[str]] = {}
    for sub in [*relay_subscriptions(ch, ch, ch), *approval_subscriptions(print, print, print),
                *identity_subscriptions(print, print)]:
        routes.setdefault(sub.consumer, set()).update(sub.topics)
    assert {k: frozenset(v) for k, v in routes.items()} == consumers()
    ch.close()


@pytest.mark.parametrize("name", sorted(declared_events()))
def test_every_event_carries_its_header(name: str) -> None:
    fields = declared_events()[name].fields_by_name
    assert {"event_id", "occur_time", "applicant", "province"} <= set(fields), name
    assert "application" in fields or "licence" in fields, name
    if "application" in fields:
        assert fields["application"].message_type.full_name == "permit.type.v1.ApplicationRef"


def test_every_event_field_is_commented() -> None:
    """Readers build on these messages without reading our code: no field goes unexplained."""
    for path in sorted((ROOT / "protos" / "permit").glob("*/v1/events.proto")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^\s+(repeated\s+)?[\w.]+\s+\w+\s*=\s*\d+;", line):
                assert lines[i - 1].strip().startswith("//"), f"{path.name}:{i + 1}: {line.strip()}"


# ---- idempotency: the real consumers over gRPC -----------------------------------------------

def envelope(event: Message) -> event_sink_pb2.DeliverRequest:
    packed = any_pb2.Any()
    packed.Pack(event)
    return event_sink_pb2.DeliverRequest(envelope=event_sink_pb2.Envelope(
        event_id=event.event_id, topic=event.DESCRIPTOR.full_name, event=packed))


def snapshot(engine: Engine, metadata: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the inbox: what an event's effect is."""
    with engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
                for t in metadata.sorted_tables if t.name != "inbox_event"}


def deliver_twice(sink: event_sink_pb2_grpc.EventSinkServiceStub, event: Message,
                  state: Callable[[], Any], producer: str) -> bool:
    """Deliver ``event`` twice; the second delivery must change nothing and say so."""
    md = call_metadata(service_principal(producer))
    first = sink.Deliver(envelope(event), metadata=md, timeout=30).applied
    after_first = state()
    again = sink.Deliver(envelope(event), metadata=md, timeout=30).applied
    assert again is False, event.DESCRIPTOR.full_name
    assert state() == after_first, f"{event.DESCRIPTOR.full_name} had a second effect"
    return bool(first)


def d(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def test_the_application_service_applies_each_approval_event_once(make_harness: Any,
                                                                  make_database: Any) -> None:
    from permit_application.models import Base
    from tests.application.integration.conftest import Harness

    h: Harness = make_harness(make_database("contract_application"))
    sink = event_sink_pb2_grpc.EventSinkServiceStub(h.channel)
    state = lambda: snapshot(h.app.engine, Base.metadata)  # noqa: E731

    def ref(app: apb.Application) -> dict[str, Any]:
        return {"application": types_pb2.ApplicationRef(name=app.name, number=app.number),
                "applicant": app.applicant, "case": "cases/c1", "submission": 1}

    def each(app: apb.Application, *events: Message) -> list[bool]:
        return [deliver_twice(sink, e, state, "approval") for e in events]

    route = [types_pb2.RouteRow(province=p, roads=[r]) for p, r in
             (("130000", "G4"), ("370000", "G2"), ("320000", "G2"))]
    issued = h.submit(h.fill(h.create()))
    r = ref(issued)
    applied = each(
        issued,
        approval_events.CaseAccepted(event_id="a1", province="130000", officer="officers/o", **r),
        approval_events.RouteAdjustmentProposed(event_id="a2", province="370000", suggested_route=route[1:2],
                                                reason="施工", **r),
        approval_events.RouteAdjustmentAnswered(event_id="a3", province="370000", accepted=True, route=route, **r),
        approval_events.VehicleChangeDecided(event_id="a4", province="130000", approved=False, **r),
        *(approval_events.ReviewDecided(event_id=f"a5{p}", province=p, outcome=approval_events.REVIEW_OUTCOME_APPROVED,
                                        **r) for p in ("130000", "370000", "320000")),
        approval_events.PermitIssued(event_id="a6", province="130000", permit="permits/p1", permit_number="P1",
                                     validity=types_pb2.DateRange(start_date=d(dt.date(2026, 12, 10)),
                                                                  end_date=d(dt.date(2026, 12, 20))), **r),
        approval_events.ExtensionDecided(event_id="a7", province="370000", approved=True, permit="permits/p1",
                                         validity=types_pb2.DateRange(end_date=d(dt.date(2026, 12, 27))), **r),
        approval_events.PermitAbolished(event_id="a8", province="130000", permit="permits/p1", **r),
    )
    assert applied == [True, True, True, False, True, True, True, True, True, True]
    returned = h.submit(h.fill(h.create()))
    assert each(returned, approval_events.CaseReturned(event_id="b1", province="130000", reason="补正",
                                                       **ref(returned))) == [True]
    # A refused vehicle change names its AP-6 hold: the first delivery gives it back, a
    # repeat finds nothing to give (PQ-10).
    from permit.application.v1 import application_internal_pb2 as ipb
    from permit.application.v1 import application_internal_pb2_grpc as ipb_grpc

    changing = h.submit(h.fill(h.create(), start=dt.date(2026, 12, 21), end=dt.date(2026, 12, 25)))
    hold = "cases/c9/vehicleChanges/v1"
    ipb_grpc.ApplicationInternalServiceStub(h.channel).ReserveVehicleTime(
        ipb.ReserveVehicleTimeRequest(application=changing.name, key=hold, plate_numbers=["冀A54321"]),
        metadata=call_metadata(service_principal("approval")), timeout=30)
    assert state()["vehicle_hold"]
    assert each(changing, approval_events.VehicleChangeDecided(
        event_id="h1", province="130000", approved=False, reason="车辆不符", vehicle_change=hold,
        **ref(changing))) == [True]
    assert state()["vehicle_hold"] == []
    denied = h.submit(h.fill(h.create(), start=dt.date(2026, 12, 21), end=dt.date(2026, 12, 25)))
    r = ref(denied)
    assert each(denied,
                approval_events.CaseAccepted(event_id="c1", province="130000", **r),
                approval_events.ReviewDecided(event_id="c2", province="370000",
                                              outcome=approval_events.REVIEW_OUTCOME_RETURNED, reason="补", **r),
                approval_events.ApplicationDenied(event_id="c3", province="130000", reason="不予", **r),
                ) == [True, True, False]  # denied after a return: kept in the trail only


def test_the_approval_service_applies_each_application_event_once(running: Any) -> None:
    from permit_approval.models import Base
    from tests.approval.conftest import HEBEI

    state = lambda: snapshot(running.app.engine, Base.metadata)  # noqa: E731

    def submitted(submission: int) -> application_events.SubmittedApplication:
        return application_events.SubmittedApplication(
            submission=submission, permit_class=2, origin_province=HEBEI, destination_province="320000",
            route_provinces=[HEBEI, "370000", "320000"],
            route=[types_pb2.RouteRow(province=p, roads=["G4"]) for p in (HEBEI, "370000", "320000")],
            passage_dates=types_pb2.DateRange(start_date=d(dt.date(2026, 12, 10)), end_date=d(dt.date(2026, 12, 20))),
            vehicles=[apb.Vehicle(plate_number="冀A12345", curb_mass_kg=9000, axle_count=3, wheelbase_mm=3500,
                                  tyre_count=10)], documents=["documents/d1"])

    a = types_pb2.ApplicationRef(name="applications/K1", number="DJK1")
    assert deliver_twice(running.sink, application_events.ApplicationSubmitted(
        event_id="s1", application=a, applicant="parties/p1", province=HEBEI, submitted=submitted(1)),
        state, "application")
    case = running.stub.GetCase(approval_svc.GetCaseRequest(name=a.name), metadata=running.service())
    running.stub.ReturnCase(approval_svc.ReturnCaseRequest(name=case.name, reason="补正"),
                            metadata=running.officer(HEBEI))
    assert deliver_twice(running.sink, application_events.ApplicationCorrected(
        event_id="s2", application=a, applicant="parties/p1", province=HEBEI, submitted=submitted(2)),
        state, "application")
    assert deliver_twice(running.sink, application_events.ApplicationWithdrawn(
        event_id="s3", application=a, applicant="parties/p1", reason="不运了"), state, "application")
    case = running.stub.GetCase(approval_svc.GetCaseRequest(name=a.name), metadata=running.service())
    assert (case.submission, case.state) == (2, approval_pb2.CASE_STATE_CANCELLED)


def test_the_routing_service_counts_an_approved_route_once(routing_app: Any, routing_channel: grpc.Channel) -> None:
    from permit_routing.models import metadata

    sink = event_sink_pb2_grpc.EventSinkServiceStub(routing_channel)
    event = application_events.RouteApproved(
        event_id="r1", application=types_pb2.ApplicationRef(name="applications/R1", number="DJR1"),
        applicant="parties/contract", province="130000", origin_province="130000", destination_province="420000",
        route=[types_pb2.RouteRow(province=p, roads=["G4"]) for p in ("130000", "410000", "420000")])
    assert deliver_twice(sink, event, lambda: snapshot(routing_app.engine, metadata), "application")


def test_the_documents_service_grants_once_per_event(folder_client: Any) -> None:
    from permit_documents.models import Base
    from tests.documents import corpus
    from tests.documents.integration.conftest import new_party

    owner = new_party()
    docs = [folder_client.upload(owner, corpus.jpeg()).name for _ in range(3)]
    licence = folder_client.upload(owner, corpus.pdf(), kind="BUSINESS_LICENCE", filename="l.pdf").name
    sink = folder_client.sink
    state = lambda: snapshot(folder_client.app.engine, Base.metadata)  # noqa: E731
    a = types_pb2.ApplicationRef(name="applications/D1", number="DJD1")
    common = {"application": a, "applicant": owner.party, "province": "130000", "case": "cases/c"}
    provinces = ["130000", "370000"]
    assert [deliver_twice(sink, e, state, p) for e, p in (
        (approval_events.CaseOpened(event_id="g1", route_provinces=provinces, documents=docs[:1], **common),
         "approval"),
        (approval_events.RouteAdjustmentAnswered(event_id="g2", accepted=True, route_provinces=provinces,
                                                 documents=docs[1:2], **common), "approval"),
        (approval_events.VehicleChangeDecided(event_id="g3", approved=True, route_provinces=provinces,
                                              documents=docs[2:3], **common), "approval"),
        (identity_events.LicenceSubmitted(event_id="g4", licence="licences/L1", applicant=owner.party,
                                          province="130000", document=licence), "identity"),
    )] == [True, True, True, True]



def test_the_notifications_service_makes_one_message_per_event(make_database: Any) -> None:
    """MS-1, MS-2: every event notifications reads, delivered twice over gRPC, has one effect."""
    from permit_notifications.__main__ import MIGRATIONS
    from permit_notifications.bootstrap import build
    from permit_notifications.config import Settings
    from permit_notifications.handlers import CONSUMED
    from permit_notifications.models import metadata
    from permitkit.migrations import upgrade
    from permitkit.server import build_server

    url = make_database("contract_notifications")
    upgrade(url, MIGRATIONS)
    app = build(Settings.from_env({"PERMIT_NOTIFICATIONS_DATABASE_URL": url, "PERMIT_LOG_JSON": "0"}))
    server, port = build_server(app, host="127.0.0.1", port=0)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        sink = event_sink_pb2_grpc.EventSinkServiceStub(channel)
        state = lambda: snapshot(app.engine, metadata)  # noqa: E731
        a = types_pb2.ApplicationRef(name="applications/N1", number="DJN1")
        due = approval_events.ProvinceDue(province="370000", due_date=d(dt.date(2030, 3, 8)),
                                          remind_date=d(dt.date(2030, 3, 7)))
        common = {"application": a, "applicant": "parties/n1", "province": "370000", "case": "cases/n1"}
        events: list[Message] = []
        for i, cls in enumerate(CONSUMED):
            fields = cls.DESCRIPTOR.fields_by_name
            kw = {k: v for k, v in common.items() if k in fields}
            if "licence" in fields:
                kw["licence"] = "licences/n1"
            e = cls(event_id=f"n{i}", **kw)
            for f in ("due", "acceptance_due", "review_due"):
                if f in fields:
                    getattr(e, f).CopyFrom(due)
            events.append(e)
        applied = [deliver_twice(sink, e, state, "approval") for e in events]
        assert all(applied[i] for i in range(len(events)))
        assert {e.DESCRIPTOR.full_name for e in events} == set(consumers()["notifications"])
    finally:
        channel.close()
        server.stop(0)
        app.close()
