"""Every fact a transition records becomes its integration event message
(approval/v1/events.proto), carrying what every event carries (RV-1..RV-5, PQ-7..PQ-11)."""

from __future__ import annotations

import datetime as dt

import pytest

from permit.approval.v1 import events_pb2 as ev
from permit_approval import published
from permit_approval.models import Case, EventKind, OutgoingEvent
from permit_approval.workdays import WorkingCalendar

NOW = dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)


def a_case() -> Case:
    return Case.open(application="applications/A1", application_number="DJ1", applicant="parties/p1",
                     origin_province="130000", destination_province="320000",
                     route_provinces=["130000", "370000", "320000"],
                     route=[{"province": "130000", "roads": ["G4"]}, {"province": "370000", "roads": ["G2"]},
                            {"province": "320000", "roads": ["G2"]}],
                     permit_class=2, plate_numbers=["冀A12345"], vehicles=[], start_date=dt.date(2026, 12, 10),
                     end_date=dt.date(2026, 12, 20), multi_trip=False, submission=2, documents=["documents/d1"],
                     now=NOW, calendar=WorkingCalendar.from_library())


FIELDS = {"occur_time": NOW.isoformat(), "officer": "officers/o1", "province": "370000", "reason": "理由",
          "permit": "permits/p1", "permit_number": "132026000001", "permit_start_date": "2026-12-10",
          "permit_end_date": "2026-12-27", "provinces": ["370000"], "route": [{"province": "370000", "roads": ["G3"]}],
          "documents": ["documents/x"], "old_plate_number": "冀A12345", "new_plate_number": "冀A54321",
          "due_date": dt.date(2026, 12, 8), "provisional": False, "stage": "REVIEW"}


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_recorded_fact_becomes_an_event_with_its_header_RV_1(kind: EventKind) -> None:
    case = a_case()
    (message,) = published.messages(OutgoingEvent(kind, dict(FIELDS)), case)
    assert message.DESCRIPTOR.file.package == "permit.approval.v1"
    assert (message.application.name, message.application.number) == ("applications/A1", "DJ1")
    assert message.applicant == "parties/p1" and message.case == case.name and message.submission == 2
    assert message.province == "370000" and message.occur_time.ToDatetime(dt.UTC) == NOW


def test_an_extension_carries_the_new_validity_PQ_11() -> None:
    (m,) = published.messages(OutgoingEvent(EventKind.PERMIT_EXTENDED, dict(FIELDS)), a_case())
    assert isinstance(m, ev.ExtensionDecided) and m.approved and m.permit_number == "132026000001"
    assert (m.validity.end_date.year, m.validity.end_date.month, m.validity.end_date.day) == (2026, 12, 27)


def test_a_case_opened_names_the_documents_and_who_may_read_them_RV_1() -> None:
    (opened,) = published.case_opened(a_case(), reopened=False, now=NOW)
    assert isinstance(opened, ev.CaseOpened) and list(opened.documents) == ["documents/d1"]
    assert list(opened.route_provinces) == ["130000", "370000", "320000"]
    due = opened.acceptance_due
    assert due.stage == ev.DUE_STAGE_ACCEPTANCE and due.province == "130000" and due.due_date.year == 2026
