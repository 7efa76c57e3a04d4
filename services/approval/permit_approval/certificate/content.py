"""What a certificate (超限运输车辆通行证) says: a snapshot taken when the permit changes (CT-1)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from permitkit.dates import local_date

# Why a version was made.
ISSUED, EXTENDED, VEHICLE_CHANGED, ROUTE_ADJUSTED = ("ISSUED", "EXTENDED", "VEHICLE_CHANGED",
                                                     "ROUTE_ADJUSTED")
REASON_LABELS = {ISSUED: "核发", EXTENDED: "延期换发", VEHICLE_CHANGED: "变更车辆换发",
                 ROUTE_ADJUSTED: "调整路线换发"}


@cache
def province_names() -> dict[str, str]:
    """GB/T 2260 code -> full name (a copy of routing's reference data)."""
    with (Path(__file__).parent / "provinces.csv").open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def province_name(code: str) -> str:
    return province_names().get(code, code)


def tonnes(kg: int) -> str:
    """Integer kilograms shown as tonnes with three decimals (AP-3): 48300 -> "48.300"."""
    return f"{kg // 1000}.{kg % 1000:03d}"


def metres(mm: int) -> str:
    """Integer millimetres shown as metres with three decimals: 19900 -> "19.900"."""
    return f"{mm // 1000}.{mm % 1000:03d}"


@dataclass(frozen=True)
class Content:
    """Everything printed on one certificate version; stored as JSON with the version."""

    permit_number: str
    version: int
    reason: str
    holder: str
    vehicles: list[dict[str, str]]  # {plate_number, vehicle_type}
    cargo: dict[str, Any] | None  # {name, weight_kg, length_mm, width_mm, height_mm}
    overall: dict[str, int] | None  # {total_mass_kg, length_mm, width_mm, height_mm}
    route: list[dict[str, Any]]  # {province, roads}
    start_date: str  # ISO dates
    end_date: str
    multi_trip: bool
    conditions: list[dict[str, str]]  # {province, text}
    issuing_province: str
    issue_date: str
    made_date: str
    permit_class: int = 0
    origin_place: str = ""
    destination_place: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Content:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @property
    def plates(self) -> list[str]:
        return [v["plate_number"] for v in self.vehicles]

    @property
    def start(self) -> dt.date:
        return dt.date.fromisoformat(self.start_date)

    @property
    def end(self) -> dt.date:
        return dt.date.fromisoformat(self.end_date)

    @property
    def trip_label(self) -> str:
        return "多次通行" if self.multi_trip else "单次通行"


def build(*, permit: Any, case: Any, version: int, reason: str, today: dt.date) -> Content:
    """The content of a new version from the permit and the case it came from."""
    types = {v.get("plate_number"): v.get("vehicle_type") or "" for v in case.vehicles or []}
    return Content(
        permit_number=permit.number, version=version, reason=reason, holder=permit.holder,
        vehicles=[{"plate_number": p, "vehicle_type": types.get(p, "")}
                  for p in permit.plate_numbers],
        cargo=dict(case.cargo) if getattr(case, "cargo", None) else None,
        overall=dict(case.overall) if getattr(case, "overall", None) else None,
        route=[{"province": r["province"], "roads": list(r.get("roads") or [])}
               for r in permit.route or []],
        start_date=permit.start_date.isoformat(), end_date=permit.end_date.isoformat(),
        multi_trip=bool(permit.multi_trip),
        conditions=[{"province": c["province"], "text": c["text"]}
                    for c in permit.conditions or []],
        issuing_province=permit.issuing_province,
        issue_date=_local_date(permit.create_time, today).isoformat(),
        made_date=today.isoformat(), permit_class=int(case.permit_class or 0))


def _local_date(instant: dt.datetime | None, default: dt.date) -> dt.date:
    if instant is None:
        return default
    return local_date(instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC))
