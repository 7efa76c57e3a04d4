"""Document grants over gRPC on PostgreSQL (issue 6): when a case is created or reopened, and
when an accepted route adjustment or an approved vehicle change adds a document, the outbox
relay delivers the event that carries it (CaseOpened, RouteAdjustmentAnswered,
VehicleChangeDecided) to the documents service's event sink, whose handler lets officers of the
origin and of every route province read them (RV-1, PQ-6, PQ-7, PQ-10)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from permit.application.v1 import application_pb2
from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permit.type.v1 import types_pb2
from permit_approval.models import Base
from tests.approval.conftest import HEBEI, JIANGSU, ROUTE, SHANDONG, SHANGHAI_P, Running

pytestmark = pytest.mark.integration


def grants(running: Running) -> list[tuple[str, list[str], list[str]]]:
    return [(g.application, list(g.provinces), list(g.documents))
            for g in running.fake.documents.requests]


class TestGrantOnSubmission:
    def test_a_new_case_grants_its_documents_to_the_origin_and_every_route_province_RV_1(
            self, running: Running) -> None:
        case = running.submit()
        assert running.fake.documents.requests == []  # queued, not sent inside the RPC
        assert running.deliver() == 1
        assert grants(running) == [(case.application, ROUTE, ["documents/d1"])]
        # Named with the applicant: documents refuses a grant of another party's upload.
        assert running.fake.documents.requests[-1].owner == case.applicant
        for p in ROUTE:
            assert running.fake.documents.readable(case.application, p) == {"documents/d1"}
        assert running.fake.documents.readable(case.application, SHANGHAI_P) == set()
        # Delivered as the approval service with a deadline, not as whoever submitted.
        md = running.fake.documents.metadata[-1]
        assert md["x-permit-subject"] == "services/approval"
        assert "service" in md["x-permit-roles"].split(",")
        assert running.fake.documents.deadlines[-1] is not None

    def test_a_redelivered_grant_changes_nothing_RV_1(self, running: Running) -> None:
        case = running.submit()
        running.deliver()
        before = set(running.fake.documents.grants)
        # The answer was lost: the relay delivers the same event again.
        consumers = Base.metadata.tables["outbox_consumer"]
        with running.app.engine.begin() as conn:
            conn.execute(update(consumers).where(consumers.c.consumer == "documents").values(position=0))
        assert running.deliver() == 1
        assert len(running.fake.documents.requests) == 2
        assert running.fake.documents.grants == before
        assert running.fake.documents.readable(case.application, SHANDONG) == {"documents/d1"}

    def test_a_repeated_create_case_queues_no_second_grant_RV_1(self, running: Running) -> None:
        running.submit()
        running.submit()  # same event id
        running.submit(event_id="another-delivery-same-submission")
        assert running.deliver() == 1
        assert len(running.fake.documents.requests) == 1

    def test_a_resubmission_grants_the_new_route_provinces_PQ_6(self, running: Running) -> None:
        case = running.submit()
        running.stub.ReturnCase(svc.ReturnCaseRequest(name=case.name, reason="路线需调整"),
                                metadata=running.officer(HEBEI))
        running.submit(submission=2, route=[HEBEI, SHANDONG, SHANGHAI_P])
        running.deliver()
        assert grants(running) == [(case.application, ROUTE, ["documents/d1"]),
                                   (case.application, [HEBEI, SHANDONG, SHANGHAI_P],
                                    ["documents/d1"])]
        assert running.fake.documents.readable(case.application, SHANGHAI_P) == {"documents/d1"}

    def test_a_grant_waits_in_the_outbox_while_the_documents_service_is_down_RV_1(
            self, running: Running) -> None:
        running.fake.stop()
        running.submit()
        assert running.deliver() == 0
        assert running.app.relay.pending() == 1
        running.fake.start()  # same port; the relay retries after its backoff
        deadline = time.monotonic() + 30
        while running.app.relay.pending() and time.monotonic() < deadline:
            running.deliver()
            time.sleep(0.1)
        assert running.app.relay.pending() == 0
        assert len(running.fake.documents.requests) == 1


class TestGrantOnNewDocuments:
    def test_an_updated_escort_plan_is_granted_to_every_route_province_PQ_7(
            self, running: Running) -> None:
        case = running.accept(running.submit(permit_class=3))
        name = f"{case.name}/reviews/{SHANDONG}"
        running.stub.ProposeRouteAdjustment(
            svc.ProposeRouteAdjustmentRequest(name=name, suggested_route=[
                types_pb2.RouteRow(province=SHANDONG, roads=["G2"])], reason="施工"),
            metadata=running.officer(SHANDONG))
        running.stub.RespondToAdjustment(
            svc.RespondToAdjustmentRequest(name=name, accept=True, escort_plan="documents/esc2"),
            metadata=running.applicant())
        running.deliver()
        assert grants(running)[-1] == (case.application, ROUTE, ["documents/esc2"])
        assert running.fake.documents.readable(case.application, JIANGSU) == {
            "documents/d1", "documents/esc2"}

    def test_a_rejected_adjustment_grants_nothing_new_PQ_7(self, running: Running) -> None:
        case = running.accept(running.submit())
        name = f"{case.name}/reviews/{SHANDONG}"
        running.stub.ProposeRouteAdjustment(
            svc.ProposeRouteAdjustmentRequest(name=name, suggested_route=[
                types_pb2.RouteRow(province=SHANDONG, roads=["G2"])], reason="施工"),
            metadata=running.officer(SHANDONG))
        running.stub.RespondToAdjustment(svc.RespondToAdjustmentRequest(name=name, accept=False),
                                         metadata=running.applicant())
        running.deliver()
        assert len(running.fake.documents.requests) == 1  # the submission's grant only

    def test_an_approved_vehicle_change_grants_the_new_power_of_attorney_PQ_10(
            self, running: Running) -> None:
        running.fake.servicer.vehicles["vehicles/v9"] = application_pb2.Vehicle(
            plate_number="冀A99999", owner="parties/p1", source="FLEET", curb_mass_kg=9000,
            axle_count=3, wheelbase_mm=3500, tyre_count=10)
        case = running.accept(running.submit())
        case = running.stub.RequestVehicleChange(
            svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                            new_vehicle="vehicles/v9",
                                            power_of_attorney="documents/poa2"),
            metadata=running.applicant())
        running.deliver()
        assert len(running.fake.documents.requests) == 1  # requested, not yet approved
        running.stub.DecideVehicleChange(
            svc.DecideVehicleChangeRequest(name=case.vehicle_changes[0].name,
                                           decision=pb.DECISION_APPROVE),
            metadata=running.officer(HEBEI))
        running.deliver()
        assert grants(running)[-1] == (case.application, ROUTE, ["documents/poa2"])

