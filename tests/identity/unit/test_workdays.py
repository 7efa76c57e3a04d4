"""Working-day calendar as data for the 5-working-day licence review (ID-5)."""

from __future__ import annotations

import datetime as dt

from permit_identity.workdays import WorkingCalendar, exceptions_from, library_year, local_date

D = dt.date


def test_five_working_days_skip_a_weekend_ID_5() -> None:
    # Tuesday 2026-12-01 -> Tuesday 2026-12-08.
    assert WorkingCalendar().add_working_days(D(2026, 12, 1), 5) == (D(2026, 12, 8), False)


def test_national_day_holiday_and_make_up_saturday_count_correctly_ID_5() -> None:
    # 2026: Oct 1-7 off, Saturday Oct 10 a make-up workday. From Sep 29 the 5
    # working days are Sep 30, Oct 8, Oct 9, Oct 10 (Sat), Oct 12.
    assert WorkingCalendar().add_working_days(D(2026, 9, 29), 5) == (D(2026, 10, 12), False)


def test_a_year_without_data_is_flagged_not_trusted_ID_5() -> None:
    # chinesecalendar 1.11 has no 2027: Dec 28 2026 + 5 runs into 2027.
    due, provisional = WorkingCalendar().add_working_days(D(2026, 12, 28), 5)
    assert provisional is True
    assert due == D(2027, 1, 4)  # weekdays only: Dec 29, 30, 31, Jan 1, Jan 4


def test_an_entered_year_overrides_and_clears_the_flag_ID_5() -> None:
    # An administrator enters 2027: Jan 1 a holiday, and (for the test) Sat Jan 2 a workday.
    cal = WorkingCalendar(entered={2027: {D(2027, 1, 1): False, D(2027, 1, 2): True}})
    assert cal.add_working_days(D(2026, 12, 28), 5) == (D(2027, 1, 4), False)
    assert cal.is_workday(D(2027, 1, 1)) == (False, True)
    assert cal.is_workday(D(2027, 1, 2)) == (True, True)


def test_an_entered_year_wins_over_the_library_ID_5() -> None:
    cal = WorkingCalendar(entered={2026: {D(2026, 12, 2): False}})
    assert cal.is_workday(D(2026, 12, 2)) == (False, True)
    assert cal.add_working_days(D(2026, 12, 1), 1) == (D(2026, 12, 3), False)


def test_library_year_lists_only_exceptions_to_the_weekday_rule_ID_5() -> None:
    y = library_year(2026)
    assert y is not None
    assert y[D(2026, 10, 1)] is False and y[D(2026, 10, 10)] is True
    assert D(2026, 12, 1) not in y
    assert library_year(2027) is None


def test_exceptions_from_drops_ordinary_days() -> None:
    assert exceptions_from([(D(2026, 12, 1), True), (D(2026, 12, 5), True)]) == {D(2026, 12, 5): True}


def test_local_date_is_beijing_time_ID_5() -> None:
    assert local_date(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)) == D(2026, 12, 1)
