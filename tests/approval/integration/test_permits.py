"""Permits after issue over gRPC on PostgreSQL: verification (RV-5), abolition (PQ-9),
extension (PQ-11) and, before issue, vehicle change (PQ-10)."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.type import date_pb2

from permit.application.v1 import application_pb2
from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from tests.approval.conftest import HEBEI, JIANGSU, SHANDONG, Running, kind_of, reason_of

pytestmark = pytest.mark.integration


def issued(running: Running, **kw: object) -> pb.Permit:
    return running.issue(running.approve_all(running.accept(running.submit(**kw))))


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


class TestVerification:
    def test_issued_permit_verifies_as_valid_showing_only_number_plates_and_validity_RV_5(
            self, running: Running) -> None:
        permit = issued(running)
        running.clock.set_local(2026, 12, 12)
        v = running.stub.VerifyPermit(svc.VerifyPermitRequest(verification_code=permit.verification_code))
        assert v.result == pb.VERIFICATION_RESULT_VALID
        assert v.permit_number == permit.number
        assert list(v.plate_numbers) == ["冀A12345", "冀B6789挂"]
        assert (v.start_date.day, v.end_date.day) == (10, 20)
        # What a roadside check needs (CT-3), nothing about the holder.
        assert set(f.name for f, _ in v.ListFields()) <= {
            "result", "permit_number", "plate_numbers", "start_date", "end_date", "route",
            "vehicles", "overall", "multi_trip", "issuing_province", "certificate_version",
            "current_certificate_version"}
        assert not {"holder", "applicant", "agent", "phone", "id_number"} & set(
            svc.VerifyPermitResponse.DESCRIPTOR.fields_by_name)

    def test_tampered_or_unknown_code_verifies_as_unknown_RV_5(self, running: Running) -> None:
        permit = issued(running)
        forged = permit.verification_code[:-2] + ("AA" if not permit.verification_code.endswith("AA") else "BB")
        for code in (forged, "PV1.nonexistent.abc", "hello"):
            v = running.stub.VerifyPermit(svc.VerifyPermitRequest(verification_code=code))
            assert v.result == pb.VERIFICATION_RESULT_UNKNOWN and v.permit_number == ""

    def test_expired_and_not_yet_valid_permits_RV_5(self, running: Running) -> None:
        permit = issued(running)
        code = permit.verification_code
        assert running.stub.VerifyPermit(svc.VerifyPermitRequest(verification_code=code)).result == \
            pb.VERIFICATION_RESULT_NOT_YET_VALID
        running.clock.set_local(2026, 12, 21)
        assert running.stub.VerifyPermit(svc.VerifyPermitRequest(verification_code=code)).result == \
            pb.VERIFICATION_RESULT_EXPIRED
        got = running.stub.GetPermit(svc.GetPermitRequest(name=permit.name), metadata=running.applicant())
        assert got.state == pb.PERMIT_STATE_EXPIRED

    def test_multi_trip_permit_is_valid_at_most_six_months(self, running: Running) -> None:
        permit = issued(running, multi_trip=True, start=dt.date(2026, 12, 10),
                        end=dt.date(2027, 12, 31))
        assert (permit.end_date.year, permit.end_date.month, permit.end_date.day) == (2027, 6, 9)


class TestPermitAccess:
    def test_holder_and_route_officers_read_a_permit_others_do_not_RV_5(self, running: Running) -> None:
        permit = issued(running)
        assert running.stub.GetPermit(svc.GetPermitRequest(name=permit.name),
                                      metadata=running.applicant()).number == permit.number
        assert running.stub.GetPermit(svc.GetPermitRequest(name=permit.name),
                                      metadata=running.officer(JIANGSU)).number == permit.number
        for md, reason in ((running.officer("440000"), "OTHER_PROVINCE"),
                           (running.applicant("parties/other"), "PERMIT_NOT_FOUND")):
            with pytest.raises(grpc.RpcError) as e:
                running.stub.GetPermit(svc.GetPermitRequest(name=permit.name), metadata=md)
            assert reason_of(e.value) == reason
        with pytest.raises(grpc.RpcError) as e:
            running.stub.GetPermit(svc.GetPermitRequest(name=permit.name))
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


class TestNumbers:
    def test_permits_issued_at_once_get_distinct_consecutive_numbers_RV_5(self, running: Running) -> None:
        import threading

        cases = [running.approve_all(running.accept(running.submit(application=f"applications/N{i}")))
                 for i in range(3)]
        barrier = threading.Barrier(len(cases))
        numbers: list[str] = []

        def issue(case: pb.Case) -> None:
            barrier.wait()
            numbers.append(running.issue(case).number)

        threads = [threading.Thread(target=issue, args=(c,)) for c in cases]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(numbers) == ["132026000001", "132026000002", "132026000003"]


class TestAbolition:
    def test_holder_abolishes_an_issued_permit_PQ_9(self, running: Running) -> None:
        permit = issued(running)
        with pytest.raises(grpc.RpcError) as e:
            running.stub.AbolishPermit(svc.AbolishPermitRequest(name=permit.name),
                                       metadata=running.applicant("parties/other"))
        assert reason_of(e.value) == "PERMIT_NOT_FOUND"
        permit = running.stub.AbolishPermit(svc.AbolishPermitRequest(name=permit.name, reason="运输完成"),
                                            metadata=running.applicant())
        assert permit.state == pb.PERMIT_STATE_ABOLISHED
        v = running.stub.VerifyPermit(svc.VerifyPermitRequest(verification_code=permit.verification_code))
        assert v.result == pb.VERIFICATION_RESULT_ABOLISHED
        with pytest.raises(grpc.RpcError) as e:
            running.stub.AbolishPermit(svc.AbolishPermitRequest(name=permit.name),
                                       metadata=running.applicant())
        assert reason_of(e.value) == "PERMIT_NOT_ACTIVE"
        running.deliver()
        ev = running.fake.servicer.events[-1]
        assert kind_of(ev) == "PERMIT_ABOLISHED" and ev.permit == permit.name


class TestExtension:
    def test_extension_approved_by_every_chosen_province_moves_the_end_date_PQ_11(
            self, running: Running) -> None:
        permit = issued(running)
        permit = running.stub.RequestExtension(
            svc.RequestExtensionRequest(permit=permit.name, new_end_date=d(2026, 12, 27),
                                        provinces=[SHANDONG, JIANGSU], reason="设备到货延迟"),
            metadata=running.applicant())
        ext = permit.extensions[0]
        assert ext.state == pb.CHANGE_REQUEST_STATE_PENDING
        # The chosen provinces find it in their work queue; the others do not.
        for province, expected in ((SHANDONG, [permit.name]), (HEBEI, [])):
            queue = running.stub.ListWorkQueue(svc.ListWorkQueueRequest(),
                                               metadata=running.officer(province, "officer.review"))
            assert [p.name for p in queue.extension_permits] == expected
        with pytest.raises(grpc.RpcError) as e:
            running.stub.DecideExtension(svc.DecideExtensionRequest(name=ext.name, decision=pb.DECISION_APPROVE),
                                         metadata=running.officer(HEBEI))
        assert reason_of(e.value) == "OTHER_PROVINCE"  # Hebei was not asked
        permit = running.stub.DecideExtension(
            svc.DecideExtensionRequest(name=ext.name, decision=pb.DECISION_APPROVE),
            metadata=running.officer(SHANDONG))
        assert permit.end_date.day == 20 and permit.state == pb.PERMIT_STATE_VALID
        queue = running.stub.ListWorkQueue(svc.ListWorkQueueRequest(),
                                           metadata=running.officer(SHANDONG, "officer.review"))
        assert list(queue.extension_permits) == []  # decided: no longer waiting for Shandong
        permit = running.stub.DecideExtension(
            svc.DecideExtensionRequest(name=ext.name, decision=pb.DECISION_APPROVE),
            metadata=running.officer(JIANGSU))
        assert permit.end_date.day == 27 and permit.state == pb.PERMIT_STATE_EXTENDED
        assert permit.extensions[0].state == pb.CHANGE_REQUEST_STATE_APPROVED
        running.deliver()
        ev = running.fake.servicer.events[-1]
        assert kind_of(ev) == "PERMIT_EXTENDED"
        assert ev.validity.end_date.day == 27 and list(ev.provinces) == [SHANDONG, JIANGSU]

    def test_one_denial_denies_the_extension_PQ_11(self, running: Running) -> None:
        permit = issued(running)
        permit = running.stub.RequestExtension(
            svc.RequestExtensionRequest(permit=permit.name, new_end_date=d(2026, 12, 27),
                                        provinces=[SHANDONG], reason="延误"),
            metadata=running.applicant())
        permit = running.stub.DecideExtension(
            svc.DecideExtensionRequest(name=permit.extensions[0].name, decision=pb.DECISION_DENY,
                                       reason="施工期间不予延期"),
            metadata=running.officer(SHANDONG))
        assert permit.extensions[0].state == pb.CHANGE_REQUEST_STATE_DENIED
        assert permit.end_date.day == 20

    def test_the_extra_days_pass_the_duplicate_check_first_and_a_denial_gives_them_back_PQ_11_AP_6(
            self, running: Running) -> None:
        permit = issued(running)
        fake = running.fake.servicer
        fake.full_plates = {"冀B6789挂"}
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestExtension(
                svc.RequestExtensionRequest(permit=permit.name, new_end_date=d(2026, 12, 27),
                                            provinces=[SHANDONG], reason="延误"), metadata=running.applicant())
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and reason_of(e.value) == "VEHICLE_TIME_CONFLICT"
        assert list(running.stub.GetPermit(svc.GetPermitRequest(name=permit.name),
                                           metadata=running.applicant()).extensions) == []
        fake.full_plates = set()
        permit = running.stub.RequestExtension(
            svc.RequestExtensionRequest(permit=permit.name, new_end_date=d(2026, 12, 27),
                                        provinces=[SHANDONG], reason="延误"), metadata=running.applicant())
        ext = permit.extensions[0]
        [held] = fake.reserved
        assert held.key == ext.name and held.application == permit.application
        assert (list(held.plate_numbers), held.start_date.day, held.end_date.day) == (
            list(permit.plate_numbers), 21, 27)  # only the days the permit does not cover yet
        running.stub.DecideExtension(svc.DecideExtensionRequest(name=ext.name, decision=pb.DECISION_DENY,
                                                                reason="施工期间不予延期"),
                                     metadata=running.officer(SHANDONG))
        running.deliver()
        [decided] = fake.decisions  # the application service gives the days back on reading it
        assert (decided.approved, decided.extension) == (False, ext.name)
        assert fake.released == []

    def test_extension_must_move_the_end_later_and_stay_on_the_route_PQ_11(
            self, running: Running) -> None:
        permit = issued(running)
        for kw, reason in (
                ({"new_end_date": d(2026, 12, 15), "provinces": [SHANDONG]}, "NEW_END_DATE_INVALID"),
                ({"new_end_date": d(2026, 12, 27), "provinces": ["440000"]}, "PROVINCE_NOT_ON_ROUTE"),
                ({"new_end_date": d(2026, 12, 27), "provinces": []}, "PROVINCES_REQUIRED")):
            with pytest.raises(grpc.RpcError) as e:
                running.stub.RequestExtension(
                    svc.RequestExtensionRequest(permit=permit.name, reason="原因", **kw),
                    metadata=running.applicant())
            assert reason_of(e.value) == reason


class TestVehicleChange:
    def _fleet(self, running: Running, **over: int) -> None:
        spec = dict(curb_mass_kg=9000, axle_count=3, wheelbase_mm=3500, tyre_count=10)
        spec.update(over)
        running.fake.servicer.vehicles["vehicles/v9"] = application_pb2.Vehicle(
            plate_number="冀A99999", owner="parties/p1", source="FLEET", **spec)

    def test_change_to_an_identical_fleet_vehicle_is_approved_and_carried_by_the_permit_PQ_10(
            self, running: Running) -> None:
        self._fleet(running)
        case = running.accept(running.submit())
        case = running.stub.RequestVehicleChange(
            svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                            new_vehicle="vehicles/v9",
                                            power_of_attorney="documents/poa2"),
            metadata=running.applicant())
        change = case.vehicle_changes[0]
        assert change.state == pb.CHANGE_REQUEST_STATE_PENDING and change.new_plate_number == "冀A99999"
        case = running.stub.DecideVehicleChange(
            svc.DecideVehicleChangeRequest(name=change.name, decision=pb.DECISION_APPROVE),
            metadata=running.officer(HEBEI))
        assert list(case.plate_numbers) == ["冀A99999", "冀B6789挂"]
        permit = running.issue(running.approve_all(case))
        assert list(permit.plate_numbers) == ["冀A99999", "冀B6789挂"]
        running.deliver()
        ev = next(e for e in running.fake.servicer.events
                  if kind_of(e) == "VEHICLE_CHANGED")
        assert (ev.old_plate_number, ev.new_plate_number) == ("冀A12345", "冀A99999")

    def test_a_change_onto_a_vehicle_whose_time_is_full_is_refused_and_not_recorded_PQ_10_AP_6(
            self, running: Running) -> None:
        self._fleet(running)
        running.fake.servicer.full_plates = {"冀A99999"}
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/v9", power_of_attorney="documents/poa2"),
                metadata=running.applicant())
        assert reason_of(e.value) == "VEHICLE_TIME_CONFLICT" and "冀A99999" in e.value.details()
        case = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.officer(HEBEI))
        assert list(case.vehicle_changes) == []

    def test_a_denied_change_gives_its_vehicle_time_back_PQ_10_AP_6(self, running: Running) -> None:
        self._fleet(running)
        case = running.accept(running.submit())
        case = running.stub.RequestVehicleChange(
            svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                            new_vehicle="vehicles/v9", power_of_attorney="documents/poa2"),
            metadata=running.applicant())
        change = case.vehicle_changes[0]
        [held] = running.fake.servicer.reserved
        assert (held.key, held.application, list(held.plate_numbers)) == (
            change.name, case.application, ["冀A99999"])
        running.stub.DecideVehicleChange(
            svc.DecideVehicleChangeRequest(name=change.name, decision=pb.DECISION_DENY, reason="车辆不符"),
            metadata=running.officer(HEBEI))
        running.deliver()
        [decided] = running.fake.servicer.decisions  # the application service gives the time back
        assert (decided.approved, decided.vehicle_change) == (False, change.name)
        assert running.fake.servicer.released == []

    @pytest.mark.parametrize("field", ["curb_mass_kg", "axle_count", "wheelbase_mm", "tyre_count"])
    def test_vehicle_with_any_different_figure_is_refused_PQ_10(self, running: Running,
                                                                field: str) -> None:
        self._fleet(running, **{field: 1})
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/v9",
                                                power_of_attorney="documents/poa2"),
                metadata=running.applicant())
        assert reason_of(e.value) == "VEHICLE_NOT_EQUIVALENT"

    def test_new_power_of_attorney_is_required_and_vehicle_must_exist_PQ_10(
            self, running: Running) -> None:
        self._fleet(running)
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/v9"),
                metadata=running.applicant())
        assert reason_of(e.value) == "POWER_OF_ATTORNEY_REQUIRED"
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/none",
                                                power_of_attorney="documents/poa2"),
                metadata=running.applicant())
        assert reason_of(e.value) == "VEHICLE_NOT_FOUND"

    def test_a_vehicle_typed_in_on_mobile_is_not_a_fleet_vehicle_PQ_10(self, running: Running) -> None:
        running.fake.servicer.vehicles["vehicles/h1"] = application_pb2.Vehicle(
            plate_number="冀A88888", owner="parties/p1", source="HISTORY", curb_mass_kg=9000,
            axle_count=3, wheelbase_mm=3500, tyre_count=10)
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/h1",
                                                power_of_attorney="documents/poa2"),
                metadata=running.applicant())
        assert reason_of(e.value) == "VEHICLE_NOT_IN_FLEET"

    def test_a_retired_fleet_vehicle_is_not_offered_for_a_change_PQ_10(self, running: Running) -> None:
        """PC-1: the carrier retired it; it stays on permits that carry it but is no change target."""
        from google.protobuf import timestamp_pb2

        running.fake.servicer.vehicles["vehicles/r1"] = application_pb2.Vehicle(
            plate_number="冀A77777", owner="parties/p1", source="FLEET", curb_mass_kg=9000,
            axle_count=3, wheelbase_mm=3500, tyre_count=10, retire_time=timestamp_pb2.Timestamp(seconds=1))
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/r1",
                                                power_of_attorney="documents/poa2"),
                metadata=running.applicant())
        assert reason_of(e.value) == "VEHICLE_NOT_IN_FLEET"

    def test_replaced_vehicle_figures_come_from_the_fleet_when_the_case_has_none_PQ_10(
            self, running: Running) -> None:
        self._fleet(running)
        running.fake.servicer.vehicles["vehicles/v1"] = application_pb2.Vehicle(
            plate_number="冀A12345", owner="parties/p1", source="FLEET", curb_mass_kg=9000,
            axle_count=3, wheelbase_mm=3500, tyre_count=10)
        case = running.accept(running.submit(with_vehicles=False))
        assert list(case.vehicles) == []
        case = running.stub.RequestVehicleChange(
            svc.RequestVehicleChangeRequest(case=case.name, old_plate_number="冀A12345",
                                            new_vehicle="vehicles/v9",
                                            power_of_attorney="documents/poa2"),
            metadata=running.applicant())
        assert case.vehicle_changes[0].state == pb.CHANGE_REQUEST_STATE_PENDING
        # Without figures anywhere the change cannot be checked, so it is refused.
        case2 = running.accept(running.submit(application="applications/A2", with_vehicles=False))
        del running.fake.servicer.vehicles["vehicles/v1"]
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RequestVehicleChange(
                svc.RequestVehicleChangeRequest(case=case2.name, old_plate_number="冀A12345",
                                                new_vehicle="vehicles/v9",
                                                power_of_attorney="documents/poa2"),
                metadata=running.applicant())
        assert reason_of(e.value) == "VEHICLE_SPEC_UNKNOWN"
