"""Documents an applicant adds to a case after submission, over gRPC on PostgreSQL: the
updated escort plan of an accepted route adjustment (PQ-7) and the new power of attorney
of a vehicle change (PQ-10). Once on the case a document is granted to every route
province, so approval first looks it up in the documents service as the applicant: only
the applicant's own upload of the right kind is taken; another party's and a missing one
are refused alike, and a documents outage fails the request with nothing written."""

from __future__ import annotations

import grpc
import pytest

from permit.application.v1 import application_pb2
from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permit.type.v1 import types_pb2
from permitkit.errors import ErrorDetails
from tests.approval.conftest import ROUTE, SHANDONG, Running

pytestmark = pytest.mark.integration

OTHER_PARTY = "parties/p2"


def refusal(e: pytest.ExceptionInfo[grpc.RpcError]) -> ErrorDetails:
    return ErrorDetails.from_rpc_error(e.value)


def applicant_view(running: Running, case: pb.Case) -> pb.Case:
    return running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.applicant())


def assert_refused_on_field(details: ErrorDetails, reason: str, field: str) -> None:
    """The refusal is a 400 kind with its reason, a Chinese message and the field named."""
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.reason == reason and details.metadata["field"] == field
    assert [v.field for v in details.violations] == [field]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in details.message), details.message


def assert_granted_nothing_new(running: Running, case: pb.Case) -> None:
    """The relay has nothing to deliver: no grant beyond the submission's documents."""
    running.deliver()
    for p in ROUTE:
        assert running.fake.documents.readable(case.application, p) <= {"documents/d1"}


class TestEscortPlanOfAnAcceptedAdjustment:
    def propose(self, running: Running) -> pb.Case:
        """A class III case under review, 山东 suggesting another route; grants delivered."""
        case = running.accept(running.submit(permit_class=3))
        case = running.stub.ProposeRouteAdjustment(
            svc.ProposeRouteAdjustmentRequest(name=f"{case.name}/reviews/{SHANDONG}", reason="施工",
                                              suggested_route=[types_pb2.RouteRow(province=SHANDONG,
                                                                           roads=["G2"])]),
            metadata=running.officer(SHANDONG))
        running.deliver()
        return case

    def respond(self, running: Running, case: pb.Case, escort_plan: str,
                accept: bool = True) -> pb.Case:
        return running.stub.RespondToAdjustment(
            svc.RespondToAdjustmentRequest(name=f"{case.name}/reviews/{SHANDONG}", accept=accept,
                                           escort_plan=escort_plan),
            metadata=running.applicant())

    def assert_unchanged(self, running: Running, case: pb.Case) -> None:
        now = applicant_view(running, case)
        assert now.etag == case.etag and list(now.documents) == ["documents/d1"]
        review = next(r for r in now.reviews if r.province == SHANDONG)
        assert review.state == pb.REVIEW_STATE_ADJUSTMENT_PROPOSED
        assert_granted_nothing_new(running, case)

    def test_another_partys_escort_plan_is_refused_as_not_found_and_never_granted_PQ_7(
            self, running: Running) -> None:
        case = self.propose(running)
        theirs = running.fake.documents.upload("documents/theirs", "ESCORT_PLAN", owner=OTHER_PARTY)
        with pytest.raises(grpc.RpcError) as e:
            self.respond(running, case, theirs)
        assert_refused_on_field(refusal(e), "DOCUMENT_REFERENCE_INVALID", "escort_plan")
        assert theirs not in refusal(e).message
        self.assert_unchanged(running, case)
        assert all(theirs not in running.fake.documents.readable(case.application, p) for p in ROUTE)

    def test_a_missing_escort_plan_gets_the_same_answer_as_another_partys_PQ_7(
            self, running: Running) -> None:
        case = self.propose(running)
        theirs = running.fake.documents.upload("documents/theirs", "ESCORT_PLAN", owner=OTHER_PARTY)
        answers = []
        for name in (theirs, "documents/never-uploaded"):
            with pytest.raises(grpc.RpcError) as e:
                self.respond(running, case, name)
            answers.append((refusal(e).code, refusal(e).reason, refusal(e).message))
        assert answers[0] == answers[1]
        self.assert_unchanged(running, case)

    def test_an_own_upload_of_another_kind_is_not_an_escort_plan_PQ_7(self, running: Running) -> None:
        case = self.propose(running)
        with pytest.raises(grpc.RpcError) as e:
            self.respond(running, case, "documents/poa2")  # the applicant's power of attorney
        assert_refused_on_field(refusal(e), "DOCUMENT_KIND_MISMATCH", "escort_plan")
        self.assert_unchanged(running, case)

    def test_a_malformed_document_name_is_refused_without_asking_documents_PQ_7(
            self, running: Running) -> None:
        case = self.propose(running)
        with pytest.raises(grpc.RpcError) as e:
            self.respond(running, case, "documents/a/b")
        assert_refused_on_field(refusal(e), "NAME_INVALID", "escort_plan")
        assert running.fake.documents.lookups == []

    def test_the_escort_plan_is_looked_up_as_the_applicant_PQ_7(self, running: Running) -> None:
        case = self.propose(running)
        case = self.respond(running, case, "documents/esc2")
        assert "documents/esc2" in case.documents
        [(name, md)] = running.fake.documents.lookups
        assert name == "documents/esc2"
        assert (md["x-permit-subject"], md["x-permit-party"]) == ("users/u1", "parties/p1")
        assert "service" not in md.get("x-permit-roles", "").split(",")

    def test_a_documents_outage_fails_the_answer_and_writes_nothing_PQ_7(
            self, running: Running) -> None:
        case = self.propose(running)
        running.fake.documents.unavailable = True
        with pytest.raises(grpc.RpcError) as e:
            self.respond(running, case, "documents/esc2")
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        self.assert_unchanged(running, case)
        running.fake.documents.unavailable = False  # back: the same answer now goes through
        assert "documents/esc2" in self.respond(running, case, "documents/esc2").documents

    def test_a_stopped_documents_service_fails_the_answer_and_writes_nothing_PQ_7(
            self, running: Running) -> None:
        case = self.propose(running)
        running.fake.stop()
        try:
            with pytest.raises(grpc.RpcError) as e:
                self.respond(running, case, "documents/esc2")
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            running.fake.start()
        now = applicant_view(running, case)
        assert now.etag == case.etag and list(now.documents) == ["documents/d1"]

    def test_a_rejection_takes_no_document_and_asks_for_none_PQ_7(self, running: Running) -> None:
        case = self.propose(running)
        theirs = running.fake.documents.upload("documents/theirs", "ESCORT_PLAN", owner=OTHER_PARTY)
        case = self.respond(running, case, theirs, accept=False)
        assert case.state == pb.CASE_STATE_DENIED and list(case.documents) == ["documents/d1"]
        assert running.fake.documents.lookups == []
        assert_granted_nothing_new(running, case)


class TestPowerOfAttorneyOfAVehicleChange:
    def fleet(self, running: Running, name: str = "vehicles/v9", plate: str = "冀A99999") -> str:
        """A fleet vehicle of the applicant with the tractor's figures."""
        running.fake.servicer.vehicles[name] = application_pb2.Vehicle(
            plate_number=plate, owner="parties/p1", source="FLEET", curb_mass_kg=9000,
            axle_count=3, wheelbase_mm=3500, tyre_count=10)
        return name

    def change(self, running: Running, case: pb.Case, power_of_attorney: str,
               new_vehicle: str = "vehicles/v9") -> pb.Case:
        return running.stub.RequestVehicleChange(
            svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                            new_vehicle=new_vehicle,
                                            power_of_attorney=power_of_attorney),
            metadata=running.applicant())

    def assert_unchanged(self, running: Running, case: pb.Case) -> None:
        now = applicant_view(running, case)
        assert now.etag == case.etag and list(now.vehicle_changes) == []
        assert list(now.plate_numbers) == ["冀A12345", "冀B6789挂"]

    def test_another_partys_power_of_attorney_is_refused_as_not_found_PQ_10(
            self, running: Running) -> None:
        self.fleet(running)
        case = running.accept(running.submit())
        theirs = running.fake.documents.upload("documents/theirs", "POWER_OF_ATTORNEY",
                                               owner=OTHER_PARTY)
        with pytest.raises(grpc.RpcError) as e:
            self.change(running, case, theirs)
        assert_refused_on_field(refusal(e), "DOCUMENT_REFERENCE_INVALID", "power_of_attorney")
        self.assert_unchanged(running, case)
        assert_granted_nothing_new(running, case)
        # The same answer as for a document that was never uploaded.
        with pytest.raises(grpc.RpcError) as missing:
            self.change(running, case, "documents/never-uploaded")
        assert (refusal(missing).reason, refusal(missing).message) == (
            refusal(e).reason, refusal(e).message)

    def test_the_document_is_checked_before_the_vehicle_PQ_10(self, running: Running) -> None:
        """Another party's document with the tractor itself as the new vehicle: refused on
        the document, whatever else is wrong with the request."""
        self.fleet(running, "vehicles/v1", "冀A12345")
        case = running.accept(running.submit())
        theirs = running.fake.documents.upload("documents/theirs", "POWER_OF_ATTORNEY",
                                               owner=OTHER_PARTY)
        with pytest.raises(grpc.RpcError) as e:
            self.change(running, case, theirs, new_vehicle="vehicles/v1")
        assert refusal(e).reason == "DOCUMENT_REFERENCE_INVALID"

    def test_an_own_escort_plan_is_not_a_power_of_attorney_PQ_10(self, running: Running) -> None:
        self.fleet(running)
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            self.change(running, case, "documents/esc2")
        assert_refused_on_field(refusal(e), "DOCUMENT_KIND_MISMATCH", "power_of_attorney")
        self.assert_unchanged(running, case)

    def test_the_power_of_attorney_is_looked_up_as_the_applicant_PQ_10(
            self, running: Running) -> None:
        self.fleet(running)
        case = self.change(running, running.accept(running.submit()), "documents/poa2")
        assert case.vehicle_changes[0].state == pb.CHANGE_REQUEST_STATE_PENDING
        [(name, md)] = running.fake.documents.lookups
        assert name == "documents/poa2" and md["x-permit-party"] == "parties/p1"
        assert "service" not in md.get("x-permit-roles", "").split(",")

    def test_a_documents_outage_fails_the_request_and_writes_nothing_PQ_10(
            self, running: Running) -> None:
        self.fleet(running)
        case = running.accept(running.submit())
        running.fake.documents.unavailable = True
        with pytest.raises(grpc.RpcError) as e:
            self.change(running, case, "documents/poa2")
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        self.assert_unchanged(running, case)
        running.fake.documents.unavailable = False
        assert len(self.change(running, case, "documents/poa2").vehicle_changes) == 1


class TestTheNewVehicle:
    def test_a_vehicle_cannot_be_changed_to_itself_PQ_10(self, running: Running) -> None:
        running.fake.servicer.vehicles["vehicles/v1"] = application_pb2.Vehicle(
            plate_number="冀A12345", owner="parties/p1", source="FLEET", curb_mass_kg=9000,
            axle_count=3, wheelbase_mm=3500, tyre_count=10)
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/v1",
                                                power_of_attorney="documents/poa2"),
                metadata=running.applicant())
        assert_refused_on_field(refusal(e), "SAME_VEHICLE", "new_vehicle")
        assert list(applicant_view(running, case).vehicle_changes) == []

    def test_a_vehicle_cannot_be_changed_to_another_vehicle_of_the_case_PQ_10(
            self, running: Running) -> None:
        """A fleet trailer with the tractor's very figures: equivalent, yet already on the case."""
        running.fake.servicer.vehicles["vehicles/v2"] = application_pb2.Vehicle(
            plate_number="冀B6789挂", owner="parties/p1", source="FLEET", curb_mass_kg=9000,
            axle_count=3, wheelbase_mm=3500, tyre_count=10)
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/v2",
                                                power_of_attorney="documents/poa2"),
                metadata=running.applicant())
        assert_refused_on_field(refusal(e), "VEHICLE_ALREADY_ON_CASE", "new_vehicle")
