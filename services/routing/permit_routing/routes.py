"""Route value objects shared by recognition, validation and history."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One route row: a province code and the roads travelled in it, in order (AP-7a)."""

    province: str
    roads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    """A problem in route text or rows: position, stable reason, Chinese message."""

    line: int
    column: int
    reason: str
    message: str
    field: str = ""
    provinces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    """An approved route offered for reuse (AP-7c): identical approvals merged."""

    rows: tuple[Row, ...]
    times_approved: int
    last_approve_time: dt.datetime
    last_application: str


def route_key(rows: Sequence[Row]) -> str:
    """A stable digest of a route: identical routes (after normalisation) share it (AP-7c)."""
    canonical = json.dumps([[r.province, list(r.roads)] for r in rows], ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def rows_to_json(rows: Iterable[Row]) -> list[dict[str, object]]:
    return [{"province": r.province, "roads": list(r.roads)} for r in rows]


def rows_from_json(data: Iterable[dict[str, object]]) -> tuple[Row, ...]:
    out = []
    for item in data:
        roads = item.get("roads") or []
        assert isinstance(roads, list)
        out.append(Row(province=str(item["province"]), roads=tuple(str(r) for r in roads)))
    return tuple(out)
