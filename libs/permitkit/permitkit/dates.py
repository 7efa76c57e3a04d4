"""The one local time zone of the domain: dates people see and deadlines are
Chinese calendar dates (Asia/Shanghai, UTC+8 all year, no daylight saving)."""

from __future__ import annotations

import datetime as dt

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def local_date(instant: dt.datetime) -> dt.date:
    """The calendar date of ``instant`` (timezone-aware) in Asia/Shanghai."""
    if instant.tzinfo is None:
        raise ValueError("local_date needs a timezone-aware instant")
    return instant.astimezone(SHANGHAI).date()


def today() -> dt.date:
    """Today in Asia/Shanghai: the date travel dates, deadlines and birth dates are checked
    against (from 16:00 UTC it is already the next day there)."""
    return local_date(dt.datetime.now(dt.UTC))

