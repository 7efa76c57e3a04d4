"""The review events fit ApplicationService.RecordReviewEvent (the cross-context contract)."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from permit.application.v1 import application_pb2
from permit_approval.clients import ReviewEventSender
from permit_approval.models import EventKind


@pytest.fixture
def sender() -> ReviewEventSender:
    return ReviewEventSender(grpc.insecure_channel("127.0.0.1:9"))


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_event_kind_exists_in_the_application_contract(kind: EventKind) -> None:
    assert application_pb2.ReviewEventKind.Value(f"REVIEW_EVENT_KIND_{kind.value}") > 0


def test_a_payload_becomes_the_request_field_by_field(sender: ReviewEventSender) -> None:
    req = sender.build_request("ev-1", {
        "kind": "PERMIT_EXTENDED", "application": "applications/A1", "province": "370000",
        "reason": "延误", "officer": "officers/o1", "occur_time": "2026-12-01T02:00:00+00:00",
        "permit": "permits/p1", "permit_number": "132026000001", "permit_start_date": "2026-12-10",
        "permit_end_date": "2026-12-27", "submission": 2, "provinces": ["370000"],
        "route": [{"province": "370000", "roads": ["G2"]}]})
    assert req.event_id == "ev-1" and req.kind == application_pb2.REVIEW_EVENT_KIND_PERMIT_EXTENDED
    assert (req.permit_end_date.year, req.permit_end_date.month, req.permit_end_date.day) == (2026, 12, 27)
    assert req.occur_time.ToDatetime(dt.UTC) == dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
    assert req.submission == 2 and list(req.provinces) == ["370000"]
    assert [(r.province, list(r.roads)) for r in req.route] == [("370000", ["G2"])]
    assert req.HasField("permit_start_date")
