"""Use cases against an in-memory unit of work: permissions, idempotency, events (RV-1 to RV-5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from permit_approval import services
from permit_approval.clients import DocumentInfo
from permit_approval.models import Decision
from permit_approval.verification import PermitSigner
from permitkit.context import Principal
from permitkit.errors import PermissionDenied, PermitError
from tests.approval.unit.fakes import FakeUnitOfWork

HEBEI, SHANDONG = "130000", "370000"
NOW = dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
SERVICE = Principal(subject="services/application", roles=frozenset({"service"}))


def officer(province: str, ident: str = "1") -> Principal:
    return Principal(subject=f"officers/{province}-{ident}", province=province,
                     roles=frozenset({"officer.accept", "officer.review"}))


def submission(**over: Any) -> services.Submission:
    kw: dict[str, Any] = dict(application="applications/A1", application_number="DJ1",
                              applicant="parties/p1", origin_province=HEBEI,
                              destination_province=SHANDONG, route_provinces=[HEBEI, SHANDONG],
                              permit_class=1, start_date=dt.date(2026, 12, 10),
                              end_date=dt.date(2026, 12, 12))
    kw.update(over)
    return services.Submission(**kw)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def create(uow: FakeUnitOfWork, event_id: str = "e1", **over: Any) -> Any:
    return services.create_case(uow, principal=SERVICE, event_id=event_id,  # type: ignore[arg-type]
                                submission=submission(**over), now=NOW)[0]


class TestCreateCase:
    def test_the_same_event_twice_opens_one_case_RV_1(self, uow: FakeUnitOfWork) -> None:
        a = create(uow)
        b = create(uow)
        assert a is b and len(uow.cases.rows) == 1

    def test_a_caller_without_the_service_role_is_refused(self, uow: FakeUnitOfWork) -> None:
        with pytest.raises(PermissionDenied) as e:
            services.create_case(uow, principal=officer(HEBEI), event_id="e1",  # type: ignore[arg-type]
                                 submission=submission(), now=NOW)
        assert e.value.reason == "NOT_SERVICE"
        assert uow.cases.rows == {}

    def test_an_event_id_is_required(self, uow: FakeUnitOfWork) -> None:
        with pytest.raises(PermitError) as e:
            create(uow, event_id="")
        assert e.value.reason == "EVENT_ID_REQUIRED"


class TestDocumentGrants:
    """Issue 6: officers of the provinces reviewing an application may read its documents."""

    def test_a_new_case_grants_its_documents_to_every_route_province_RV_1(
            self, uow: FakeUnitOfWork) -> None:
        create(uow, documents=["documents/d1", "documents/d2", "documents/d1"])
        assert uow.grants == [{"application": "applications/A1", "provinces": [HEBEI, SHANDONG],
                               "documents": ["documents/d1", "documents/d2"]}]

    def test_a_repeated_submission_grants_nothing_more_RV_1(self, uow: FakeUnitOfWork) -> None:
        create(uow, documents=["documents/d1"])
        create(uow, documents=["documents/d1"])
        create(uow, event_id="e2", documents=["documents/d1"])  # same submission number
        assert len(uow.grants) == 1

    def test_a_case_without_documents_grants_nothing(self, uow: FakeUnitOfWork) -> None:
        create(uow)
        assert uow.grants == []

    def test_a_refused_create_grants_nothing(self, uow: FakeUnitOfWork) -> None:
        with pytest.raises(PermissionDenied):
            services.create_case(uow, principal=officer(HEBEI), event_id="e1",  # type: ignore[arg-type]
                                 submission=submission(documents=["documents/d1"]), now=NOW)
        assert uow.grants == []


class TestDecisionsQueueEvents:
    def test_accept_and_decide_queue_events_in_the_same_commit_RV_1_RV_3(
            self, uow: FakeUnitOfWork) -> None:
        case = create(uow)
        services.accept_case(uow, principal=officer(HEBEI), name=case.name, etag="", now=NOW)  # type: ignore[arg-type]
        assert [e["kind"] for e in uow.outbox] == ["CASE_ACCEPTED"]
        for p in (HEBEI, SHANDONG):
            services.decide_review(uow, principal=officer(p), name=f"{case.name}/reviews/{p}",  # type: ignore[arg-type]
                                   decision=Decision.APPROVE, reason="", suggested_route=[],
                                   conditions=[], etag="", now=NOW)
        permit = services.issue_permit(uow, principal=officer(HEBEI), case_name=case.name, now=NOW)  # type: ignore[arg-type]
        assert [e["kind"] for e in uow.outbox] == [
            "CASE_ACCEPTED", "PROVINCE_APPROVED", "PROVINCE_APPROVED", "PERMIT_ISSUED"]
        assert uow.outbox[-1]["permit_number"] == permit.number == "132026000001"

    def test_a_refused_decision_queues_nothing(self, uow: FakeUnitOfWork) -> None:
        case = create(uow)
        before = len(uow.outbox)
        with pytest.raises(PermissionDenied):
            services.accept_case(uow, principal=officer(SHANDONG), name=case.name, etag="",  # type: ignore[arg-type]
                                 now=NOW)
        assert len(uow.outbox) == before

    def test_a_malformed_review_name_is_invalid(self, uow: FakeUnitOfWork) -> None:
        with pytest.raises(PermitError) as e:
            services.decide_review(uow, principal=officer(HEBEI), name="cases/x/130000",  # type: ignore[arg-type]
                                   decision=Decision.APPROVE, reason="", suggested_route=[],
                                   conditions=[], etag="", now=NOW)
        assert e.value.reason == "NAME_INVALID"


APPLICANT = Principal(subject="users/u1", party="parties/p1", roles=frozenset({"applicant"}))


class StubDocuments:
    """The documents service as the caller sees it; records what it was asked."""

    def __init__(self, *docs: DocumentInfo) -> None:
        self.docs = {d.name: d for d in docs}
        self.asked: list[str] = []

    def find(self, name: str) -> DocumentInfo | None:
        self.asked.append(name)
        return self.docs.get(name)


class StubFleet:
    def get_vehicle(self, name: str) -> dict[str, Any]:
        return {"plate_number": "冀A99999", "owner": "parties/p1", "source": "FLEET"}

    def find_by_plate(self, plate_number: str) -> dict[str, Any] | None:
        return None


class TestDocumentReferences:
    """An escort plan (PQ-7) or power of attorney (PQ-10) named by the applicant must be its own."""

    def adjusted(self, uow: FakeUnitOfWork) -> Any:
        case = create(uow, documents=["documents/d1"])
        services.accept_case(uow, principal=officer(HEBEI), name=case.name, etag="", now=NOW)  # type: ignore[arg-type]
        services.decide_review(uow, principal=officer(SHANDONG),  # type: ignore[arg-type]
                               name=f"{case.name}/reviews/{SHANDONG}",
                               decision=Decision.REQUIRE_ADJUSTMENT, reason="施工",
                               suggested_route=[{"province": SHANDONG, "roads": ["G2"]}],
                               conditions=[], etag="", now=NOW)
        return case

    def respond(self, uow: FakeUnitOfWork, case: Any, documents: StubDocuments,
                escort_plan: str) -> Any:
        return services.respond_to_adjustment(
            uow, documents=documents, principal=APPLICANT,  # type: ignore[arg-type]
            name=f"{case.name}/reviews/{SHANDONG}", accept=True, escort_plan=escort_plan,
            etag="", now=NOW)

    def test_a_document_readable_but_not_owned_is_not_found_PQ_7(self, uow: FakeUnitOfWork) -> None:
        """Reading rights other than ownership (a province's grant) never make a document yours."""
        case = self.adjusted(uow)
        grants_before = len(uow.grants)
        docs = StubDocuments(DocumentInfo("documents/x", "parties/p2", services.ESCORT_PLAN))
        with pytest.raises(PermitError) as e:
            self.respond(uow, case, docs, "documents/x")
        assert (e.value.reason, e.value.field) == ("DOCUMENT_REFERENCE_INVALID", "escort_plan")
        assert case.documents == ["documents/d1"] and len(uow.grants) == grants_before

    def test_an_own_escort_plan_joins_the_case_and_is_granted_PQ_7(self, uow: FakeUnitOfWork) -> None:
        case = self.adjusted(uow)
        docs = StubDocuments(DocumentInfo("documents/e", "parties/p1", services.ESCORT_PLAN))
        self.respond(uow, case, docs, "documents/e")
        assert docs.asked == ["documents/e"]
        assert uow.grants[-1]["documents"] == ["documents/e"]

    def test_a_vehicle_change_names_the_power_of_attorney_of_another_party_PQ_10(
            self, uow: FakeUnitOfWork) -> None:
        case = create(uow)
        services.accept_case(uow, principal=officer(HEBEI), name=case.name, etag="", now=NOW)  # type: ignore[arg-type]
        docs = StubDocuments(DocumentInfo("documents/x", "parties/p2", services.POWER_OF_ATTORNEY))
        with pytest.raises(PermitError) as e:
            services.request_vehicle_change(
                uow, fleet=StubFleet(), documents=docs, principal=APPLICANT,  # type: ignore[arg-type]
                case_name=case.name, old_plate_number="冀A12345", new_vehicle="vehicles/v9",
                power_of_attorney="documents/x", now=NOW)
        assert (e.value.reason, e.value.field) == ("DOCUMENT_REFERENCE_INVALID", "power_of_attorney")
        assert case.vehicle_changes == []


class MovingRoutes:
    """The routing service's check, during which the case's route changes ``moves`` times
    (another province's adjustment accepted meanwhile); records the routes it checked."""

    def __init__(self, uow: FakeUnitOfWork, moves: int) -> None:
        self.uow, self.moves = uow, moves
        self.checked: list[list[tuple[str, list[str]]]] = []

    def validate(self, *, origin: str, destination: str, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
        self.checked.append([(r["province"], list(r["roads"])) for r in rows])
        if self.moves:
            self.moves -= 1
            case = next(iter(self.uow.cases.rows.values()))
            case.route = [{"province": HEBEI, "roads": [f"G{len(self.checked) + 10}"]}, *case.route[1:]]
        return []


class TestRouteAdjustmentOnAMovingRoute:
    """PQ-7: a suggested route is validated as part of the whole route; when that route
    changes during the check, the suggestion is checked again on the route as it is now."""

    ROUTE = [{"province": HEBEI, "roads": ["G1"]}, {"province": SHANDONG, "roads": ["G3"]}]

    def propose(self, uow: FakeUnitOfWork, routes: MovingRoutes) -> Any:
        case = create(uow, route=self.ROUTE)
        services.accept_case(uow, principal=officer(HEBEI), name=case.name, etag="", now=NOW)  # type: ignore[arg-type]
        return services.decide_review(uow, principal=officer(SHANDONG),  # type: ignore[arg-type]
                                      name=f"{case.name}/reviews/{SHANDONG}",
                                      decision=Decision.REQUIRE_ADJUSTMENT, reason="施工",
                                      suggested_route=[{"province": SHANDONG, "roads": ["G2"]}],
                                      conditions=[], etag="", now=NOW, routes=routes)  # type: ignore[arg-type]

    def test_a_route_changed_during_the_check_is_checked_again_and_the_adjustment_proposed_PQ_7(
            self, uow: FakeUnitOfWork) -> None:
        routes = MovingRoutes(uow, moves=1)
        case = self.propose(uow, routes)
        assert routes.checked == [[(HEBEI, ["G1"]), (SHANDONG, ["G2"])],
                                  [(HEBEI, ["G11"]), (SHANDONG, ["G2"])]]
        review = next(r for r in case.reviews if r.province == SHANDONG)
        assert review.state == "ADJUSTMENT_PROPOSED"

    def test_a_route_that_keeps_changing_is_refused_as_a_concurrent_update_and_nothing_is_decided_PQ_7(
            self, uow: FakeUnitOfWork) -> None:
        routes = MovingRoutes(uow, moves=services.ROUTE_CHECK_ATTEMPTS)
        with pytest.raises(PermitError) as e:
            self.propose(uow, routes)
        assert e.value.reason == "CONCURRENT_UPDATE"
        assert len(routes.checked) == services.ROUTE_CHECK_ATTEMPTS
        case = next(iter(uow.cases.rows.values()))
        assert next(r for r in case.reviews if r.province == SHANDONG).state == "PENDING"


class TestVerify:
    def test_verification_needs_no_principal_and_reveals_the_state_RV_5(
            self, uow: FakeUnitOfWork) -> None:
        case = create(uow)
        services.accept_case(uow, principal=officer(HEBEI), name=case.name, etag="", now=NOW)  # type: ignore[arg-type]
        for p in (HEBEI, SHANDONG):
            services.decide_review(uow, principal=officer(p), name=f"{case.name}/reviews/{p}",  # type: ignore[arg-type]
                                   decision=Decision.APPROVE, reason="", suggested_route=[],
                                   conditions=[], etag="", now=NOW)
        permit = services.issue_permit(uow, principal=officer(HEBEI), case_name=case.name, now=NOW)  # type: ignore[arg-type]
        signer = PermitSigner(b"x" * 32)
        during = dt.datetime(2026, 12, 11, 2, tzinfo=dt.UTC)
        v = services.verify_permit(uow, signer=signer, verification_code=signer.sign(permit.id), now=during)  # type: ignore[arg-type]
        assert v.result == "VALID" and v.permit is permit
        assert services.verify_permit(uow, signer=PermitSigner(b"y" * 32),  # type: ignore[arg-type]
                                      verification_code=signer.sign(permit.id), now=during).result == "UNKNOWN"
