"""Paging of RoutingService's lists over a real gRPC server on PostgreSQL (AIP-158):
ListProvinces (AP-7), ListExpressways (AP-7b), RecommendRoutes (AP-7c)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from permit.routing.v1 import routing_service_pb2 as pb
from permit.routing.v1 import routing_service_pb2_grpc as pb_grpc
from permit_routing import services
from permit_routing.reference import load_reference_data
from permitkit.errors import ErrorDetails
from tests.routing.integration.test_routing_service import HA, HB, HE, applicant_md, party, record, rows

pytestmark = pytest.mark.integration

REF = load_reference_data()


def walk(call: Callable[[str], Any], items: str) -> list[Any]:
    """Every page, following next_page_token; only the last page may come without one."""
    pages = [call("")]
    while pages[-1].next_page_token:
        assert list(getattr(pages[-1], items)), "a page with a next token must not be empty"
        pages.append(call(pages[-1].next_page_token))
    return pages


def refused(call: Callable[[], Any]) -> ErrorDetails:
    with pytest.raises(grpc.RpcError) as e:
        call()
    return ErrorDetails.from_rpc_error(e.value)


def assert_bad_token(details: ErrorDetails) -> None:
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.reason == "INVALID_PAGE_TOKEN"
    assert [v.field for v in details.violations] == ["page_token"]


def altered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


class TestListProvinces:
    def test_a_call_without_page_fields_still_gets_every_province_AP_7(
            self, stub: pb_grpc.RoutingServiceStub) -> None:
        resp = stub.ListProvinces(pb.ListProvincesRequest(), timeout=10)
        assert [p.code for p in resp.provinces] == [p.code for p in REF.provinces]
        assert resp.next_page_token == "" and resp.data_version == REF.version

    def test_first_next_and_last_page_AP_7(self, stub: pb_grpc.RoutingServiceStub) -> None:
        pages = walk(lambda t: stub.ListProvinces(pb.ListProvincesRequest(page_size=8, page_token=t),
                                                  timeout=10), "provinces")
        assert len(pages[0].provinces) == 8 and pages[0].next_page_token
        assert pages[-1].next_page_token == "" and 0 < len(pages[-1].provinces) <= 8
        assert [p.code for page in pages for p in page.provinces] == [p.code for p in REF.provinces]

    def test_a_page_size_over_the_cap_answers_one_capped_page_AP_7(self, stub: pb_grpc.RoutingServiceStub) -> None:
        resp = stub.ListProvinces(pb.ListProvincesRequest(page_size=1_000_000), timeout=10)
        assert len(resp.provinces) == min(len(REF.provinces), services.PROVINCE_MAX_PAGE_SIZE)

    def test_an_altered_token_is_refused_AP_7(self, stub: pb_grpc.RoutingServiceStub) -> None:
        token = stub.ListProvinces(pb.ListProvincesRequest(page_size=8), timeout=10).next_page_token
        assert_bad_token(refused(lambda: stub.ListProvinces(
            pb.ListProvincesRequest(page_size=8, page_token=altered(token)), timeout=10)))

    def test_a_negative_page_size_is_refused_AP_7(self, stub: pb_grpc.RoutingServiceStub) -> None:
        d = refused(lambda: stub.ListProvinces(pb.ListProvincesRequest(page_size=-1), timeout=10))
        assert (d.code, d.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_SIZE")


class TestListExpressways:
    def test_a_call_without_page_fields_still_gets_every_expressway_AP_7b(
            self, stub: pb_grpc.RoutingServiceStub) -> None:
        resp = stub.ListExpressways(pb.ListExpresswaysRequest(), timeout=10)
        assert [e.code for e in resp.expressways] == [e.code for e in REF.expressways]
        assert resp.next_page_token == ""

    def test_pages_of_a_filtered_list_AP_7b(self, stub: pb_grpc.RoutingServiceStub) -> None:
        whole = stub.ListExpressways(pb.ListExpresswaysRequest(query="G1"), timeout=10)
        pages = walk(lambda t: stub.ListExpressways(
            pb.ListExpresswaysRequest(query="G1", page_size=4, page_token=t), timeout=10), "expressways")
        assert len(pages) >= 2 and pages[-1].next_page_token == ""
        assert [e.code for page in pages for e in page.expressways] == [e.code for e in whole.expressways]

    def test_a_page_size_over_the_cap_answers_one_capped_page_AP_7b(
            self, stub: pb_grpc.RoutingServiceStub) -> None:
        resp = stub.ListExpressways(pb.ListExpresswaysRequest(page_size=1_000_000), timeout=10)
        assert len(resp.expressways) == min(len(REF.expressways), services.EXPRESSWAY_MAX_PAGE_SIZE)

    def test_an_altered_token_or_another_query_is_refused_AP_7b(self, stub: pb_grpc.RoutingServiceStub) -> None:
        token = stub.ListExpressways(pb.ListExpresswaysRequest(query="G1", page_size=4), timeout=10).next_page_token
        assert_bad_token(refused(lambda: stub.ListExpressways(
            pb.ListExpresswaysRequest(query="G1", page_size=4, page_token=altered(token)), timeout=10)))
        assert_bad_token(refused(lambda: stub.ListExpressways(
            pb.ListExpresswaysRequest(query="G2", page_size=4, page_token=token), timeout=10)))


class TestRecommendRoutes:
    @staticmethod
    def history(stub: pb_grpc.RoutingServiceStub, count: int) -> str:
        """A party with ``count`` distinct approved routes 河北 -> 湖北, newest most often approved."""
        me = party()
        for i in range(count):
            record(stub, me, rows((HE, [f"S{i}"]), (HA, ["G4"]), (HB, ["G4"])), days=i)
        return me

    @staticmethod
    def ask(stub: pb_grpc.RoutingServiceStub, me: str, *, page_size: int = 0, page_token: str = "",
            destination: str = HB) -> pb.RecommendRoutesResponse:
        return stub.RecommendRoutes(pb.RecommendRoutesRequest(
            origin_province=HE, destination_province=destination, page_size=page_size, page_token=page_token),
            metadata=applicant_md(me), timeout=10)

    def test_first_next_and_last_page_follow_the_ranking_AP_7c(self, stub: pb_grpc.RoutingServiceStub) -> None:
        me = self.history(stub, 12)
        ranking = [r.rows[0].roads[0] for r in self.ask(stub, me, page_size=20).routes]
        assert ranking == [f"S{i}" for i in reversed(range(12))]  # the most recent first
        pages = walk(lambda t: self.ask(stub, me, page_size=5, page_token=t), "routes")
        assert [len(p.routes) for p in pages] == [5, 5, 2]
        assert [r.rows[0].roads[0] for p in pages for r in p.routes] == ranking

    def test_without_page_fields_the_first_page_is_as_before_AP_7c(self, stub: pb_grpc.RoutingServiceStub) -> None:
        me = self.history(stub, 3)
        resp = self.ask(stub, me)
        assert len(resp.routes) == 3 and resp.next_page_token == ""

    def test_a_page_size_over_the_cap_is_clamped_AP_7c(self, stub: pb_grpc.RoutingServiceStub) -> None:
        me = self.history(stub, services.MAX_PAGE_SIZE + 3)
        first = self.ask(stub, me, page_size=1000)
        assert len(first.routes) == services.MAX_PAGE_SIZE and first.next_page_token
        last = self.ask(stub, me, page_size=1000, page_token=first.next_page_token)
        assert len(last.routes) == 3 and last.next_page_token == ""

    def test_an_altered_token_or_another_journey_or_party_is_refused_AP_7c(
            self, stub: pb_grpc.RoutingServiceStub) -> None:
        me = self.history(stub, 7)
        token = self.ask(stub, me).next_page_token
        assert token
        assert_bad_token(refused(lambda: self.ask(stub, me, page_token=altered(token))))
        assert_bad_token(refused(lambda: self.ask(stub, me, page_token=token, destination=HA)))
        assert_bad_token(refused(lambda: self.ask(stub, party(), page_token=token)))
