"""Working days of the Chinese calendar (RV-4), kept as data per year.

A working day is a weekday that is not a statutory holiday, or a weekend day
that the State Council declared a make-up workday (调休). The data of a year
comes from an administrator's entry when there is one, otherwise from the
``chinesecalendar`` library (which knows 2004-2026). A year known to neither
is never silently counted as weekdays only: the result is flagged
``provisional`` so it is shown as such and recomputed once the year is loaded.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SOURCE_LIBRARY = "library"
SOURCE_ADMINISTRATOR = "administrator"


@dataclass(frozen=True)
class YearData:
    """One year's exceptions to the weekday rule."""

    year: int
    holidays: frozenset[dt.date]  # weekdays that are not working days
    workdays: frozenset[dt.date]  # weekend days that are working days
    source: str


@functools.cache
def _library_years() -> dict[int, YearData]:
    from chinese_calendar import constants

    years: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for d in constants.holidays:
        if d.weekday() < 5:
            years.setdefault(d.year, (set(), set()))[0].add(d)
    for d in constants.workdays:
        if d.weekday() >= 5:
            years.setdefault(d.year, (set(), set()))[1].add(d)
    first = min(d.year for d in constants.holidays)
    last = max(d.year for d in constants.holidays)
    out = {}
    for y in range(first, last + 1):
        hol, work = years.get(y, (set(), set()))
        out[y] = YearData(y, frozenset(hol), frozenset(work), SOURCE_LIBRARY)
    return out


def library_years() -> dict[int, YearData]:
    """Every year the bundled ``chinesecalendar`` package has data for (a fresh copy)."""
    return dict(_library_years())


@dataclass(frozen=True)
class DueDate:
    """A computed deadline; ``provisional`` when it crossed a year without data."""

    date: dt.date
    provisional: bool
    unknown_years: tuple[int, ...] = ()


@dataclass
class WorkingCalendar:
    """Counts working days over the years it knows; flags the years it does not."""

    years: dict[int, YearData] = field(default_factory=dict)

    @classmethod
    def from_library(cls, overrides: Iterable[YearData] = ()) -> WorkingCalendar:
        """Library data, with each administrator year replacing the library's."""
        years = library_years()
        for y in overrides:
            years[y.year] = y
        return cls(years)

    def knows(self, year: int) -> bool:
        return year in self.years

    def is_workday(self, day: dt.date) -> tuple[bool, bool]:
        """``(is_working_day, known)``; unknown years fall back to the weekday rule."""
        data = self.years.get(day.year)
        if data is None:
            return day.weekday() < 5, False
        if day in data.workdays:
            return True, True
        if day in data.holidays:
            return False, True
        return day.weekday() < 5, True

    def add_working_days(self, start: dt.date, days: int) -> DueDate:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        d = start
        unknown: set[int] = set()
        counted = 0
        while counted < days:
            d += dt.timedelta(days=1)
            working, known = self.is_workday(d)
            if not known:
                unknown.add(d.year)
            if working:
                counted += 1
        return DueDate(d, bool(unknown), tuple(sorted(unknown)))


    def previous_working_day(self, day: dt.date) -> dt.date:
        """The last working day before ``day`` (MS-2: the reminder one working day ahead)."""
        d = day - dt.timedelta(days=1)
        while not self.is_workday(d)[0]:
            d -= dt.timedelta(days=1)
        return d


# RV-4, regulation Art. 15/16: decision limits in working days, by class.
CROSS_PROVINCE_DAYS: Mapping[int, int] = {1: 5, 2: 10, 3: 20}
ONE_PROVINCE_DAYS: Mapping[int, int] = {1: 2, 2: 5, 3: 15}
ACCEPTANCE_DAYS = 2  # Art. 16: the origin forwards an accepted case within 2 working days
# PQ-7: accepting a suggested route "speeds up" the province concerned; the
# Order gives no figure, so the fast track is this many working days.
FAST_TRACK_DAYS = 1


def review_days(permit_class: int, province_count: int) -> int:
    """Working days a route province has for its decision (RV-4)."""
    table = CROSS_PROVINCE_DAYS if province_count > 1 else ONE_PROVINCE_DAYS
    return table[permit_class]
