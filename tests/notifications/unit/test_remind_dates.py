"""Reminders one working day ahead, by approval's working calendar (MS-2, RV-4)."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2

from permit.approval.v1 import events_pb2 as ev
from permit_approval.published import with_remind_dates
from permit_approval.workdays import WorkingCalendar


def _d(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def test_the_reminder_moves_over_the_national_day_holiday_MS_2() -> None:
    """Due 2026-10-08 (the first working day after 国庆): the working day before is 09-30."""
    cal = WorkingCalendar.from_library()
    assert not cal.is_workday(dt.date(2026, 10, 7))[0]
    msg = ev.CaseAccepted(review_dues=[ev.ProvinceDue(province="370000", due_date=_d(dt.date(2026, 10, 8)))])
    with_remind_dates(msg, lambda: cal)
    assert msg.review_dues[0].remind_date == _d(dt.date(2026, 9, 30))


def test_an_ordinary_week_reminds_the_day_before_and_skips_the_weekend_MS_2() -> None:
    cal = WorkingCalendar.from_library()
    due = ev.ReviewDueDateSet(due=ev.ProvinceDue(province="320000", due_date=_d(dt.date(2026, 12, 9))))
    with_remind_dates(due, lambda: cal)
    assert due.due.remind_date == _d(dt.date(2026, 12, 8))
    monday = ev.ReviewDueDateSet(due=ev.ProvinceDue(province="320000", due_date=_d(dt.date(2026, 12, 7))))
    with_remind_dates(monday, lambda: cal)
    assert monday.due.remind_date == _d(dt.date(2026, 12, 4))


def test_a_message_without_deadlines_is_left_alone() -> None:
    msg = ev.CaseReturned(reason="补正")
    assert with_remind_dates(msg, lambda: WorkingCalendar.from_library()) == ev.CaseReturned(reason="补正")
