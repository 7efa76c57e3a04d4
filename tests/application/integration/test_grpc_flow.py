"""The application service over gRPC on PostgreSQL (and SQLite): the walking slice,
submit -> outbox -> ApprovalService.CreateCase, review events, errors on the wire."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import create_engine, text
from sqlalchemy import event as sa_event

from permit.application.v1 import application_pb2 as pb
from permit.application.v1 import application_service_pb2 as spb
from permit.application.v1.events_pb2 import ApplicationSubmitted, ApplicationWithdrawn, RouteApproved
from permit.type.v1 import types_pb2
from permit_application import convert
from tests.application.conftest import APPLICANT, NOW, OTHER, hand_fleet
from tests.application.integration.conftest import Harness, date, error_of, walking_slice

pytestmark = pytest.mark.integration


def test_the_walking_slice_from_draft_to_issued_AP_10_PQ_1_PQ_2(harness: Harness) -> None:
    draft = harness.create()
    assert (draft.state, draft.state_label) == (pb.Application.STATE_DRAFT, "未提交")
    app = harness.fill(draft)
    assert app.cargo.weight_kg == 30000 and app.cargo.weight_tonnes == "30.000"
    assert app.vehicles[0].source == "FLEET" and app.vehicles[0].curb_mass_kg == 8800
    assert app.permit_class == 1 and app.classification.rules[0].rule == "ART15_CLASS1"
    assert app.agent.id_number == "130102********1237"  # masked on output
    assert app.overall_reference.total_mass_kg == 48300
    app = harness.submit(app, request_id="submit-1")
    assert (app.state, app.state_label, app.submission) == (pb.Application.STATE_SUBMITTED, "未受理", 1)

    assert harness.app.relay.run_once() == 1
    (submitted,) = harness.approval.sink.of(ApplicationSubmitted)
    assert submitted.application.name == app.name and submitted.application.number == app.number
    assert submitted.applicant == "parties/L1001" and submitted.province == "130000"
    case = submitted.submitted
    assert list(case.route_provinces) == ["130000", "370000", "320000"]
    assert [v.plate_number for v in case.vehicles] == ["冀A12345", "冀B6789挂"] and case.permit_class == 1
    assert (case.passage_dates.start_date.day, case.passage_dates.end_date.day, case.submission) == (10, 20, 1)
    assert [r.province for r in case.route] == ["130000", "370000", "320000"]
    assert case.cargo.weight_kg == 30000 and case.overall.total_mass_kg == 48300
    assert case.agent.masked_id_number == "130102********1237" and "documents/poa" in case.documents
    # PQ-10: the vehicles' figures travel with the case, as chosen from the fleet.
    assert [(v.plate_number, v.curb_mass_kg) for v in case.vehicles] == [
        (app.vehicles[0].plate_number, app.vehicles[0].curb_mass_kg),
        (app.vehicles[1].plate_number, app.vehicles[1].curb_mass_kg)]
    assert case.vehicles[0].curb_mass_kg == 8800
    assert all(v.fleet_vehicle.startswith("vehicles/") and v.axle_count > 0 and v.wheelbase_mm > 0
               and v.tyre_count > 0 for v in case.vehicles)
    assert [v.fleet_vehicle for v in case.vehicles] == [v.fleet_vehicle for v in app.vehicles]

    harness.event(app, "CASE_ACCEPTED", "e1", province="130000", submission=1)
    for i, prov in enumerate(["130000", "370000", "320000"]):
        harness.event(app, "PROVINCE_APPROVED", f"e2-{i}", province=prov)
    harness.event(app, "PERMIT_ISSUED", "e3", permit="permits/p1", permit_number="冀大件[2026]0001",
                  permit_start_date=date(dt.date(2026, 12, 10)), permit_end_date=date(dt.date(2026, 12, 20)))

    listed = harness.stub.ListApplications(spb.ListApplicationsRequest(), metadata=harness.md()).applications
    (issued,) = listed
    assert (issued.state_label, issued.permit_number, issued.permit_state_label) == ("已发证", "冀大件[2026]0001", "有效")
    assert [(p.province, p.decision_label) for p in issued.progress] == [
        ("130000", "同意"), ("370000", "同意"), ("320000", "同意")]
    assert issued.progress[0].origin

    assert harness.app.relay.run_once() == 1
    (route,) = harness.routing.sink.of(RouteApproved)
    assert route.applicant == "parties/L1001" and [r.province for r in route.route] == ["130000", "370000", "320000"]
    assert route.permit_number == "冀大件[2026]0001" and route.application.number == app.number

    trail = harness.stub.ListStateChanges(spb.ListStateChangesRequest(parent=app.name), metadata=harness.md())
    moves = [(c.from_state, c.to_state) for c in trail.state_changes if c.from_state != c.to_state]
    assert moves == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_a_submission_waits_in_the_outbox_while_approval_is_down(make_harness, make_database) -> None:  # type: ignore[no-untyped-def]
    h: Harness = make_harness(make_database("application"), approval_up=False)
    app = h.submit(h.fill(h.create()))
    assert h.app.relay.run_once() == 0
    assert h.app.relay.pending() == 1
    assert h.get(app).state_label == "未受理"
    h.approval.start()
    grpc.channel_ready_future(h.app.channels[0]).result(timeout=30)
    with h.app.engine.begin() as conn:  # due now instead of after the backoff
        conn.execute(text("UPDATE outbox_consumer SET next_attempt_time = NULL"))
    assert h.app.relay.run_once() == 1
    assert [c.application.name for c in h.approval.sink.of(ApplicationSubmitted)] == [app.name]


def test_field_errors_come_back_as_bad_request_violations_AP_2(pg: Harness) -> None:
    app = pg.create()
    body = walking_slice(app.name, cargo=pb.Cargo(name="", weight_tonnes="12.3456", length_mm=-5))
    with pytest.raises(grpc.RpcError) as e:
        pg.update(body, "cargo")
    d = error_of(e.value)
    assert (d.code, d.reason, d.domain) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "permit.application")
    assert {(v.field, v.reason) for v in d.violations} >= {
        ("cargo.name", "REQUIRED"), ("cargo.weight_tonnes", "TOO_MANY_DECIMALS"), ("cargo.length_mm", "NEGATIVE")}
    assert all(v.description for v in d.violations)


def test_the_first_step_needs_five_seconds_of_notice_AP_1(pg: Harness) -> None:
    with pytest.raises(grpc.RpcError) as e:
        pg.create(seconds=4)
    d = error_of(e.value)
    assert (d.code, d.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTICE_NOT_READ")
    assert "5 秒" in d.message


def test_stale_etags_abort_AP_2(pg: Harness) -> None:
    app = pg.create()
    pg.update(walking_slice(app.name, start=dt.date(2026, 12, 11)), "cargo")
    stale = walking_slice(app.name)
    stale.etag = app.etag
    with pytest.raises(grpc.RpcError) as e:
        pg.update(stale, "cargo")
    assert (error_of(e.value).code, error_of(e.value).reason) == (grpc.StatusCode.ABORTED, "ETAG_MISMATCH")


def test_another_party_sees_nothing_PQ_2(pg: Harness) -> None:
    app = pg.create()
    with pytest.raises(grpc.RpcError) as e:
        pg.stub.GetApplication(spb.GetApplicationRequest(name=app.name), metadata=pg.md(OTHER))
    assert error_of(e.value).reason == "APPLICATION_NOT_FOUND"
    listed = pg.stub.ListApplications(spb.ListApplicationsRequest(), metadata=pg.md(OTHER))
    assert list(listed.applications) == []


def test_repeated_review_events_are_ignored(pg: Harness) -> None:
    app = pg.submit(pg.fill(pg.create()))
    assert pg.event(app, "CASE_ACCEPTED", "same", province="130000").applied is True
    assert pg.event(app, "CASE_ACCEPTED", "same", province="130000").applied is False
    with pytest.raises(grpc.RpcError) as e:
        pg.event(app, "CASE_DENIED", "x", principal=APPLICANT)
    assert (error_of(e.value).code, error_of(e.value).reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_SERVICE")


def test_withdrawal_is_delivered_as_application_withdrawn_PQ_5(pg: Harness) -> None:
    app = pg.submit(pg.fill(pg.create()))
    app = pg.stub.WithdrawApplication(spb.WithdrawApplicationRequest(name=app.name, reason="不运了"),
                                      metadata=pg.md())
    assert app.state_label == "已撤销"
    assert pg.app.relay.run_once("approval") == 2  # ApplicationSubmitted, then ApplicationWithdrawn, in order
    assert [type(e).__name__ for e in pg.approval.sink.received.values()] == [
        "ApplicationSubmitted", "ApplicationWithdrawn"]
    (cancel,) = pg.approval.sink.of(ApplicationWithdrawn)
    assert (cancel.application.name, cancel.reason) == (app.name, "不运了")


def test_search_by_plate_and_number_PQ_2(pg: Harness) -> None:
    a = pg.submit(pg.fill(pg.create()))
    pg.create()
    found = pg.stub.SearchApplications(spb.SearchApplicationsRequest(query="冀A12345"), metadata=pg.md())
    assert [x.name for x in found.applications] == [a.name]
    found = pg.stub.SearchApplications(spb.SearchApplicationsRequest(query=a.number), metadata=pg.md())
    assert [x.name for x in found.applications] == [a.name]


def test_suggestions_and_fleet_vehicle_lookup_AP_4_AP_8(pg: Harness) -> None:
    vs = pg.stub.SuggestVehicles(spb.SuggestVehiclesRequest(plate_prefix="冀B"), metadata=pg.md()).vehicles
    assert [(v.plate_number, v.source, v.kind) for v in vs] == [("冀B6789挂", "FLEET", pb.VEHICLE_KIND_FLATBED_TRAILER)]
    got = pg.stub.GetVehicle(spb.GetVehicleRequest(name=vs[0].fleet_vehicle), metadata=pg.service_md())
    assert (got.axle_count, got.owner) == (3, "parties/L1001")
    agents = pg.stub.SuggestAgents(spb.SuggestAgentsRequest(name_prefix="李"), metadata=pg.md()).agents
    assert [(a.name, a.id_number) for a in agents] == [("李四", "130102********1232")]
    with pytest.raises(grpc.RpcError) as e:
        pg.stub.GetVehicle(spb.GetVehicleRequest(name=vs[0].fleet_vehicle), metadata=pg.md(OTHER))
    assert error_of(e.value).reason == "VEHICLE_NOT_FOUND"


def test_health_is_served(pg: Harness) -> None:
    resp = health_pb2_grpc.HealthStub(pg.channel).Check(
        health_pb2.HealthCheckRequest(service="permit.application.v1.ApplicationService"))
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_numbers_stay_unique_under_parallel_creates_PQ_1(pg: Harness) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(lambda _: pg.create().number, range(16)))
    assert len(set(numbers)) == 16
    assert sorted(numbers) == [f"DJ1320261201{i:06d}" for i in range(1, 17)]
    engine = create_engine(pg.url.replace("+psycopg", "+psycopg"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT last FROM number_counter")).scalar_one() == 16
    engine.dispose()


@pytest.mark.parametrize("db", ["postgresql", "sqlite"])
def test_a_new_draft_skips_a_number_a_legacy_import_holds_and_a_retry_returns_the_first_draft_PQ_1_AP_10(
        db: str, make_harness: Callable[..., Harness], make_database: Callable[[str], str]) -> None:
    """The number and the request id are unique in the database: the insert itself finds
    today's number taken by an imported application, and a retried request's draft."""
    h = make_harness(make_database("application") if db == "postgresql" else None)
    from permit_application import services as svc

    taken = {"number": "DJ1320261201000001", "state": "已发证", "vehicles": ["冀A12345"],
             "passage": {"origin_province": "130000", "destination_province": "320000",
                         "route": [{"province": "130000", "roads": ["G4"]}],
                         "start_date": "2026-12-20", "end_date": "2026-12-21"},
             "permit_number": "P1"}
    svc.import_legacy_records(h.app.uow_factory(), export={"accounts": [{"legacy_id": "L1001",
                                                                        "applications": [taken]}]},
                              check_caller=False, now=NOW)
    receipt = h.app.servicer.notices.serve(party="parties/L1001", now=NOW - dt.timedelta(seconds=6)).receipt

    def create(request_id: str) -> pb.Application:
        return h.stub.CreateApplication(spb.CreateApplicationRequest(notice_receipt=receipt, request_id=request_id),
                                        metadata=h.md())
    first = create("phone-1")
    assert first.number == "DJ1320261201000002"
    again = create("phone-1")
    assert (again.name, again.etag) == (first.name, first.etag)
    # On PostgreSQL the retry's number (3) stays a gap; SQLite takes it in the rolled-back transaction.
    second = create("phone-2").number
    assert second == ("DJ1320261201000004" if db == "postgresql" else "DJ1320261201000003")
    drafts = h.stub.ListApplications(spb.ListApplicationsRequest(state=pb.Application.STATE_DRAFT),
                                     metadata=h.md()).applications
    assert sorted(a.number for a in drafts) == ["DJ1320261201000002", second]


def test_routing_problems_are_field_errors_of_the_passage_step_AP_7(pg: Harness) -> None:
    app = pg.create()
    body = walking_slice(app.name)
    body.passage.route[1].roads[:] = ["??"]
    with pytest.raises(grpc.RpcError) as e:
        pg.update(body, "passage")
    d = error_of(e.value)
    assert d.reason == "INVALID_FIELD"
    assert [(v.field, v.reason) for v in d.violations] == [("passage.route[1].roads", "EMPTY_ROAD")]


def test_a_routing_outage_does_not_block_the_form_AP_7(pg: Harness) -> None:
    pg.routing.stop()
    app = pg.update(walking_slice(pg.create().name), "passage")
    assert list(app.route_provinces) == ["130000", "370000", "320000"]


def test_a_route_adjustment_is_shown_and_an_accepted_one_replaces_the_route_PQ_7(pg: Harness) -> None:
    mats = [pb.MaterialRef(kind=pb.MATERIAL_KIND_OUTLINE_DRAWING, document=f"documents/o{i}") for i in range(3)]
    mats.append(pb.MaterialRef(kind=pb.MATERIAL_KIND_ESCORT_PLAN, document="documents/escort-1"))
    app = pg.submit(pg.fill(pg.create(), overall=pb.Overall(
        total_mass_kg=48300, length_mm=18500, width_mm=3000, height_mm=4600,
        axle_spacings_mm=[3300, 1350, 7000, 1310, 1310], axle_loads_kg=[6300, 8000, 8000, 8700, 8700, 8600]),
        materials=mats))
    assert app.permit_class == 3
    pg.event(app, "CASE_ACCEPTED", "a1", province="130000")
    new_route = [types_pb2.RouteRow(province="130000", roads=["G4"]), types_pb2.RouteRow(province="370000", roads=["G2"]),
                 types_pb2.RouteRow(province="320000", roads=["G2"])]
    pg.event(app, "ROUTE_ADJUSTMENT_PROPOSED", "a2", province="370000", reason="G3 施工", route=new_route)
    shown = pg.get(app)
    row = [p for p in shown.progress if p.province == "370000"][0]
    assert (row.decision_label, row.reason, [r.roads[0] for r in row.suggested_route]) == (
        "建议调整路线", "G3 施工", ["G4", "G2", "G2"])
    pg.event(app, "ROUTE_ADJUSTMENT_ACCEPTED", "a3", province="370000", route=new_route,
             documents=["documents/escort-2"])
    shown = pg.get(app)
    assert [list(r.roads) for r in shown.passage.route] == [["G4"], ["G2"], ["G2"]]
    assert [m.document for m in shown.materials if m.kind == pb.MATERIAL_KIND_ESCORT_PLAN] == ["documents/escort-2"]
    assert [p.decision_label for p in shown.progress if p.province == "370000"] == ["待审批"]


def test_submit_refuses_documents_that_are_missing_foreign_or_of_the_wrong_kind_AP_9(pg: Harness) -> None:
    pg.documents.servicer.docs["documents/theirs"] = ("parties/L9999", "TRANSPORT_PLAN")
    pg.documents.servicer.docs["documents/a-photo"] = ("parties/L1001", "VEHICLE_LICENCE")
    mats = [pb.MaterialRef(kind=pb.MATERIAL_KIND_OTHER, document="documents/theirs"),
            pb.MaterialRef(kind=pb.MATERIAL_KIND_OTHER, document="documents/gone"),
            pb.MaterialRef(kind=pb.MATERIAL_KIND_TRANSPORT_PLAN, document="documents/a-photo")]
    app = pg.fill(pg.create(), materials=mats)
    with pytest.raises(grpc.RpcError) as e:
        pg.submit(app)
    d = error_of(e.value)
    assert d.reason == "INVALID_FIELD"
    assert [(v.field, v.reason) for v in d.violations] == [
        ("materials[0].document", "DOCUMENT_NOT_FOUND"), ("materials[1].document", "DOCUMENT_NOT_FOUND"),
        ("materials[2].document", "DOCUMENT_KIND_MISMATCH")]
    assert pg.get(app).state_label == "未提交"


def test_a_documents_outage_refuses_submitting_and_nothing_is_written_AP_10(pg: Harness) -> None:
    """Unchecked references could carry another party's upload to a case: the submission
    waits for documents, and the draft is untouched until it is back."""
    app = pg.fill(pg.create())
    pg.documents.stop()
    try:
        with pytest.raises(grpc.RpcError) as e:
            pg.submit(app)
        d = error_of(e.value)
        assert (d.code, d.reason) == (grpc.StatusCode.UNAVAILABLE, "DOCUMENTS_UNAVAILABLE")
        assert "材料服务暂时不可用" in d.message
        assert pg.get(app).state_label == "未提交"
    finally:
        pg.documents.start()
    # The channel reconnects on its own backoff; the same submission then goes through.
    deadline = time.monotonic() + 15
    while True:
        try:
            assert pg.submit(app).state_label == "未受理"
            break
        except grpc.RpcError as again:
            assert error_of(again).reason == "DOCUMENTS_UNAVAILABLE" and time.monotonic() < deadline
            time.sleep(0.2)


def test_choosing_dates_shows_the_conflicting_applications_AP_6(pg: Harness) -> None:
    late = pg.update(walking_slice(pg.create().name), "vehicles")
    a = pg.submit(pg.fill(pg.create()))
    b = pg.submit(pg.fill(pg.create()))
    check = pg.stub.CheckVehicleSchedule(spb.CheckVehicleScheduleRequest(
        name=late.name, start_date=date(dt.date(2026, 12, 18)), end_date=date(dt.date(2026, 12, 25))),
        metadata=pg.md())
    assert not check.ok and "时间发生冲突" in check.message
    assert [(c.plate_number, list(c.application_numbers)) for c in check.conflicts] == [
        ("冀A12345", [a.number, b.number]), ("冀B6789挂", [a.number, b.number])]
    free = pg.stub.CheckVehicleSchedule(spb.CheckVehicleScheduleRequest(
        name=late.name, start_date=date(dt.date(2026, 12, 21)), end_date=date(dt.date(2026, 12, 25))),
        metadata=pg.md())
    assert free.ok and list(free.conflicts) == []
    with pytest.raises(grpc.RpcError) as e:
        pg.update(walking_slice(late.name), "passage")
    d = error_of(e.value)
    assert (d.code, d.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "VEHICLE_TIME_CONFLICT")
    assert d.metadata["application_numbers"] == f"{a.number},{b.number}"


def hand_typed_fleet() -> list[pb.Vehicle]:
    """The carrier's tractor and trailer typed in by hand by another party."""
    return [convert.vehicle_to_pb(v) for v in hand_fleet()]


def test_another_partys_check_and_save_count_the_carriers_applications_without_naming_them_AP_6(
        harness: Harness) -> None:
    """王五 chooses the carrier's vehicles on days both of the carrier's applications hold them:
    told the vehicles are taken by two applications of another applicant, never which."""
    carriers = [harness.submit(harness.fill(harness.create())) for _ in range(2)]
    secrets = {x for a in carriers for x in (a.name, a.number)}
    theirs = harness.create(OTHER)
    check = harness.stub.CheckVehicleSchedule(spb.CheckVehicleScheduleRequest(
        name=theirs.name, start_date=date(dt.date(2026, 12, 18)), end_date=date(dt.date(2026, 12, 25)),
        plate_numbers=["冀A12345", "冀B6789挂"]), metadata=harness.md(OTHER))
    assert not {x for x in secrets if x in str(check)}, str(check)
    assert not check.ok and [c.plate_number for c in check.conflicts] == ["冀A12345", "冀B6789挂"]
    assert all(list(c.applications) == list(c.application_numbers) == [] for c in check.conflicts)
    assert "2 件申请：均为其他申请人的申请" in check.message and "时间发生冲突" in check.message
    body = walking_slice(theirs.name, vehicles=hand_typed_fleet())
    body.etag = theirs.etag
    with pytest.raises(grpc.RpcError) as e:
        harness.update(body, "vehicles", "passage", principal=OTHER)
    d = error_of(e.value)
    assert (d.code, d.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "VEHICLE_TIME_CONFLICT")
    said = [d.message, *d.metadata.values()]
    assert not {x for x in secrets for text in said if x in text}, said
    assert (d.metadata["plate_numbers"], d.metadata["other_party_counts"]) == ("冀A12345,冀B6789挂", "2,2")
    # The carrier, checking the same days, is shown its own two applications to withdraw one.
    mine = harness.stub.CheckVehicleSchedule(spb.CheckVehicleScheduleRequest(
        name=harness.create().name, start_date=date(dt.date(2026, 12, 18)), end_date=date(dt.date(2026, 12, 25)),
        plate_numbers=["冀A12345"]), metadata=harness.md())
    assert [list(c.application_numbers) for c in mine.conflicts] == [[a.number for a in carriers]]
    assert all(a.number in mine.message for a in carriers) and "撤回" in mine.message


def test_saving_a_step_locks_and_reads_the_draft_row_alone_and_the_vehicles_step_still_keeps_the_plates_AP_2_AP_4(
        harness: Harness) -> None:
    """A step is saved after one SELECT of the application's own row (locked on PostgreSQL):
    its plates and review progress are not joined in. The vehicles step, which does need
    the plates, loads and replaces them: search by plate finds the draft only after it."""
    draft = harness.create()
    body = walking_slice(draft.name)
    selects: list[str] = []

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)
    sa_event.listen(harness.app.engine, "before_cursor_execute", count)
    try:
        body.etag = draft.etag
        saved = harness.update(body, "cargo")
    finally:
        sa_event.remove(harness.app.engine, "before_cursor_execute", count)
    assert saved.cargo.name == "变压器" and saved.etag != draft.etag
    assert len(selects) == 1, selects
    assert "application_vehicle" not in selects[0] and "province_progress" not in selects[0]
    if harness.app.engine.dialect.name == "postgresql":
        assert "FOR UPDATE" in selects[0]

    def found(plate: str) -> list[str]:
        return [a.name for a in harness.stub.SearchApplications(
            spb.SearchApplicationsRequest(query=plate), metadata=harness.md()).applications]
    assert found("冀B6789挂") == []
    body.etag = saved.etag
    saved = harness.update(body, "vehicles", "overall", "passage")
    assert [v.plate_number for v in saved.vehicles] == ["冀A12345", "冀B6789挂"]
    assert found("冀B6789挂") == [draft.name]
    assert list(saved.progress) == []
