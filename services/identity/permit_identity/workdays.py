"""Chinese working-day calendar as data (ID-5: review within 5 working days).

A year an administrator entered (tables `calendar_year` / `calendar_day`)
wins; otherwise the `chinesecalendar` library's data is used; a year neither
knows is counted by weekdays only and flagged, never silently trusted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import chinese_calendar

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def library_is_workday(day: dt.date) -> bool | None:
    """The library's answer, or None for a year it has no data for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass
class WorkingCalendar:
    """Working days from entered years (``entered``: year -> {day: is_workday}
    exceptions to the weekday rule), then the library, then weekdays (flagged)."""

    entered: Mapping[int, Mapping[dt.date, bool]] = field(default_factory=dict)
    library: Callable[[dt.date], bool | None] = library_is_workday

    def is_workday(self, day: dt.date) -> tuple[bool, bool]:
        """``(is_workday, known)``; ``known`` is False when only the weekday rule applied."""
        if day.year in self.entered:
            exceptions = self.entered[day.year]
            return exceptions.get(day, day.weekday() < 5), True
        lib = self.library(day)
        if lib is not None:
            return lib, True
        return day.weekday() < 5, False

    def add_working_days(self, start: dt.date, days: int) -> tuple[dt.date, bool]:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)
        and whether any day on the way came from an unknown year (provisional)."""
        d, left, provisional = start, days, False
        while left > 0:
            d += dt.timedelta(days=1)
            work, known = self.is_workday(d)
            provisional = provisional or not known
            if work:
                left -= 1
        return d, provisional


def local_date(instant: dt.datetime) -> dt.date:
    """The calendar date in Asia/Shanghai (deadlines are Chinese calendar dates)."""
    return instant.astimezone(SHANGHAI).date()


def exceptions_from(days: Iterable[tuple[dt.date, bool]]) -> dict[dt.date, bool]:
    """Keep only days that break the weekday rule."""
    return {d: w for d, w in days if w != (d.weekday() < 5)}


def library_year(year: int) -> dict[dt.date, bool] | None:
    """A library year as exceptions to the weekday rule (to seed the table), or None."""
    if library_is_workday(dt.date(year, 1, 1)) is None:
        return None
    d, out = dt.date(year, 1, 1), []
    while d.year == year:
        out.append((d, bool(chinese_calendar.is_workday(d))))
        d += dt.timedelta(days=1)
    return exceptions_from(out)
