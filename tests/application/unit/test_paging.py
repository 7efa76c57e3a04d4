"""Paging of the suggestion lists and the audit trail (AIP-158), with the in-memory unit of work:
pages follow one another without repeats or gaps, the last page has no token, a page
size is defaulted and capped, and a token the service did not hand out is refused."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest

from permit_application import services as svc
from permit_application import values as vo
from permit_application.models import Application, ReviewEvent, ReviewKind
from permitkit.errors import PermitError
from permitkit.paging import Page
from tests.application.conftest import APPLICANT, NOW, PARTY, SERVICE
from tests.application.unit.fakes import FakeUnitOfWork

# The demo export's fleet, as suggested first (AP-4, AP-8).
DEMO_PLATES = ["冀A12345", "冀B6789挂"]


def import_fleet(uow: Callable[[], FakeUnitOfWork], *, plates: Sequence[str] = (),
                 agents: Sequence[tuple[str, str]] = ()) -> None:
    """More PC-side vehicles and agents of the demo party, as the legacy export brings them (ID-3)."""
    vehicles = [{"plate": p, "type": "重型半挂牵引车", "curb_mass_kg": 8800, "axles": 3} for p in plates]
    people = [{"name": name, "id_number": idn} for name, idn in agents]
    svc.import_legacy_records(uow(), export={"accounts": [{"legacy_id": "L1001", "vehicles": vehicles,
                                                           "agents": people}]}, check_caller=False, now=NOW)


def remember_history(uow: Callable[[], FakeUnitOfWork], *, plates: Sequence[str] = (),
                     agents: Sequence[tuple[str, str]] = ()) -> None:
    """Vehicles and agents typed in by hand in earlier applications, as submitting records them."""
    u = uow()
    with u:
        for plate in plates:
            u.fleet.upsert_vehicle(PARTY, vo.Vehicle(plate_number=plate, vehicle_type="重型货车"), source="HISTORY")
        for name, idn in agents:
            u.fleet.upsert_agent(PARTY, vo.Agent(name=name, id_number=idn), source="HISTORY")
        u.commit()


def walk(fetch: Callable[[str], Page[Any]]) -> list[Page[Any]]:
    """Every page from the first, following next_page_token until it is empty."""
    pages = [fetch("")]
    while pages[-1].next_page_token:
        pages.append(fetch(pages[-1].next_page_token))
    return pages


def tampered(token: str) -> list[str]:
    """Tokens a client might make up or damage: not base64, reversed, truncated, of
    another kind, not a number, an absurd offset."""
    def enc(raw: str) -> str:
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return ["garbage!", token[::-1], token[:-1], enc("x:10"), enc("o:ten"), enc("o:-1"),
            enc("o:99999999999999999999")]


def reason_and_field(exc: pytest.ExceptionInfo[PermitError]) -> tuple[str, str | None]:
    return exc.value.reason, exc.value.field


class TestSuggestVehiclesPaging:
    def test_pages_follow_one_another_fleet_first_then_history_AP_4(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        import_fleet(uow, plates=["冀D00003", "冀D00001", "冀D00002"])
        remember_history(uow, plates=["冀C00002", "冀C00001", "冀C00003"])

        pages = walk(lambda t: svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="冀",
                                                    page_size=3, page_token=t))
        assert [len(p.items) for p in pages] == [3, 3, 2]
        assert [bool(p.next_page_token) for p in pages] == [True, True, False]
        walked = [(v.plate_number, v.source) for p in pages for v in p.items]
        fleet = sorted(DEMO_PLATES + ["冀D00001", "冀D00002", "冀D00003"])
        assert walked == [(x, "FLEET") for x in fleet] + [(x, "HISTORY") for x in ["冀C00001", "冀C00002",
                                                                                     "冀C00003"]]

    def test_the_default_page_holds_the_fleet_and_history_in_one_call_AP_4(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        remember_history(uow, plates=["冀C00001"])
        page = svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="冀")
        assert [(v.plate_number, v.source) for v in page.items] == [
            ("冀A12345", "FLEET"), ("冀B6789挂", "FLEET"), ("冀C00001", "HISTORY")]
        assert page.next_page_token == ""

    def test_the_typed_plate_filters_every_page_AP_4(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        import_fleet(uow, plates=["冀D00001", "鲁D00002"])
        remember_history(uow, plates=["冀D00003", "京D00004"])
        pages = walk(lambda t: svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="d0000",
                                                    page_size=1, page_token=t))
        assert [(v.plate_number, v.source) for p in pages for v in p.items] == [
            ("冀D00001", "FLEET"), ("鲁D00002", "FLEET"), ("京D00004", "HISTORY"), ("冀D00003", "HISTORY")]

    def test_a_page_size_of_0_is_10_and_more_than_50_is_capped_AP_4(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        import_fleet(uow, plates=[f"冀D{i:05d}" for i in range(60)])  # 62 vehicles with the demo fleet
        assert len(svc.suggest_vehicles(uow(), principal=APPLICANT, page_size=0).items) == 10
        capped = svc.suggest_vehicles(uow(), principal=APPLICANT, page_size=1000)
        assert len(capped.items) == 50 and capped.next_page_token
        rest = svc.suggest_vehicles(uow(), principal=APPLICANT, page_size=1000, page_token=capped.next_page_token)
        assert len(rest.items) == 12 and rest.next_page_token == ""
        assert {v.plate_number for v in capped.items}.isdisjoint(v.plate_number for v in rest.items)

    def test_a_token_not_handed_out_is_refused_AP_4(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        token = svc.suggest_vehicles(uow(), principal=APPLICANT, page_size=1).next_page_token
        assert token
        for bad in tampered(token):
            with pytest.raises(PermitError) as e:
                svc.suggest_vehicles(uow(), principal=APPLICANT, page_size=1, page_token=bad)
            assert reason_and_field(e) == ("INVALID_PAGE_TOKEN", "page_token"), bad


    def test_a_token_is_refused_with_another_typed_plate_or_party_AP_4(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        import_fleet(uow, plates=["冀D00001", "冀D00002"])
        token = svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="冀D", page_size=1).next_page_token
        assert svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="冀D", page_size=1,
                                    page_token=token).items
        other_party = replace(APPLICANT, party="parties/other")
        for principal, prefix in ((APPLICANT, "冀"), (other_party, "冀D")):
            with pytest.raises(PermitError) as e:
                svc.suggest_vehicles(uow(), principal=principal, plate_prefix=prefix, page_token=token)
            assert reason_and_field(e) == ("INVALID_PAGE_TOKEN", "page_token")


class TestSuggestAgentsPaging:
    def test_pages_are_stable_with_repeated_names_pc_side_first_AP_8(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        import_fleet(uow, agents=[("王五", "130102198001010011"), ("王五", "130102198001010022")])
        remember_history(uow, agents=[("王五", "130102198001010033"), ("李六", "130102198001010044")])

        pages = walk(lambda t: svc.suggest_agents(uow(), principal=APPLICANT, page_size=1, page_token=t))
        walked = [(a.agent_name, a.source, a.id_number) for p in pages for a in p.items]
        assert len(pages) == 5 and pages[-1].next_page_token == ""
        assert len({w[2] for w in walked}) == 5  # none repeated, none skipped
        assert [w[1] for w in walked] == ["FLEET"] * 3 + ["HISTORY"] * 2
        assert walked == [(a.agent_name, a.source, a.id_number)
                          for a in svc.suggest_agents(uow(), principal=APPLICANT).items]

    def test_a_token_not_handed_out_is_refused_AP_8(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        import_fleet(uow, agents=[("王五", "130102198001010011")])
        token = svc.suggest_agents(uow(), principal=APPLICANT, page_size=1).next_page_token
        assert token
        for bad in tampered(token):
            with pytest.raises(PermitError) as e:
                svc.suggest_agents(uow(), principal=APPLICANT, page_token=bad)
            assert reason_and_field(e) == ("INVALID_PAGE_TOKEN", "page_token"), bad


def draft_with_trail(uow: Callable[[], FakeUnitOfWork], ignored_events: int) -> Application:
    """A draft whose trail is its creation plus ``ignored_events`` review events that did not
    fit its state: each is kept in the trail (a review event never blocks the sender)."""
    app = svc.create_application(uow(), principal=APPLICANT, notice_shown_time=NOW - dt.timedelta(seconds=6),
                                 now=NOW)
    for n in range(ignored_events):
        svc.record_review_event(uow(), application=app.name, now=NOW, event=ReviewEvent(
            event_id=f"ev-{n:03d}", kind=ReviewKind.CASE_ACCEPTED, province="130000", officer="officers/o1"))
    return app


class TestListStateChangesPaging:
    def test_pages_follow_one_another_oldest_first_PQ_2(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = draft_with_trail(uow, ignored_events=4)
        pages = walk(lambda t: svc.list_state_changes(uow(), principal=APPLICANT, name=app.name,
                                                      page_size=2, page_token=t))
        assert [len(p.items) for p in pages] == [2, 2, 1] and pages[-1].next_page_token == ""
        walked = [(c.from_state, c.to_state, c.event_id) for p in pages for c in p.items]
        assert walked == [("", "DRAFT", None)] + [("DRAFT", "DRAFT", f"ev-{n:03d}") for n in range(4)]

    def test_the_default_page_holds_100_changes_PQ_2(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = draft_with_trail(uow, ignored_events=101)  # 102 changes with the creation
        first = svc.list_state_changes(uow(), principal=APPLICANT, name=app.name)
        assert len(first.items) == 100 and first.next_page_token
        rest = svc.list_state_changes(uow(), principal=APPLICANT, name=app.name, page_token=first.next_page_token)
        assert [c.event_id for c in rest.items] == ["ev-099", "ev-100"] and rest.next_page_token == ""

    def test_a_short_trail_comes_in_one_call_without_a_token_PQ_2(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = draft_with_trail(uow, ignored_events=2)
        page = svc.list_state_changes(uow(), principal=SERVICE, name=app.name, page_size=-5)
        assert len(page.items) == 3 and page.next_page_token == ""

    def test_a_token_not_handed_out_is_refused_PQ_2(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = draft_with_trail(uow, ignored_events=1)
        token = svc.list_state_changes(uow(), principal=APPLICANT, name=app.name, page_size=1).next_page_token
        assert token
        for bad in tampered(token):
            with pytest.raises(PermitError) as e:
                svc.list_state_changes(uow(), principal=APPLICANT, name=app.name, page_token=bad)
            assert reason_and_field(e) == ("INVALID_PAGE_TOKEN", "page_token"), bad
