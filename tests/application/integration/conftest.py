"""Integration fixtures: the application service on PostgreSQL (or SQLite) behind a
real gRPC server on port 0, with fake approval and routing peers (their event sinks) on loopback ports."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2, field_mask_pb2, timestamp_pb2
from google.type import date_pb2

from permit.application.v1 import application_internal_pb2_grpc as igrpc
from permit.application.v1 import application_pb2 as pb
from permit.application.v1 import application_service_pb2 as spb
from permit.application.v1 import application_service_pb2_grpc as sgrpc
from permit.application.v1 import events_pb2 as application_events
from permit.approval.v1 import events_pb2 as aev
from permit.documents.v1 import documents_pb2 as dpb
from permit.documents.v1 import documents_service_pb2_grpc as dgrpc
from permit.events.v1 import event_sink_pb2, event_sink_pb2_grpc
from permit.routing.v1 import routing_pb2 as rpb
from permit.routing.v1 import routing_service_pb2 as rspb
from permit.routing.v1 import routing_service_pb2_grpc as rgrpc
from permit.type.v1 import types_pb2
from permit_application.bootstrap import MIGRATIONS, App, build
from permit_application.config import Settings
from permitkit.client import call_metadata
from permitkit.context import Principal
from permitkit.errors import ErrorDetails
from permitkit.migrations import upgrade
from permitkit.server import build_server, grpc_server
from permitkit.testing import free_port
from tests.application.conftest import APPLICANT, DEMO_EXPORT, NOW, SERVICE

assert Path(MIGRATIONS).is_dir()


class FakeSink(event_sink_pb2_grpc.EventSinkServiceServicer):
    """A consumer's EventSinkService that records the application events delivered to it by
    topic (idempotent by event id, like the real ones): approval's or routing's stand-in."""

    TYPES = {m.DESCRIPTOR.full_name: m for m in (
        application_events.ApplicationSubmitted, application_events.ApplicationCorrected,
        application_events.ApplicationWithdrawn, application_events.RouteApproved)}

    def __init__(self) -> None:
        self.received: dict[str, Any] = {}
        self.calls = 0
        self.lock = threading.Lock()

    def Deliver(self, request: Any, context: grpc.ServicerContext) -> Any:
        topic = request.envelope.event.type_url.rsplit("/", 1)[-1]
        event = self.TYPES[topic]()
        request.envelope.event.Unpack(event)
        with self.lock:
            self.calls += 1
            first = event.event_id not in self.received
            self.received.setdefault(event.event_id, event)
        return event_sink_pb2.DeliverResponse(applied=first)

    def of(self, cls: type) -> list[Any]:
        """The events of one type received, in delivery order."""
        return [e for e in self.received.values() if isinstance(e, cls)]


# The walking slice's documents and their kinds, all uploaded by the applicant party.
SLICE_DOCUMENTS = {
    "documents/d1": "TRANSPORT_PLAN", "documents/id-front": "ID_CARD_FRONT", "documents/id-back": "ID_CARD_BACK",
    "documents/poa": "POWER_OF_ATTORNEY", "documents/o0": "OUTLINE_DRAWING", "documents/o1": "OUTLINE_DRAWING",
    "documents/o2": "OUTLINE_DRAWING", "documents/escort-1": "ESCORT_PLAN", "documents/escort-2": "ESCORT_PLAN",
}


class FakeDocuments(dgrpc.DocumentServiceServicer):
    """GetDocument answering the owner only (NOT_FOUND otherwise), like the real service."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[str, str]] = {n: ("parties/L1001", k) for n, k in SLICE_DOCUMENTS.items()}

    def GetDocument(self, request: Any, context: grpc.ServicerContext) -> dpb.Document:
        from permitkit.context import current_principal

        p = current_principal()
        owner, kind = self.docs.get(request.name, ("", ""))
        if not owner or p is None or (p.party != owner and not p.is_service):
            context.abort(grpc.StatusCode.NOT_FOUND, "not found")
        return dpb.Document(name=request.name, owner=owner, kind=dpb.DocumentKind.Value(f"DOCUMENT_KIND_{kind}"))


class FakeRouting(rgrpc.RoutingServiceServicer):
    def __init__(self) -> None:
        self.sink = FakeSink()  # RouteApproved deliveries

    def ValidateRoute(self, request: Any, context: grpc.ServicerContext) -> rspb.ValidateRouteResponse:
        for i, r in enumerate(request.rows):
            if "??" in r.roads:  # a road the real service would not accept
                return rspb.ValidateRouteResponse(valid=False, errors=[rpb.RouteProblem(
                    line=i + 1, reason="EMPTY_ROAD", message="道路名称不能为空。", field=f"rows[{i}].roads")])
        provinces: list[str] = []
        for p in [request.origin_province, *(r.province for r in request.rows)]:
            if p not in provinces:
                provinces.append(p)
        return rspb.ValidateRouteResponse(approving_provinces=provinces, valid=True, rows=request.rows)



@dataclass
class Peer:
    """A fake peer server that can be stopped and started again on the same port."""

    port: int
    servicer: Any
    add: Callable[[Any, grpc.Server], None]
    name: str
    server: grpc.Server | None = None
    sink: FakeSink | None = None

    def start(self) -> None:
        services = [(self.add, self.servicer, self.name)] if self.add else []
        if self.sink is not None:
            services.append((event_sink_pb2_grpc.add_EventSinkServiceServicer_to_server, self.sink,
                             "permit.events.v1.EventSinkService"))
        self.server, _ = grpc_server(domain="permit.fake", services=services, port=self.port)
        self.server.start()

    def stop(self) -> None:
        if self.server:
            self.server.stop(0).wait()
            self.server = None


@dataclass
class Harness:
    """A running application service and helpers acting as the gateway or a peer would."""

    app: App
    url: str
    stub: sgrpc.ApplicationServiceStub
    channel: grpc.Channel
    approval: Peer
    routing: Peer
    documents: Peer
    extra: dict[str, Any] = field(default_factory=dict)

    def md(self, principal: Principal = APPLICANT) -> list[tuple[str, str]]:
        return call_metadata(principal)

    def service_md(self) -> list[tuple[str, str]]:
        return call_metadata(SERVICE)

    def create(self, principal: Principal = APPLICANT, seconds: float = 6) -> pb.Application:
        """我要申请 with a notice the server served ``seconds`` ago (AP-1)."""
        receipt = self.app.servicer.notices.serve(party=principal.party or "",
                                                  now=NOW - dt.timedelta(seconds=seconds)).receipt
        return self.stub.CreateApplication(
            spb.CreateApplicationRequest(notice_receipt=receipt), metadata=self.md(principal))

    def update(self, app: pb.Application, *paths: str, principal: Principal = APPLICANT) -> pb.Application:
        return self.stub.UpdateApplication(
            spb.UpdateApplicationRequest(application=app, update_mask=field_mask_pb2.FieldMask(paths=list(paths))),
            metadata=self.md(principal))

    def fill(self, app: pb.Application, **over: Any) -> pb.Application:
        body = walking_slice(app.name, **over)
        body.etag = app.etag
        return self.update(body, "cargo", "vehicles", "overall", "passage", "agent", "materials")

    def submit(self, app: pb.Application, request_id: str = "") -> pb.Application:
        return self.stub.SubmitApplication(spb.SubmitApplicationRequest(name=app.name, request_id=request_id),
                                           metadata=self.md())

    def event(self, app: pb.Application, kind: str, event_id: str, *,
              principal: Principal = SERVICE, **kw: Any) -> event_sink_pb2.DeliverResponse:
        """Deliver the approval event ``kind`` stands for to this service's EventSinkService,
        as approval's relay does."""
        event = approval_event(app, kind, event_id, **kw)
        packed = any_pb2.Any()
        packed.Pack(event)
        return self.sink.Deliver(event_sink_pb2.DeliverRequest(envelope=event_sink_pb2.Envelope(
            event_id=event_id, topic=event.DESCRIPTOR.full_name, producer="approval", event=packed)),
            metadata=call_metadata(principal))

    @property
    def internal(self) -> igrpc.ApplicationInternalServiceStub:
        """ApplicationInternalService on the same server (peers and operators only)."""
        return igrpc.ApplicationInternalServiceStub(self.channel)

    @property
    def sink(self) -> event_sink_pb2_grpc.EventSinkServiceStub:
        return event_sink_pb2_grpc.EventSinkServiceStub(self.channel)

    def get(self, app: pb.Application) -> pb.Application:
        return self.stub.GetApplication(spb.GetApplicationRequest(name=app.name), metadata=self.md())


def approval_event(app: pb.Application, kind: str, event_id: str, *, province: str = "", submission: int = 0,
                   reason: str = "", route: list[Any] | None = None, documents: list[str] | None = None,
                   permit: str = "", permit_number: str = "", permit_start_date: Any = None,
                   permit_end_date: Any = None) -> Any:
    """The typed approval event a review kind of the application stands for."""
    common = dict(event_id=event_id, application=types_pb2.ApplicationRef(name=app.name, number=app.number),
                  applicant=app.applicant, province=province, submission=submission, case="cases/c1")
    officer = {"officer": "officers/o1"}
    outcomes = {"PROVINCE_APPROVED": aev.REVIEW_OUTCOME_APPROVED, "PROVINCE_DENIED": aev.REVIEW_OUTCOME_DENIED,
                "PROVINCE_RETURNED": aev.REVIEW_OUTCOME_RETURNED}
    if kind == "CASE_ACCEPTED":
        return aev.CaseAccepted(**common, **officer)
    if kind == "CASE_RETURNED":
        return aev.CaseReturned(reason=reason, **common, **officer)
    if kind in outcomes:
        return aev.ReviewDecided(outcome=outcomes[kind], reason=reason, **common, **officer)
    if kind == "ROUTE_ADJUSTMENT_PROPOSED":
        return aev.RouteAdjustmentProposed(reason=reason, suggested_route=route or [], **common, **officer)
    if kind == "ROUTE_ADJUSTMENT_ACCEPTED":
        return aev.RouteAdjustmentAnswered(accepted=True, route=route or [], documents=documents or [], **common)
    if kind == "CASE_DENIED":
        return aev.ApplicationDenied(reason=reason, **common, **officer)
    if kind == "PERMIT_ISSUED":
        return aev.PermitIssued(permit=permit, permit_number=permit_number, validity=types_pb2.DateRange(
            start_date=permit_start_date, end_date=permit_end_date), **common, **officer)
    raise ValueError(kind)


def ts(t: dt.datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(t)
    return out


def date(d: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


def walking_slice(name: str, start: dt.date = dt.date(2026, 12, 10), end: dt.date = dt.date(2026, 12, 20),
                  **over: Any) -> pb.Application:
    """The minimum fields of the walking slice: fleet vehicles, class I, Hebei -> Shandong -> Jiangsu."""
    app = pb.Application(
        name=name,
        cargo=pb.Cargo(name="变压器", weight_tonnes="30", length_metres="10", width_metres="2.8", height_metres="2.5"),
        vehicles=[pb.Vehicle(plate_number="冀A12345"), pb.Vehicle(plate_number="冀B6789挂")],
        overall=pb.Overall(total_mass_kg=48300, length_mm=18500, width_mm=3000, height_mm=4100,
                           axle_spacings_mm=[3300, 1350, 7000, 1310, 1310],
                           axle_loads_kg=[6300, 8000, 8000, 8700, 8700, 8600]),
        passage=pb.Passage(origin_province="130000", destination_province="320000",
                           route=[types_pb2.RouteRow(province="130000", roads=["G4京港澳高速"]),
                                  types_pb2.RouteRow(province="370000", roads=["G3京台高速"]),
                                  types_pb2.RouteRow(province="320000", roads=["G2京沪高速"])],
                           start_date=date(start), end_date=date(end)),
        agent=pb.Agent(name="张三", id_number="130102199001011237", phone="13900139000",
                       id_card_documents=["documents/id-front", "documents/id-back"],
                       power_of_attorney_document="documents/poa"),
        materials=[pb.MaterialRef(kind=pb.MATERIAL_KIND_OTHER, document="documents/d1")],
    )
    for k, v in over.items():
        if isinstance(v, list):
            app.ClearField(k)
            getattr(app, k).extend(v)
        else:
            getattr(app, k).CopyFrom(v)
    return app


def error_of(e: grpc.RpcError) -> ErrorDetails:
    return ErrorDetails.from_rpc_error(e)


@pytest.fixture
def make_harness(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    """``make_harness(url=None)``: migrate, import the demo fleet, serve with fake peers."""
    started: list[tuple[grpc.Server, Harness]] = []

    def make(url: str | None = None, *, approval_up: bool = True) -> Harness:
        url = url or f"sqlite:///{tmp_path / f'application-{len(started)}.db'}"
        upgrade(url, MIGRATIONS)
        approval = Peer(free_port(), None, None, "", sink=FakeSink())  # type: ignore[arg-type]
        fake_routing = FakeRouting()
        routing = Peer(free_port(), fake_routing, rgrpc.add_RoutingServiceServicer_to_server,
                       "permit.routing.v1.RoutingService", sink=fake_routing.sink)
        documents = Peer(free_port(), FakeDocuments(), dgrpc.add_DocumentServiceServicer_to_server,
                         "permit.documents.v1.DocumentService")
        if approval_up:
            approval.start()
        routing.start()
        documents.start()
        settings = Settings.from_env({
            "PERMIT_APPLICATION_DATABASE_URL": url, "PERMIT_LOG_JSON": "0",
            "APPROVAL_SERVICE_ADDR": f"127.0.0.1:{approval.port}",
            "ROUTING_SERVICE_ADDR": f"127.0.0.1:{routing.port}",
            "DOCUMENTS_SERVICE_ADDR": f"127.0.0.1:{documents.port}",
            "PERMIT_APPLICATION_PEER_TIMEOUT": "2"})
        app = build(settings, clock=lambda: NOW)
        from permit_application import services as svc

        svc.import_legacy_records(app.uow_factory(), export=DEMO_EXPORT, check_caller=False, now=NOW)
        server, port = build_server(app, host="127.0.0.1", port=0)
        server.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        h = Harness(app=app, url=url, stub=sgrpc.ApplicationServiceStub(channel), channel=channel,
                    approval=approval, routing=routing, documents=documents)
        started.append((server, h))
        return h

    yield make
    for server, h in started:
        h.channel.close()
        server.stop(0)
        h.app.close()
        h.approval.stop()
        h.routing.stop()
        h.documents.stop()


@pytest.fixture
def pg(make_harness: Callable[..., Harness], make_database: Callable[[str], str]) -> Harness:
    """The service on PostgreSQL (production and CI)."""
    return make_harness(make_database("application"))


@pytest.fixture(params=["postgresql", "sqlite"])
def harness(request: pytest.FixtureRequest, make_harness: Callable[..., Harness]) -> Harness:
    """The service on PostgreSQL and on the embedded SQLite default."""
    if request.param == "postgresql":
        return make_harness(request.getfixturevalue("make_database")("application"))
    return make_harness()
