"""RoutingService on PostgreSQL over a real gRPC server: AP-7, AP-7a, AP-7b, AP-7c."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import grpc
import pytest
from google.protobuf import timestamp_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text

from permit.application.v1 import events_pb2 as application_events
from permit.routing.v1 import routing_pb2 as r
from permit.routing.v1 import routing_service_pb2 as pb
from permit.routing.v1 import routing_service_pb2_grpc as pb_grpc
from permit.type.v1 import types_pb2
from permit_routing.models import ApprovedRoute
from permitkit.client import call_metadata, service_principal
from permitkit.context import Principal
from permitkit.errors import ErrorDetails
from tests.routing.integration.conftest import route_approved_request

pytestmark = pytest.mark.integration

HE, HA, HB, GD, HI = "130000", "410000", "420000", "440000", "460000"
SERVICE_MD = call_metadata(service_principal("application"))


def party() -> str:
    return f"parties/{uuid.uuid4().hex[:12]}"


def applicant_md(party_name: str) -> list[tuple[str, str]]:
    return call_metadata(Principal(subject="users/u1", party=party_name, roles=frozenset({"applicant"})))


def rows(*spec: tuple[str, list[str]]) -> list[types_pb2.RouteRow]:
    return [types_pb2.RouteRow(province=p, roads=roads) for p, roads in spec]


def ts(days: int) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(dt.datetime(2026, 10, 1, tzinfo=dt.UTC) + dt.timedelta(days=days))
    return t


def approved(applicant: str, route: list[types_pb2.RouteRow], *, days: int = 0, event_id: str | None = None,
             origin: str = HE, destination: str = HB,
             application: str = "applications/A1") -> application_events.RouteApproved:
    return application_events.RouteApproved(
        event_id=event_id or str(uuid.uuid4()), applicant=applicant,
        application=types_pb2.ApplicationRef(name=application, number="DJ1"), province=origin,
        origin_province=origin, destination_province=destination, route=route, occur_time=ts(days))


def record(stub: pb_grpc.RoutingServiceStub, applicant: str, route: list[types_pb2.RouteRow], *, days: int = 0,
           event_id: str | None = None, origin: str = HE, destination: str = HB,
           application: str = "applications/A1", metadata: list[tuple[str, str]] | None = None) -> bool:
    """Deliver a RouteApproved event to routing's EventSinkService, as the application's relay does."""
    event = approved(applicant, route, days=days, event_id=event_id, origin=origin, destination=destination,
                     application=application)
    return bool(stub.sink.Deliver(route_approved_request(event), metadata=metadata or SERVICE_MD,  # type: ignore[attr-defined]
                                  timeout=10).applied)


ROUTE_A = rows((HE, ["G4"]), (HA, ["G4"]), (HB, ["G4"]))
ROUTE_B = rows((HE, ["G45"]), (HA, ["G45"]), (HB, ["G70"]))
ROUTE_C = rows((HE, ["G4", "S201"]), (HA, ["G4"]), (HB, ["G4"]))


def test_list_provinces_with_neighbours_and_ferry_AP_7(stub: pb_grpc.RoutingServiceStub) -> None:
    resp = stub.ListProvinces(pb.ListProvincesRequest(), timeout=10)
    assert len(resp.provinces) == 31 and resp.data_version
    by_code = {p.code: p for p in resp.provinces}
    assert by_code[HE].name == "河北省" and by_code[HE].short_name == "冀"
    assert HA in by_code[HE].land_neighbours
    assert list(by_code[HI].ferry_neighbours) == [GD] and not by_code[HI].land_neighbours


def test_list_expressways_filtered(stub: pb_grpc.RoutingServiceStub) -> None:
    resp = stub.ListExpressways(pb.ListExpresswaysRequest(query="京港澳"), timeout=10)
    assert [(e.code, e.display_name, e.kind) for e in resp.expressways] == [
        ("G4", "G4京港澳高速", r.Expressway.KIND_RADIAL)]


def test_parse_route_text_returns_rows_and_positioned_problems_AP_7b(
        stub: pb_grpc.RoutingServiceStub) -> None:
    resp = stub.ParseRouteText(pb.ParseRouteTextRequest(text="冀:G4—京港澳高速；\r\n湖广：G4\r\n豫：G4-；"),
                               timeout=10)
    assert [(x.province, list(x.roads)) for x in resp.rows] == [
        (HE, ["G4京港澳高速", "G4京港澳高速"]), (HA, ["G4京港澳高速"])]
    assert [(p.line, p.column, p.reason) for p in resp.problems] == [
        (2, 1, "UNKNOWN_PROVINCE"), (3, 5, "EMPTY_ROAD")]
    assert "湖广" in resp.problems[0].message


def test_parse_route_text_too_long_is_invalid_argument_AP_7b(stub: pb_grpc.RoutingServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as e:
        stub.ParseRouteText(pb.ParseRouteTextRequest(text="河北：G4；" * 5000), timeout=10)
    details = ErrorDetails.from_rpc_error(e.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.reason == "ROUTE_TEXT_TOO_LONG" and details.domain == "permit.routing"
    assert [v.field for v in details.violations] == ["text"]


def test_validate_route_errors_warnings_and_approving_provinces_AP_7a(
        stub: pb_grpc.RoutingServiceStub) -> None:
    resp = stub.ValidateRoute(pb.ValidateRouteRequest(
        origin_province=HE, destination_province=HB,
        rows=rows((HE, ["G4"]), (HA, ["G4"]), (HB, ["G4"]), (HA, ["G55"]))), timeout=10)
    assert resp.valid
    assert list(resp.approving_provinces) == [HE, HA, HB]
    assert [w.reason for w in resp.warnings] == ["LAST_ROW_NOT_DESTINATION"]
    assert list(resp.rows[0].roads) == ["G4京港澳高速"]

    bad = stub.ValidateRoute(pb.ValidateRouteRequest(
        origin_province=HE, destination_province=HB, rows=rows((HA, ["G4"]), (HB, []))), timeout=10)
    assert not bad.valid
    assert [(p.reason, p.field) for p in bad.errors] == [
        ("ROW_WITHOUT_ROADS", "rows[1].roads"), ("FIRST_ROW_NOT_ORIGIN", "rows[0].province")]


def test_validate_route_adjacency_warning_and_ferry_AP_7a(stub: pb_grpc.RoutingServiceStub) -> None:
    resp = stub.ValidateRoute(pb.ValidateRouteRequest(
        origin_province=HE, destination_province=HB, rows=rows((HE, ["G4"]), (HB, ["G4"]))), timeout=10)
    (w,) = resp.warnings
    assert w.reason == "PROVINCES_NOT_ADJACENT" and list(w.provinces) == [HE, HB]
    ferry = stub.ValidateRoute(pb.ValidateRouteRequest(
        origin_province=GD, destination_province=HI, rows=rows((GD, ["G15"]), (HI, ["G15"]))), timeout=10)
    assert ferry.valid and not ferry.warnings


def test_recorded_routes_are_recommended_merged_and_ranked_AP_7c(stub: pb_grpc.RoutingServiceStub) -> None:
    me = party()
    record(stub, me, ROUTE_B, days=30, application="applications/B1")
    record(stub, me, ROUTE_A, days=1, application="applications/A1")
    # the same route spelt differently: merged with ROUTE_A
    record(stub, me, rows((HE, ["京港澳高速"]), (HA, ["G4京港澳高速"]), (HB, ["g4"])), days=2,
           application="applications/A2")
    record(stub, me, ROUTE_C, days=20, application="applications/C1")
    resp = stub.RecommendRoutes(pb.RecommendRoutesRequest(origin_province=HE, destination_province=HB),
                                metadata=applicant_md(me), timeout=10)
    got = [(x.times_approved, [list(row.roads) for row in x.rows], x.last_application) for x in resp.routes]
    assert got == [
        (2, [["G4京港澳高速"]] * 3, "applications/A2"),
        (1, [["G45大广高速"], ["G45大广高速"], ["G70福银高速"]], "applications/B1"),  # more recent than C
        (1, [["G4京港澳高速", "S201"], ["G4京港澳高速"], ["G4京港澳高速"]], "applications/C1"),
    ]
    assert resp.routes[0].last_approve_time == ts(2)
    assert [row.province for row in resp.routes[0].rows] == [HE, HA, HB]


def test_recent_approvals_outrank_old_frequent_ones_on_postgres_AP_7c(stub: pb_grpc.RoutingServiceStub) -> None:
    me = party()
    for d in (-800, -790, -780):  # three approvals more than two years before
        record(stub, me, ROUTE_B, days=d)
    for d in (0, 3):  # two recent approvals
        record(stub, me, ROUTE_A, days=d)
    resp = stub.RecommendRoutes(pb.RecommendRoutesRequest(origin_province=HE, destination_province=HB),
                                metadata=applicant_md(me), timeout=10)
    assert [x.times_approved for x in resp.routes] == [2, 3]


def test_another_applicants_routes_never_appear_AP_7c(stub: pb_grpc.RoutingServiceStub) -> None:
    me, other = party(), party()
    record(stub, other, ROUTE_A)
    record(stub, other, ROUTE_B)
    record(stub, me, ROUTE_C)
    resp = stub.RecommendRoutes(pb.RecommendRoutesRequest(origin_province=HE, destination_province=HB),
                                metadata=applicant_md(me), timeout=10)
    assert [[list(row.roads) for row in x.rows][0] for x in resp.routes] == [["G4京港澳高速", "S201"]]
    none = stub.RecommendRoutes(pb.RecommendRoutesRequest(origin_province=HE, destination_province=HB),
                                metadata=applicant_md(party()), timeout=10)
    assert list(none.routes) == []


def test_recommend_only_for_the_same_origin_and_destination_AP_7c(stub: pb_grpc.RoutingServiceStub) -> None:
    me = party()
    record(stub, me, ROUTE_A)
    resp = stub.RecommendRoutes(pb.RecommendRoutesRequest(origin_province=HE, destination_province=HA),
                                metadata=applicant_md(me), timeout=10)
    assert list(resp.routes) == []


def test_recommend_without_a_party_is_permission_denied_AP_7c(stub: pb_grpc.RoutingServiceStub) -> None:
    officer = Principal(subject="officers/o1", roles=frozenset({"officer.review"}), province=HE)
    with pytest.raises(grpc.RpcError) as e:
        stub.RecommendRoutes(pb.RecommendRoutesRequest(origin_province=HE, destination_province=HB),
                             metadata=call_metadata(officer), timeout=10)
    assert ErrorDetails.from_rpc_error(e.value).reason == "PARTY_REQUIRED"
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_record_is_idempotent_on_event_id(stub: pb_grpc.RoutingServiceStub, routing_db: str) -> None:
    me = party()
    eid = str(uuid.uuid4())
    for _ in range(3):
        record(stub, me, ROUTE_A, event_id=eid)
    resp = stub.RecommendRoutes(pb.RecommendRoutesRequest(origin_province=HE, destination_province=HB),
                                metadata=applicant_md(me), timeout=10)
    assert [x.times_approved for x in resp.routes] == [1]
    engine = create_engine(routing_db)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from inbox_event where event_id = :e"), {"e": eid}).scalar() == 1
    engine.dispose()


def test_record_requires_the_service_role(stub: pb_grpc.RoutingServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as e:
        record(stub, "parties/x", ROUTE_A, metadata=applicant_md("parties/x"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert ErrorDetails.from_rpc_error(e.value).reason == "NOT_SERVICE"


def test_record_rejects_a_bad_event_with_the_field(stub: pb_grpc.RoutingServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as e:
        record(stub, "parties/x", rows((HE, ["G4"]), ("990000", ["G4"])))
    details = ErrorDetails.from_rpc_error(e.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (details.reason, details.metadata.get("field")) == ("UNKNOWN_PROVINCE", "rows[1].province")


def test_concurrent_first_approvals_of_one_route_count_both_AP_7c(
        stub: pb_grpc.RoutingServiceStub, routing_db: str) -> None:
    me = party()
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def deliver() -> None:
        event_id = str(uuid.uuid4())
        barrier.wait()
        try:
            record(stub, me, ROUTE_A, event_id=event_id)
        except grpc.RpcError as e:
            # ABORTED is the relay's cue to retry: deliver the same event again as it would.
            if e.code() != grpc.StatusCode.ABORTED:
                failures.append(e)
            else:
                record(stub, me, ROUTE_A, event_id=event_id)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    engine = create_engine(routing_db)
    with engine.connect() as conn:
        counts = conn.execute(select(func.count(), func.sum(ApprovedRoute.times_approved))
                              .where(ApprovedRoute.applicant == me)).one()
    engine.dispose()
    assert tuple(counts) == (1, 8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200) | st.text(alphabet="河北省冀豫鄂：:；;-—、，\n\r G4京港澳高速S201", max_size=80))
def test_any_text_over_grpc_answers_ok_never_internal_AP_7b(stub: pb_grpc.RoutingServiceStub, text: str) -> None:
    """AP-7b: whatever is pasted, the RPC answers with rows and problems, never an error status;
    the one exception is U+0000, which no person types: every service refuses it as INVALID_CHARACTER."""
    if "\x00" in text:
        with pytest.raises(grpc.RpcError) as ei:
            stub.ParseRouteText(pb.ParseRouteTextRequest(text=text), timeout=10)
        assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        return
    resp = stub.ParseRouteText(pb.ParseRouteTextRequest(text=text), timeout=10)
    assert resp.rows or resp.problems
    assert all(p.line >= 1 and p.column >= 1 and p.reason for p in resp.problems)
