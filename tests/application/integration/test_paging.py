"""Paging of SuggestVehicles, SuggestAgents and ListStateChanges over gRPC on PostgreSQL
(and SQLite): the database's own order stays stable across pages, PC side first, and
a made-up page token is an INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from permit.application.v1 import application_pb2 as pb
from permit.application.v1 import application_service_pb2 as spb
from permit_application import values as vo
from tests.application.conftest import PARTY
from tests.application.integration.conftest import Harness, error_of

pytestmark = pytest.mark.integration


def seed_fleet(h: Harness) -> None:
    """Besides the demo fleet: PC-side vehicles and agents from a legacy export (ID-3), and
    vehicles and agents remembered from earlier applications (AP-4, AP-8)."""
    export = {"accounts": [{
        "legacy_id": "L1001",
        "vehicles": [{"plate": p, "type": "重型半挂牵引车", "curb_mass_kg": 8800, "axles": 3}
                     for p in ("冀D00002", "冀D00001", "鲁D00003")],
        "agents": [{"name": "王五", "id_number": "130102198001010011"},
                   {"name": "王五", "id_number": "130102198001010022"}]}]}
    h.internal.ImportLegacyRecords(spb.ImportLegacyRecordsRequest(export_json=json.dumps(export).encode()),
                               metadata=h.service_md())
    uow = h.app.uow_factory()
    with uow:
        for plate in ("冀C00002", "冀C00001", "京C00003"):
            uow.fleet.upsert_vehicle(PARTY, vo.Vehicle(plate_number=plate, vehicle_type="重型货车"), source="HISTORY")
        uow.fleet.upsert_agent(PARTY, vo.Agent(name="王五", id_number="130102198001010033"), source="HISTORY")
        uow.commit()


def walk(call: Callable[[str], Any]) -> list[Any]:
    """Every response from the first page, following next_page_token until it is empty."""
    pages = [call("")]
    while pages[-1].next_page_token:
        pages.append(call(pages[-1].next_page_token))
    return pages


def test_vehicle_suggestions_page_fleet_first_then_history_AP_4(harness: Harness) -> None:
    seed_fleet(harness)
    md = harness.md()
    whole = harness.stub.SuggestVehicles(spb.SuggestVehiclesRequest(), metadata=md)
    assert len(whole.vehicles) == 8 and whole.next_page_token == ""  # one call without page fields
    sources = [v.source for v in whole.vehicles]
    assert sources == ["FLEET"] * 5 + ["HISTORY"] * 3

    pages = walk(lambda t: harness.stub.SuggestVehicles(
        spb.SuggestVehiclesRequest(page_size=3, page_token=t), metadata=md))
    assert [len(p.vehicles) for p in pages] == [3, 3, 2]
    assert [v.plate_number for p in pages for v in p.vehicles] == [v.plate_number for v in whole.vehicles]


def test_agent_suggestions_with_repeated_names_page_without_repeats_AP_8(harness: Harness) -> None:
    seed_fleet(harness)
    md = harness.md()
    whole = harness.stub.SuggestAgents(spb.SuggestAgentsRequest(), metadata=md).agents
    pages = walk(lambda t: harness.stub.SuggestAgents(
        spb.SuggestAgentsRequest(page_size=1, page_token=t), metadata=md))
    walked = [a.agent_ref for p in pages for a in p.agents]
    assert len(pages) == 4 and len(set(walked)) == 4
    assert walked == [a.agent_ref for a in whole]
    assert [a.source for p in pages for a in p.agents] == ["FLEET"] * 3 + ["HISTORY"]


def test_state_changes_page_oldest_first_and_come_whole_by_default_PQ_2(harness: Harness) -> None:
    app = harness.submit(harness.fill(harness.create()))
    harness.event(app, "CASE_ACCEPTED", "e1", province="130000", submission=1)
    for i, prov in enumerate(["130000", "370000", "320000"]):
        harness.event(app, "PROVINCE_APPROVED", f"e2-{i}", province=prov)
    md = harness.md()
    whole = harness.stub.ListStateChanges(spb.ListStateChangesRequest(parent=app.name), metadata=md)
    assert len(whole.state_changes) == 6 and whole.next_page_token == ""
    assert [c.to_state for c in whole.state_changes][:3] == [
        pb.Application.STATE_DRAFT, pb.Application.STATE_SUBMITTED, pb.Application.STATE_PROCESSING]

    pages = walk(lambda t: harness.stub.ListStateChanges(
        spb.ListStateChangesRequest(parent=app.name, page_size=4, page_token=t), metadata=md))
    assert [len(p.state_changes) for p in pages] == [4, 2]
    assert [c for p in pages for c in p.state_changes] == list(whole.state_changes)


def test_a_page_size_above_the_cap_is_capped_AP_4(harness: Harness) -> None:
    plates = [f"冀E{i:05d}" for i in range(55)]
    export = {"accounts": [{"legacy_id": "L1001", "vehicles": [{"plate": p, "axles": 2} for p in plates]}]}
    harness.internal.ImportLegacyRecords(spb.ImportLegacyRecordsRequest(export_json=json.dumps(export).encode()),
                                     metadata=harness.service_md())
    first = harness.stub.SuggestVehicles(spb.SuggestVehiclesRequest(page_size=500), metadata=harness.md())
    assert len(first.vehicles) == 50 and first.next_page_token
    rest = harness.stub.SuggestVehicles(spb.SuggestVehiclesRequest(page_size=500, page_token=first.next_page_token),
                                        metadata=harness.md())
    assert len(rest.vehicles) == 7 and rest.next_page_token == ""  # 55 + the demo fleet's 2


def test_a_made_up_page_token_is_refused_with_its_field_AP_4_AP_8_PQ_2(harness: Harness) -> None:
    app = harness.create()
    md = harness.md()
    calls = [
        lambda t: harness.stub.SuggestVehicles(spb.SuggestVehiclesRequest(page_token=t), metadata=md),
        lambda t: harness.stub.SuggestAgents(spb.SuggestAgentsRequest(page_token=t), metadata=md),
        lambda t: harness.stub.ListStateChanges(spb.ListStateChangesRequest(parent=app.name, page_token=t),
                                                metadata=md),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as e:
            call("not-a-token")
        d = error_of(e.value)
        assert (d.code, d.reason, d.domain) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN",
                                                "permit.application")
        assert [v.field for v in d.violations] == ["page_token"] and d.message


def test_the_list_pages_by_status_and_tells_the_total_past_the_end_PQ_2(harness: Harness) -> None:
    """The list, filtered by status or not, newest first; a page past the end (drafts
    deleted meanwhile) is empty and still tells how many there are."""
    drafts = [harness.create() for _ in range(3)]
    submitted = harness.submit(harness.fill(harness.create()))

    def page(token: str, state: int = pb.Application.STATE_UNSPECIFIED, size: int = 1) -> Any:
        return harness.stub.ListApplications(spb.ListApplicationsRequest(
            page_size=size, page_token=token, state=state), metadata=harness.md())

    only_drafts = walk(lambda t: page(t, pb.Application.STATE_DRAFT))
    assert [a.name for p in only_drafts for a in p.applications] == [d.name for d in reversed(drafts)]
    assert {p.total_size for p in only_drafts} == {3}
    everything = walk(page)
    assert [a.name for p in everything for a in p.applications][0] == submitted.name
    assert {p.total_size for p in everything} == {4}
    (sent,) = page("", pb.Application.STATE_SUBMITTED, size=10).applications
    assert sent.name == submitted.name

    third = page("", pb.Application.STATE_DRAFT, size=2).next_page_token
    harness.stub.DeleteApplication(spb.DeleteApplicationRequest(name=drafts[0].name), metadata=harness.md())
    past = page(third, pb.Application.STATE_DRAFT, size=2)
    assert list(past.applications) == [] and past.total_size == 2
