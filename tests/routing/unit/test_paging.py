"""Paging of routing's lists without a database (AIP-158): ListProvinces (AP-7),
ListExpressways (AP-7b), RecommendRoutes (AP-7c) and their page tokens."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from permit_routing import services
from permit_routing.reference import Expressway, Province, ReferenceData, load_reference_data
from permit_routing.routes import Row
from permitkit.paging import InvalidPageSize, InvalidPageToken
from tests.routing.unit.test_services import HA, HB, HE, FakeUnitOfWork, recommend_page, record

REF = load_reference_data()


def walk(fetch: Callable[[str], Any]) -> list[Any]:
    """Every page of a list, following next_page_token; asserts only the last page has none."""
    pages = [fetch("")]
    while pages[-1].next_page_token:
        assert pages[-1].items, "a page with a next token must not be empty"
        pages.append(fetch(pages[-1].next_page_token))
    return pages


def bigger_reference(extra: int) -> ReferenceData:
    """The real data plus ``extra`` made-up provinces and expressways: lists longer than a capped page."""
    provinces = REF.provinces + tuple(Province(code=f"9{i:05d}", name=f"测试省{i}", short=f"测{i}", aliases=())
                                      for i in range(extra))
    expressways = REF.expressways + tuple(Expressway(code=f"G9{i:03d}", name=f"测试{i}高速", from_city="甲",
                                                     to_city="乙", kind="radial") for i in range(extra))
    return dataclasses.replace(REF, provinces=provinces, expressways=expressways)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def tampered(token: str) -> list[str]:
    """Ways a client could alter a token it was given."""
    kind, offset, digest = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":")
    return [
        token[:-1] + ("A" if token[-1] != "A" else "B"),       # one character changed
        token + "=",                                           # another spelling of the same bytes
        token[: len(token) // 2],                              # cut short
        "not a token!",                                        # not base64 at all
        _b64(f"{kind}:{int(offset) + 1}:{digest}"),        # another offset, old digest
        _b64(f"{kind}:-{offset}:{digest}"),                # negative offset
        _b64(f"{kind}:{offset}"),                          # digest dropped
        _b64(f"x:{offset}:{digest}"),                      # unknown kind
        _b64(f"{kind}:{'9' * 30}:{digest}"),               # absurd offset
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),    # not text
    ]


class TestListProvinces:
    def test_without_page_fields_every_province_comes_in_one_page_AP_7(self) -> None:
        page = services.list_provinces(REF)
        assert [p.code for p in page.items] == [p.code for p in REF.provinces]
        assert page.next_page_token == ""
        assert services.PROVINCE_PAGE_SIZE >= 50

    def test_pages_follow_one_another_to_the_last_which_has_no_token_AP_7(self) -> None:
        pages = walk(lambda t: services.list_provinces(REF, page_size=10, page_token=t))
        assert [len(p.items) for p in pages[:-1]] == [10] * (len(pages) - 1)
        assert [p.code for page in pages for p in page.items] == [p.code for p in REF.provinces]
        assert len(pages) == -(-len(REF.provinces) // 10)

    def test_a_page_size_over_the_cap_is_clamped_AP_7(self) -> None:
        ref = bigger_reference(150)
        first = services.list_provinces(ref, page_size=10_000)
        assert len(first.items) == services.PROVINCE_MAX_PAGE_SIZE and first.next_page_token
        rest = services.list_provinces(ref, page_size=10_000, page_token=first.next_page_token)
        assert [p.code for p in first.items + rest.items] == [p.code for p in ref.provinces]
        assert rest.next_page_token == ""

    def test_a_token_from_another_data_version_is_refused_AP_7(self) -> None:
        token = services.list_provinces(REF, page_size=5).next_page_token
        with pytest.raises(InvalidPageToken):
            services.list_provinces(dataclasses.replace(REF, version=REF.version + ".next"), page_token=token)

    def test_a_negative_page_size_is_refused_AP_7(self) -> None:
        with pytest.raises(InvalidPageSize):
            services.list_provinces(REF, page_size=-5)


class TestListExpressways:
    def test_without_page_fields_every_match_comes_in_one_page_AP_7b(self) -> None:
        page = services.list_expressways(REF)
        assert [e.code for e in page.items] == [e.code for e in REF.expressways]
        assert page.next_page_token == ""

    def test_pages_of_a_filtered_list_AP_7b(self) -> None:
        everything = [e.code for e in services.list_expressways(REF, query="g1").items]
        assert len(everything) > 3  # enough matches for several pages
        pages = walk(lambda t: services.list_expressways(REF, query="g1", page_size=3, page_token=t))
        assert [e.code for page in pages for e in page.items] == everything

    def test_a_token_sent_with_another_query_is_refused_AP_7b(self) -> None:
        token = services.list_expressways(REF, query="g1", page_size=2).next_page_token
        assert token
        assert services.list_expressways(REF, query=" G1 ", page_size=2, page_token=token).items
        with pytest.raises(InvalidPageToken) as e:
            services.list_expressways(REF, query="g2", page_size=2, page_token=token)
        assert e.value.field == "page_token"

    def test_a_page_size_over_the_cap_is_clamped_AP_7b(self) -> None:
        ref = bigger_reference(300)
        first = services.list_expressways(ref, page_size=10_000)
        assert len(first.items) == services.EXPRESSWAY_MAX_PAGE_SIZE and first.next_page_token
        pages = walk(lambda t: services.list_expressways(ref, page_size=10_000, page_token=t))
        assert [e.code for page in pages for e in page.items] == [e.code for e in ref.expressways]


class TestRecommendRoutesPaging:
    @staticmethod
    def history(count: int) -> FakeUnitOfWork:
        uow = FakeUnitOfWork()
        for i in range(count):
            record(uow, f"e{i}", "parties/p1", [Row(HE, (f"S{i}",)), Row(HA, ("G4",)), Row(HB, ("G4",))])
        return uow

    def test_pages_follow_the_ranking_to_the_last_which_has_no_token_AP_7c(self) -> None:
        uow = self.history(12)
        ranking = [r.rows for r in recommend_page(uow, "parties/p1", page_size=20).items]
        assert len(ranking) == 12
        pages = walk(lambda t: recommend_page(uow, "parties/p1", page_size=5, page_token=t))
        assert [len(p.items) for p in pages] == [5, 5, 2]
        assert [r.rows for page in pages for r in page.items] == ranking

    def test_the_first_page_without_page_fields_is_the_default_size_AP_7c(self) -> None:
        page = recommend_page(self.history(8), "parties/p1")
        assert len(page.items) == services.DEFAULT_PAGE_SIZE and page.next_page_token

    def test_a_page_size_over_the_cap_is_clamped_AP_7c(self) -> None:
        uow = self.history(30)
        first = recommend_page(uow, "parties/p1", page_size=1000)
        assert len(first.items) == services.MAX_PAGE_SIZE and first.next_page_token
        rest = recommend_page(uow, "parties/p1", page_size=1000, page_token=first.next_page_token)
        assert len(rest.items) == 30 - services.MAX_PAGE_SIZE and rest.next_page_token == ""

    @pytest.mark.parametrize("other", [
        {"party": "parties/p2"}, {"destination": HA}, {"origin": HA, "destination": HB}])
    def test_a_token_of_another_party_or_journey_is_refused_AP_7c(self, other: dict[str, str]) -> None:
        uow = self.history(8)
        token = recommend_page(uow, "parties/p1").next_page_token
        args = {"party": "parties/p1", "origin": HE, "destination": HB, **other}
        with pytest.raises(InvalidPageToken):
            recommend_page(uow, args["party"], args["origin"], args["destination"], page_token=token)

    def test_an_altered_token_is_refused_AP_7c(self) -> None:
        uow = self.history(8)
        token = recommend_page(uow, "parties/p1").next_page_token
        for bad in tampered(token):
            with pytest.raises(InvalidPageToken):
                recommend_page(uow, "parties/p1", page_token=bad)
