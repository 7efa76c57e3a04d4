"""permitkit.identifiers (GB 11643 check character) and permitkit.dates (the one local zone)."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from permitkit import dates
from permitkit.dates import SHANGHAI, local_date
from permitkit.identifiers import (
    gb11643_birth_date,
    gb11643_check_char,
    has_gb11643_check_char,
    has_gb11643_shape,
)


def test_check_character_of_published_examples_ID_2_AP_8() -> None:
    assert gb11643_check_char("11010519491231002") == "X"
    assert gb11643_check_char("13010219900307521") == "8"
    assert has_gb11643_check_char("11010519491231002X")
    assert not has_gb11643_check_char("110105194912310021")
    assert not has_gb11643_check_char("11010519491231002x")  # callers normalise case


def test_shape_and_birth_date() -> None:
    assert has_gb11643_shape("13010219900307521X") and not has_gb11643_shape("1301021990030752")
    assert gb11643_birth_date("130102199003075218") == dt.date(1990, 3, 7)
    assert gb11643_birth_date("130102199002305218") is None
    with pytest.raises(ValueError):
        gb11643_check_char("1301021990030752X")


def test_today_is_already_tomorrow_in_shanghai_from_16_00_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the services call today (travel may not start before it): tests and
    examples that took the machine's UTC date were a day behind from 16:00 UTC."""
    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Frozen:  # type: ignore[override]
            return cls(2026, 12, 6, 16, 30, tzinfo=dt.UTC).astimezone(tz)
    monkeypatch.setattr(dates, "dt", types.SimpleNamespace(datetime=Frozen, UTC=dt.UTC))
    assert dates.today() == dt.date(2026, 12, 7)


def test_local_date_is_the_date_in_asia_shanghai() -> None:
    late_utc = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)  # 00:30 on Jan 1 in Beijing
    assert local_date(late_utc) == dt.date(2027, 1, 1)
    assert SHANGHAI.utcoffset(None) == dt.timedelta(hours=8)
    with pytest.raises(ValueError):
        local_date(dt.datetime(2026, 12, 31, 16, 30))


def test_one_etag_format_and_a_lenient_check() -> None:
    from permitkit.etags import etag_matches, etag_of

    assert etag_of(7) == '"7"'
    assert all(etag_matches(e, 7) for e in ('"7"', "7", 'W/"7"', ""))
    assert not etag_matches('"6"', 7) and not etag_matches("W/6", 7)
