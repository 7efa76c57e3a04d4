"""Working-day arithmetic of the Chinese calendar (RV-4)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permit_approval.workdays import (
    SOURCE_ADMINISTRATOR,
    WorkingCalendar,
    YearData,
    review_days,
)

D = dt.date


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar.from_library()


def test_national_day_holidays_are_not_working_days_and_the_makeup_saturday_is_RV_4(
        calendar: WorkingCalendar) -> None:
    assert calendar.is_workday(D(2026, 10, 1)) == (False, True)
    assert calendar.is_workday(D(2026, 10, 7)) == (False, True)
    assert calendar.is_workday(D(2026, 10, 10)) == (True, True)  # 调休 Saturday
    assert calendar.is_workday(D(2026, 10, 11)) == (False, True)  # ordinary Sunday


def test_five_working_days_across_national_day_RV_4(calendar: WorkingCalendar) -> None:
    due = calendar.add_working_days(D(2026, 9, 28), 5)
    assert due.date == D(2026, 10, 10) and not due.provisional


def test_the_start_day_is_not_counted_and_zero_days_is_the_start(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(D(2026, 12, 4), 1).date == D(2026, 12, 7)  # Fri -> Mon
    assert calendar.add_working_days(D(2026, 12, 4), 0).date == D(2026, 12, 4)


def test_a_year_without_data_is_flagged_never_silently_weekdays_only_RV_4(
        calendar: WorkingCalendar) -> None:
    assert not calendar.knows(2027)
    assert calendar.is_workday(D(2027, 1, 4)) == (True, False)
    due = calendar.add_working_days(D(2026, 12, 24), 20)
    assert due.provisional and due.unknown_years == (2027,)


def test_deadline_within_a_known_year_is_not_flagged_RV_4(calendar: WorkingCalendar) -> None:
    assert not calendar.add_working_days(D(2026, 12, 1), 10).provisional


def test_an_administrator_year_replaces_the_library_and_clears_the_flag_RV_4() -> None:
    cal = WorkingCalendar.from_library([YearData(2027, frozenset({D(2027, 1, 1)}),
                                                 frozenset({D(2027, 1, 10)}), SOURCE_ADMINISTRATOR)])
    assert cal.is_workday(D(2027, 1, 1)) == (False, True)
    assert cal.is_workday(D(2027, 1, 10)) == (True, True)
    due = cal.add_working_days(D(2026, 12, 31), 2)
    # 1 Jan holiday, 2-3 weekend: 4 Jan (1), 5 Jan (2).
    assert due.date == D(2027, 1, 5) and not due.provisional


@pytest.mark.parametrize(("klass", "provinces", "days"), [
    (1, 3, 5), (2, 3, 10), (3, 3, 20), (1, 1, 2), (2, 1, 5), (3, 1, 15)])
def test_review_days_by_class_and_scope_RV_4(klass: int, provinces: int, days: int) -> None:
    assert review_days(klass, provinces) == days


@given(start=st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 10, 31)),
       days=st.integers(min_value=1, max_value=20))
@settings(max_examples=200, deadline=None)
def test_the_deadline_is_a_working_day_with_exactly_n_working_days_before_it_RV_4(
        start: dt.date, days: int) -> None:
    cal = WorkingCalendar.from_library()
    due = cal.add_working_days(start, days)
    assert cal.is_workday(due.date) == (True, True)
    between = [start + dt.timedelta(days=i) for i in range(1, (due.date - start).days + 1)]
    assert sum(cal.is_workday(d)[0] for d in between) == days
    assert not due.provisional
