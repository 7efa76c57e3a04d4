"""Fixtures of the approval tests: a migrated PostgreSQL database, the real approval gRPC
server on a loopback port, and fake ApplicationService / RoutingService / DocumentService
gRPC servers whose event sink records the approval events and document grants the relay delivers
and answer the document look-ups approval makes as the caller."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.type import date_pb2

from permit.application.v1 import (
    application_internal_pb2,
    application_internal_pb2_grpc,
    application_pb2,
    application_service_pb2,
    application_service_pb2_grpc,
)
from permit.application.v1 import events_pb2 as application_events
from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permit.approval.v1 import approval_service_pb2_grpc as svc_grpc
from permit.approval.v1 import events_pb2 as ev
from permit.documents.v1 import documents_pb2, documents_service_pb2_grpc
from permit.events.v1 import event_sink_pb2, event_sink_pb2_grpc
from permit.routing.v1 import routing_pb2, routing_service_pb2, routing_service_pb2_grpc
from permit.type.v1 import types_pb2
from permit_approval import queue_counts
from permit_approval.__main__ import MIGRATIONS
from permit_approval.bootstrap import App, build
from permit_approval.config import Settings
from permitkit.client import call_metadata, service_principal
from permitkit.context import Principal
from permitkit.errors import FailedPrecondition
from permitkit.migrations import upgrade
from permitkit.server import build_server, grpc_server

HEBEI, SHANDONG, JIANGSU, SHANGHAI_P = "130000", "370000", "320000", "310000"
ROUTE = [HEBEI, SHANDONG, JIANGSU]
# The uploads of the applicant "parties/p1" that the tests name as escort plans and powers
# of attorney, by kind.
P1_UPLOADS = {"documents/esc2": "ESCORT_PLAN", "documents/poa2": "POWER_OF_ATTORNEY",
              "documents/p": "POWER_OF_ATTORNEY"}


class Clock:
    """A settable clock: deadlines and expiry depend on the date, never on the wall clock."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set_local(self, y: int, m: int, d: int, hour: int = 10) -> None:
        self.now = dt.datetime(y, m, d, hour, tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(dt.UTC)


def kind_of(e: Any) -> str:
    """What an approval event means to the application, in the words of its review kinds
    (ReviewDecided APPROVED -> PROVINCE_APPROVED, ...); "" for one that changes nothing there."""
    name = e.DESCRIPTOR.name
    if name == "ReviewDecided":
        return "PROVINCE_" + ev.ReviewOutcome.Name(e.outcome).removeprefix("REVIEW_OUTCOME_")
    if name == "RouteAdjustmentAnswered":
        return "ROUTE_ADJUSTMENT_ACCEPTED" if e.accepted else ""
    if name == "ExtensionDecided":
        return "PERMIT_EXTENDED" if e.approved else ""
    if name == "VehicleChangeDecided":
        return "VEHICLE_CHANGED" if e.approved else ""
    return {"CaseAccepted": "CASE_ACCEPTED", "CaseReturned": "CASE_RETURNED",
            "RouteAdjustmentProposed": "ROUTE_ADJUSTMENT_PROPOSED", "ApplicationDenied": "CASE_DENIED",
            "PermitIssued": "PERMIT_ISSUED", "PermitAbolished": "PERMIT_ABOLISHED"}[name]


APPLICATION_TOPICS = {m.DESCRIPTOR.full_name for m in (
    ev.CaseAccepted, ev.CaseReturned, ev.ReviewDecided, ev.RouteAdjustmentProposed, ev.RouteAdjustmentAnswered,
    ev.ApplicationDenied, ev.PermitIssued, ev.PermitAbolished, ev.ExtensionDecided, ev.VehicleChangeDecided)}
GRANTING = {m.DESCRIPTOR.full_name: m for m in (ev.CaseOpened, ev.RouteAdjustmentAnswered,
                                                 ev.VehicleChangeDecided)}


class VehicleTimeConflictForTest(FailedPrecondition):
    reason = "VEHICLE_TIME_CONFLICT"
    message = "车辆冀A99999在所选通行期内已有 2 件申请。时间发生冲突。"


class FakeApplicationService(application_service_pb2_grpc.ApplicationServiceServicer,
                             application_internal_pb2_grpc.ApplicationInternalServiceServicer):
    """Serves fleet vehicles for GetVehicle and SuggestVehicles; ``events`` holds the approval
    events the application service applies (delivered to the fake event sink, deduplicated by
    event id like a real inbox)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.metadata: list[dict[str, str]] = []
        self.vehicles: dict[str, application_pb2.Vehicle] = {}
        # AP-6: what vehicle changes and extensions reserved and released at once
        # (ApplicationInternalService), and the plates whose time is full (a reservation
        # of them is refused). ``decisions`` holds every VehicleChangeDecided and
        # ExtensionDecided, approved or not: they name the hold to give back or replace.
        self.reserved: list[application_internal_pb2.ReserveVehicleTimeRequest] = []
        self.released: list[str] = []
        self.decisions: list[Any] = []
        self.full_plates: set[str] = set()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def receive(self, event: Any, md: dict[str, str]) -> bool:
        with self._lock:
            self.metadata.append(md)
            if event.event_id in self._seen:
                return False
            self._seen.add(event.event_id)
            if event.DESCRIPTOR.name in ("VehicleChangeDecided", "ExtensionDecided"):
                self.decisions.append(event)
            if kind_of(event):
                self.events.append(event)
        return True

    def ReserveVehicleTime(self, request: Any, context: Any) -> Any:
        if set(request.plate_numbers) & self.full_plates:
            raise VehicleTimeConflictForTest()
        with self._lock:
            self.reserved.append(request)
        return application_internal_pb2.ReserveVehicleTimeResponse()

    def ReleaseVehicleTime(self, request: Any, context: Any) -> Any:
        with self._lock:
            self.released.append(request.key)
        return application_internal_pb2.ReleaseVehicleTimeResponse(released=True)

    def GetVehicle(self, request: Any, context: Any) -> Any:
        v = self.vehicles.get(request.name)
        if v is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "vehicle not found")
        return v

    def SuggestVehicles(self, request: Any, context: Any) -> Any:
        return application_service_pb2.SuggestVehiclesResponse(vehicles=[
            v for v in self.vehicles.values() if v.plate_number.startswith(request.plate_prefix)])

    def kinds(self) -> list[str]:
        return [kind_of(e) for e in self.events]


@dataclass
class Grant:
    """What the documents service grants from an approval event: officers of ``provinces``
    may read ``documents`` of ``application``."""

    application: str
    provinces: list[str]
    documents: list[str]
    owner: str


class FakeEventSink:
    """EventSinkService of the fake application and documents services (one server serves
    both): approval events go to the application fake, grants to the documents fake, as the
    real consumers' handlers take them. The service role only, like the real sinks."""

    def __init__(self, application: FakeApplicationService, documents: FakeDocumentService) -> None:
        self.application = application
        self.documents = documents

    def Deliver(self, request: Any, context: Any) -> Any:
        md = {k: v for k, v in context.invocation_metadata()}
        if "service" not in md.get("x-permit-roles", "").split(","):
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "service role required")
        topic = request.envelope.event.type_url.rsplit("/", 1)[-1]
        applied = False
        if topic in GRANTING:
            event = GRANTING[topic]()
            request.envelope.event.Unpack(event)
            accepted = getattr(event, "accepted", True) and getattr(event, "approved", True)
            if accepted and event.documents:
                self.documents.grant(Grant(event.application.name, list(event.route_provinces),
                                           list(event.documents), event.applicant), md, context)
                applied = True
        if topic in APPLICATION_TOPICS:
            cls = getattr(ev, topic.rsplit(".", 1)[-1])
            event = cls()
            request.envelope.event.Unpack(event)
            applied = self.application.receive(event, md) or applied
        return event_sink_pb2.DeliverResponse(applied=applied)


class FakeRoutingService(routing_service_pb2_grpc.RoutingServiceServicer):
    """ValidateRoute with the routing service's error reasons for the cases the tests use."""

    def __init__(self) -> None:
        self.calls: list[routing_service_pb2.ValidateRouteRequest] = []

    def ValidateRoute(self, request: Any, context: Any) -> Any:
        self.calls.append(request)
        problems = []
        for i, row in enumerate(request.rows, start=1):
            if not (len(row.province) == 6 and row.province.endswith("0000")
                    and "11" <= row.province[:2] <= "65"):
                problems.append(routing_pb2.RouteProblem(line=i, reason="UNKNOWN_PROVINCE",
                                                         message="未知的省份。"))
            if not row.roads:
                problems.append(routing_pb2.RouteProblem(line=i, reason="ROW_WITHOUT_ROADS",
                                                         message="该省份未填写道路。"))
        if request.rows and request.rows[0].province != request.origin_province:
            problems.append(routing_pb2.RouteProblem(line=1, reason="FIRST_ROW_NOT_ORIGIN",
                                                     message="第一行必须是起运地省份。"))
        provinces: list[str] = []
        for r in request.rows:
            if r.province not in provinces:
                provinces.append(r.province)
        return routing_service_pb2.ValidateRouteResponse(
            approving_provinces=provinces, errors=problems, valid=not problems)


class FakeDocumentService(documents_service_pb2_grpc.DocumentServiceServicer):
    """Grants like the real one's event handlers (a set of (application, province,
    document) triples; a repeat adds nothing).

    GetDocument like the real one too: a document is read by its owner, a service, or an
    officer of a province granted it; to anyone else it is NOT_FOUND, like a missing one.
    ``unavailable`` makes GetDocument answer UNAVAILABLE (a documents outage)."""

    def __init__(self) -> None:
        self.requests: list[Grant] = []
        self.metadata: list[dict[str, str]] = []
        self.deadlines: list[float | None] = []  # seconds left when called; None = no deadline
        self.grants: set[tuple[str, str, str]] = set()
        self.uploads: dict[str, documents_pb2.Document] = {}
        self.lookups: list[tuple[str, dict[str, str]]] = []  # (name, caller metadata)
        self.unavailable = False
        self._lock = threading.Lock()
        for name, kind in P1_UPLOADS.items():
            self.upload(name, kind)

    def upload(self, name: str, kind: str, owner: str = "parties/p1") -> str:
        """Store a document of ``owner`` (kind without its DOCUMENT_KIND_ prefix)."""
        self.uploads[name] = documents_pb2.Document(
            name=name, owner=owner, kind=documents_pb2.DocumentKind.Value(f"DOCUMENT_KIND_{kind}"))
        return name

    def GetDocument(self, request: Any, context: Any) -> Any:
        md = {k: v for k, v in context.invocation_metadata()}
        with self._lock:
            self.lookups.append((request.name, md))
        if self.unavailable:
            context.abort(grpc.StatusCode.UNAVAILABLE, "documents store down")
        doc = self.uploads.get(request.name)
        if doc is None or not self._readable(doc, md):
            context.abort(grpc.StatusCode.NOT_FOUND, "document not found")
        return doc

    def _readable(self, doc: documents_pb2.Document, md: dict[str, str]) -> bool:
        roles = md.get("x-permit-roles", "").split(",")
        if "service" in roles:
            return True
        if md.get("x-permit-party") == doc.owner:
            return True
        province = md.get("x-permit-province")
        return bool(province) and any(p == province and d == doc.name for _, p, d in self.grants)

    def grant(self, request: Grant, md: dict[str, str], context: Any) -> None:
        """A grant like the real one: idempotent (a set of triples)."""
        with self._lock:
            self.metadata.append(md)
            self.deadlines.append(context.time_remaining())
            self.requests.append(request)
            self.grants |= {(request.application, p, d)
                            for p in request.provinces for d in request.documents}

    def readable(self, application: str, province: str) -> set[str]:
        """The documents officers of ``province`` may read for ``application``."""
        return {d for a, p, d in self.grants if a == application and p == province}


@dataclass
class FakeApplicationServer:
    """Fake application, routing and documents services served by one real gRPC server;
    can be stopped and restarted on the same port (outage tests)."""

    servicer: FakeApplicationService = field(default_factory=FakeApplicationService)
    routing: FakeRoutingService = field(default_factory=FakeRoutingService)
    documents: FakeDocumentService = field(default_factory=FakeDocumentService)
    port: int = 0
    server: grpc.Server | None = None

    @property
    def sink(self) -> FakeEventSink:
        return FakeEventSink(self.servicer, self.documents)

    def start(self) -> None:
        server, self.port = grpc_server(
            domain="permit.application",
            services=[(application_service_pb2_grpc.add_ApplicationServiceServicer_to_server,
                       self.servicer, "permit.application.v1.ApplicationService"),
                      (application_internal_pb2_grpc.add_ApplicationInternalServiceServicer_to_server,
                       self.servicer, "permit.application.v1.ApplicationInternalService"),
                      (routing_service_pb2_grpc.add_RoutingServiceServicer_to_server,
                       self.routing, "permit.routing.v1.RoutingService"),
                      (documents_service_pb2_grpc.add_DocumentServiceServicer_to_server,
                       self.documents, "permit.documents.v1.DocumentService"),
                      (event_sink_pb2_grpc.add_EventSinkServiceServicer_to_server, self.sink,
                       "permit.events.v1.EventSinkService")],
            port=self.port)
        server.start()
        self.server = server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(0).wait()
            self.server = None

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def fake_application() -> Iterator[FakeApplicationServer]:
    fake = FakeApplicationServer()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def approval_db(make_database: Callable[[str], str]) -> str:
    """A fresh PostgreSQL database migrated to head with the service's own migrations."""
    url = make_database("approval")
    upgrade(url, MIGRATIONS)
    return url


@pytest.fixture
def clock() -> Clock:
    c = Clock(dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC))  # Tue 2026-12-01 10:00 in Shanghai
    return c


@dataclass
class Running:
    """The approval service under test and helpers to call it as different principals."""

    app: App
    stub: svc_grpc.ApprovalServiceStub
    sink: event_sink_pb2_grpc.EventSinkServiceStub
    fake: FakeApplicationServer
    clock: Clock
    port: int
    applied: bool | None = None  # what the last ``submit`` delivery answered

    def deliver(self) -> int:
        """Run the outbox relay once (deterministic delivery); counts what reached the peers
        under test (notifications' copies are delivered too, to a sink that takes them)."""
        others = sum(self.app.relay.run_once(c) for c in self.app.relay.subscriptions if c != "notifications")
        if "notifications" in self.app.relay.subscriptions:
            self.app.relay.run_once("notifications")
        return others

    # principals
    @staticmethod
    def officer(province: str, *roles: str, ident: str = "1") -> list[tuple[str, str]]:
        roles = roles or ("officer.accept", "officer.review")
        return call_metadata(Principal(subject=f"officers/{province}-{ident}", roles=frozenset(roles),
                                       province=province))

    @staticmethod
    def applicant(party: str = "parties/p1") -> list[tuple[str, str]]:
        return call_metadata(Principal(subject="users/u1", party=party,
                                       roles=frozenset({"applicant"}), onboarding="ACTIVE"))

    @staticmethod
    def service() -> list[tuple[str, str]]:
        return call_metadata(service_principal("application"))

    @staticmethod
    def admin() -> list[tuple[str, str]]:
        return call_metadata(Principal(subject="officers/admin", roles=frozenset({"admin"})))

    # flows
    def submit(self, *, application: str = "applications/A1", route: list[str] | None = None,
               permit_class: int = 2, submission: int = 1, event_id: str | None = None,
               rows: list[tuple[str, list[str]]] | None = None, multi_trip: bool = False,
               start: dt.date = dt.date(2026, 12, 10), end: dt.date = dt.date(2026, 12, 20),
               party: str = "parties/p1", with_vehicles: bool = True,
               figures: application_events.SubmittedApplication | None = None) -> pb.Case:
        route = route or ROUTE
        rows = rows if rows is not None else [(p, [f"G{i + 1}"]) for i, p in enumerate(route)]
        vehicles = [application_pb2.Vehicle(plate_number="冀A12345", fleet_vehicle="vehicles/v1", curb_mass_kg=9000,
                                             axle_count=3, wheelbase_mm=3500, tyre_count=10,
                                             vehicle_type="重型半挂牵引车"),
                    application_pb2.Vehicle(plate_number="冀B6789挂", fleet_vehicle="vehicles/v2",
                                            curb_mass_kg=12000, axle_count=3, wheelbase_mm=9000,
                                            tyre_count=12, vehicle_type="重型低平板半挂车")]
        submitted = application_events.SubmittedApplication(
            submission=submission, permit_class=permit_class, origin_province=route[0],
            destination_province=route[-1], route_provinces=route,
            route=[types_pb2.RouteRow(province=p, roads=r) for p, r in rows],
            passage_dates=types_pb2.DateRange(
                start_date=date_pb2.Date(year=start.year, month=start.month, day=start.day),
                end_date=date_pb2.Date(year=end.year, month=end.month, day=end.day)),
            multi_trip=multi_trip, documents=["documents/d1"],
            # What the certificate prints (CT-1).
            cargo=application_pb2.Cargo(name="变压器", weight_kg=30000, length_mm=9000, width_mm=3200,
                                        height_mm=3100),
            overall=application_pb2.Overall(total_mass_kg=51000, length_mm=19900, width_mm=3200,
                                            height_mm=4300),
            vehicles=vehicles if with_vehicles else [application_pb2.Vehicle(plate_number="冀A12345"),
                                                     application_pb2.Vehicle(plate_number="冀B6789挂")])
        if figures is not None:
            submitted.MergeFrom(figures)
        cls = application_events.ApplicationCorrected if submission > 1 else application_events.ApplicationSubmitted
        event = cls(event_id=event_id or f"{application}-{submission}",
                    application=types_pb2.ApplicationRef(name=application,
                                                         number="DJ" + application.rsplit("/", 1)[1]),
                    applicant=party, province=route[0], submitted=submitted)
        self.applied = self.send(event)
        return self.stub.GetCase(svc.GetCaseRequest(name=application), metadata=self.service(), timeout=10)

    def send(self, event: Any, metadata: list[tuple[str, str]] | None = None) -> bool:
        """Deliver an application event to the approval service's EventSinkService, as the
        application service's relay does."""
        packed = any_pb2.Any()
        packed.Pack(event)
        request = event_sink_pb2.DeliverRequest(envelope=event_sink_pb2.Envelope(
            event_id=event.event_id, topic=event.DESCRIPTOR.full_name, producer="application", event=packed))
        return bool(self.sink.Deliver(request, metadata=metadata or self.service(), timeout=10).applied)

    def accept(self, case: pb.Case) -> pb.Case:
        return self.stub.AcceptCase(svc.AcceptCaseRequest(name=case.name),
                                    metadata=self.officer(case.origin_province), timeout=10)

    def decide(self, case: pb.Case, province: str, decision: int = pb.DECISION_APPROVE,
               reason: str = "", **kw: Any) -> pb.Case:
        return self.stub.DecideReview(
            svc.DecideReviewRequest(name=f"{case.name}/reviews/{province}", decision=decision,
                                    reason=reason, **kw),
            metadata=self.officer(province), timeout=10)

    def approve_all(self, case: pb.Case) -> pb.Case:
        for p in case.route_provinces:
            case = self.decide(case, p)
        return case

    def issue(self, case: pb.Case) -> pb.Permit:
        return self.stub.IssuePermit(svc.IssuePermitRequest(case=case.name),
                                     metadata=self.officer(case.origin_province), timeout=10)


@pytest.fixture
def running(approval_db: str, fake_application: FakeApplicationServer,
            clock: Clock) -> Iterator[Running]:
    """The approval service on port 0 over PostgreSQL, peers on the fake application server.

    The relay thread is not started: tests deliver with ``running.deliver()`` so that
    delivery order and outages are deterministic (test_relay starts it).
    """
    settings = Settings.from_env({
        "PERMIT_APPROVAL_DATABASE_URL": approval_db,
        "PERMIT_APPROVAL_GRPC_PORT": "0",
        "APPLICATION_SERVICE_ADDR": fake_application.addr,
        "ROUTING_SERVICE_ADDR": fake_application.addr,
        "DOCUMENTS_SERVICE_ADDR": fake_application.addr,
        "PERMIT_APPROVAL_VERIFICATION_KEY": "test-verification-key-0123456789",
    })
    # Notifications is not under test here: its events are taken as delivered.
    app = build(settings, clock=clock, relay_poll_interval=0.05, notifications_sink=lambda envelope: None)
    server, port = build_server(app, port=0)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Running(app, svc_grpc.ApprovalServiceStub(channel), event_sink_pb2_grpc.EventSinkServiceStub(channel),
                      fake_application, clock, port)
        # Whatever the test did, the kept work-queue counts are those of the cases (RV-2).
        with app.engine.connect() as conn:
            assert queue_counts.kept_counts(conn) == queue_counts.fresh_counts(conn)
    finally:
        channel.close()
        server.stop(0).wait()
        app.close()


def reason_of(e: grpc.RpcError) -> str:
    from permitkit.errors import ErrorDetails

    return ErrorDetails.from_rpc_error(e).reason
