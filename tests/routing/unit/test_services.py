"""Routing use cases with a fake unit of work (no database): AP-7b, AP-7c, idempotency."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from structlog.testing import capture_logs

from permit_routing import errors, services
from permit_routing.models import ApprovedRoute
from permit_routing.reference import load_reference_data
from permit_routing.routes import Row
from permitkit.context import Principal
from permitkit.paging import InvalidPageSize

REF = load_reference_data()
HE, HA, HB = "130000", "410000", "420000"
SERVICE = Principal(subject="services/application", roles=frozenset({"service"}))
T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


class FakeRoutes:
    def __init__(self) -> None:
        self.items: list[ApprovedRoute] = []

    def add(self, obj: ApprovedRoute) -> ApprovedRoute:
        self.items.append(obj)
        return obj

    def find(self, *, applicant: str, origin_province: str, destination_province: str, route_key: str,
             for_update: bool = False) -> ApprovedRoute | None:
        return next((r for r in self.items if (r.applicant, r.origin_province, r.destination_province,
                                               r.route_key) == (applicant, origin_province,
                                                                destination_province, route_key)), None)

    def top(self, *, applicant: str, origin_province: str, destination_province: str,
            limit: int, offset: int = 0) -> list[ApprovedRoute]:
        found = [r for r in self.items if (r.applicant, r.origin_province, r.destination_province)
                 == (applicant, origin_province, destination_province)]
        found.sort(key=lambda r: (r.rank_score, r.last_approve_time), reverse=True)
        return found[offset:offset + limit]


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.routes = FakeRoutes()
        self.inbox: set[str] = set()
        self.committed = 0

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def first_delivery(self, event_id: str, topic: str) -> bool:
        if event_id in self.inbox:
            return False
        self.inbox.add(event_id)
        return True

    def commit(self) -> None:
        self.committed += 1


def record(uow: Any, event_id: str, applicant: str, rows: list[Row], *, when: dt.datetime = T0,
           origin: str = HE, destination: str = HB, principal: Principal | None = SERVICE,
           application: str = "applications/A1") -> bool:
    return services.record_approved_route(
        uow, ref=REF, principal=principal, event_id=event_id, applicant=applicant, application=application,
        origin_province=origin, destination_province=destination, rows=rows, approve_time=when)


def recommend_page(uow: Any, party: str | None, origin: str = HE, destination: str = HB,  # type: ignore[no-untyped-def]
                   page_size: int = 0, page_token: str = ""):
    principal = Principal(subject="users/u1", party=party, roles=frozenset({"applicant"}))
    return services.recommend_routes(uow, ref=REF, principal=principal, origin_province=origin,
                                     destination_province=destination, page_size=page_size,
                                     page_token=page_token)


def recommend(uow: Any, party: str | None, origin: str = HE, destination: str = HB, page_size: int = 0):  # type: ignore[no-untyped-def]
    return recommend_page(uow, party, origin, destination, page_size).items


ROUTE_A = [Row(HE, ("G4",)), Row(HA, ("G4",)), Row(HB, ("G4",))]
ROUTE_A_SPELT_DIFFERENTLY = [Row(HE, ("G4京港澳高速",)), Row(HA, ("京港澳高速",)), Row(HB, ("g4",))]
ROUTE_B = [Row(HE, ("G45",)), Row(HA, ("G45",)), Row(HB, ("G70",))]


class TestRecordApprovedRoute:
    def test_repeated_event_is_ignored_and_logged(self) -> None:
        uow = FakeUnitOfWork()
        with capture_logs() as logs:
            assert record(uow, "e1", "parties/p1", ROUTE_A)
            assert not record(uow, "e1", "parties/p1", ROUTE_A)
        (route,) = uow.routes.items
        assert route.times_approved == 1
        assert [(e["event"], e["event_id"]) for e in logs] == [
            ("route_approved_recorded", "e1"), ("route_approved_repeat_ignored", "e1")]

    def test_identical_routes_are_merged_after_normalisation_AP_7c(self) -> None:
        uow = FakeUnitOfWork()
        record(uow, "e1", "parties/p1", ROUTE_A, application="applications/A1")
        record(uow, "e2", "parties/p1", ROUTE_A_SPELT_DIFFERENTLY, when=T0 + dt.timedelta(days=1),
               application="applications/A2")
        (route,) = uow.routes.items
        assert route.times_approved == 2
        assert route.last_application == "applications/A2"
        assert route.rows[1].roads == ("G4京港澳高速",)

    def test_out_of_order_event_keeps_the_latest_approval_AP_7c(self) -> None:
        uow = FakeUnitOfWork()
        record(uow, "e2", "parties/p1", ROUTE_A, when=T0 + dt.timedelta(days=3), application="applications/A2")
        record(uow, "e1", "parties/p1", ROUTE_A, when=T0, application="applications/A1")
        (route,) = uow.routes.items
        assert route.last_approve_time == T0 + dt.timedelta(days=3)
        assert route.last_application == "applications/A2"
        assert route.first_approve_time == T0

    def test_only_services_may_record(self) -> None:
        applicant = Principal(subject="users/u1", party="parties/p1", roles=frozenset({"applicant"}))
        with pytest.raises(errors.ServiceRoleRequired):
            record(FakeUnitOfWork(), "e1", "parties/p1", ROUTE_A, principal=applicant)
        with pytest.raises(errors.ServiceRoleRequired):
            record(FakeUnitOfWork(), "e1", "parties/p1", ROUTE_A, principal=None)

    @pytest.mark.parametrize(("kwargs", "error", "field"), [
        ({"event_id": ""}, errors.EventIdRequired, "event_id"),
        ({"event_id": "x" * 37}, errors.EventIdInvalid, "event_id"),
        ({"applicant": "users/1"}, errors.ApplicantInvalid, "applicant"),
        ({"origin": "999999"}, errors.UnknownProvince, "origin_province"),
        ({"rows": []}, errors.RouteEmpty, "rows"),
        ({"rows": [Row("999999", ("G4",))]}, errors.UnknownProvince, "rows[0].province"),
    ])
    def test_bad_events_are_rejected_with_the_field(self, kwargs: dict[str, Any], error: type[Exception],
                                                    field: str) -> None:
        args: dict[str, Any] = {"event_id": "e1", "applicant": "parties/p1", "rows": ROUTE_A}
        args.update(kwargs)
        with pytest.raises(error) as e:
            record(FakeUnitOfWork(), args.pop("event_id"), args.pop("applicant"), args.pop("rows"), **args)
        assert e.value.field == field  # type: ignore[attr-defined]


class TestRecommendRoutes:
    def test_only_the_callers_own_routes_AP_7c(self) -> None:
        uow = FakeUnitOfWork()
        record(uow, "e1", "parties/p1", ROUTE_A)
        record(uow, "e2", "parties/p2", ROUTE_B)
        mine = recommend(uow, "parties/p1")
        assert [r.rows for r in mine] == [tuple(Row(x.province, ("G4京港澳高速",)) for x in ROUTE_A)]
        assert recommend(uow, "parties/p3") == []

    def test_same_origin_and_destination_only_AP_7c(self) -> None:
        uow = FakeUnitOfWork()
        record(uow, "e1", "parties/p1", ROUTE_A)
        assert recommend(uow, "parties/p1", origin=HB, destination=HE) == []

    def test_ranked_by_frequency_then_recency_AP_7c(self) -> None:
        uow = FakeUnitOfWork()
        record(uow, "e1", "parties/p1", ROUTE_B, when=T0 + dt.timedelta(days=9))
        record(uow, "e2", "parties/p1", ROUTE_A, when=T0)
        record(uow, "e3", "parties/p1", ROUTE_A, when=T0 + dt.timedelta(days=1))
        ranked = recommend(uow, "parties/p1")
        assert [r.times_approved for r in ranked] == [2, 1]

    def test_recent_approvals_outrank_old_frequent_ones_AP_7c(self) -> None:
        uow = FakeUnitOfWork()
        for i in range(3):  # three approvals two years ago
            record(uow, f"old{i}", "parties/p1", ROUTE_B, when=T0 - dt.timedelta(days=730 + i))
        for i in range(2):  # two approvals last week
            record(uow, f"new{i}", "parties/p1", ROUTE_A, when=T0 - dt.timedelta(days=7 + i))
        assert [r.times_approved for r in recommend(uow, "parties/p1")] == [2, 3]

    def test_page_size_default_and_cap(self) -> None:
        uow = FakeUnitOfWork()
        for i in range(30):
            record(uow, f"e{i}", "parties/p1", [Row(HE, (f"S{i}",)), Row(HA, ("G4",)), Row(HB, ("G4",))])
        assert len(recommend(uow, "parties/p1")) == services.DEFAULT_PAGE_SIZE
        assert len(recommend(uow, "parties/p1", page_size=100)) == services.MAX_PAGE_SIZE
        with pytest.raises(InvalidPageSize):
            recommend(uow, "parties/p1", page_size=-1)

    def test_a_caller_without_a_party_is_refused_AP_7c(self) -> None:
        with pytest.raises(errors.PartyRequired):
            recommend(FakeUnitOfWork(), None)
        with pytest.raises(errors.SignInRequired):
            services.recommend_routes(FakeUnitOfWork(), ref=REF, principal=None, origin_province=HE,  # type: ignore[arg-type]
                                      destination_province=HB)

    def test_unknown_province_names_the_field(self) -> None:
        with pytest.raises(errors.UnknownProvince) as e:
            recommend(FakeUnitOfWork(), "parties/p1", destination="000000")
        assert e.value.field == "destination_province"


def test_parse_rejects_text_over_the_limit_AP_7b() -> None:
    with pytest.raises(errors.RouteTextTooLong) as e:
        services.parse_route_text(REF, text="河" * (services.MAX_TEXT_LENGTH + 1))
    assert e.value.field == "text"


def test_list_expressways_filters_by_code_or_name() -> None:
    assert [e.code for e in services.list_expressways(REF, query="京港").items] == ["G4"]
    assert "G45" in [e.code for e in services.list_expressways(REF, query="g4").items]
    assert len(services.list_expressways(REF).items) == 41
