"""Value objects of the six form steps, stored as JSON on the application.

Quantities are integer kg and mm. ``typed`` carries tonnes/metres text as
entered (AP-3); step validation parses it into the integer fields and clears it.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Cargo:
    empty_load: bool = False
    name: str = ""
    weight_kg: int = 0
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    typed: dict[str, str] = field(default_factory=dict)


@dataclass
class Vehicle:
    plate_number: str = ""
    vehicle_type: str = ""
    make_model: str = ""
    curb_mass_kg: int = 0
    axle_count: int = 0
    wheelbase_mm: int = 0
    tyre_count: int = 0
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    licence_documents: list[str] = field(default_factory=list)
    source: str = ""          # FLEET, HISTORY, MANUAL
    kind: str = ""            # TRUCK, TRACTOR, FLATBED_TRAILER, HYDRAULIC_TRAILER, OTHER_TRAILER
    fleet_vehicle: str = ""   # "vehicles/{id}" when chosen from the fleet

    # The fields a vehicle entered by hand must all have (AP-4).
    SPEC_FIELDS = ("vehicle_type", "make_model", "curb_mass_kg", "axle_count", "wheelbase_mm",
                   "tyre_count", "length_mm", "width_mm", "height_mm")

    @property
    def is_trailer(self) -> bool:
        return self.kind.endswith("TRAILER")


@dataclass
class Overall:
    total_mass_kg: int = 0
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    axle_spacings_mm: list[int] = field(default_factory=list)
    axle_loads_kg: list[int] = field(default_factory=list)
    single_tyre_axle_count: int = 0
    single_drive_axle: bool = False
    typed: dict[str, str] = field(default_factory=dict)


@dataclass
class RouteRow:
    province: str = ""
    roads: list[str] = field(default_factory=list)


@dataclass
class Passage:
    origin_province: str = ""
    destination_province: str = ""
    route: list[RouteRow] = field(default_factory=list)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    multi_trip: bool = False
    origin_place: str = ""
    destination_place: str = ""
    route_confirmed: bool = False

    def route_provinces(self) -> list[str]:
        """Ordered distinct provinces of the route, origin first."""
        out: list[str] = []
        for p in [self.origin_province, *(r.province for r in self.route)]:
            if p and p not in out:
                out.append(p)
        return out


@dataclass
class Agent:
    name: str = ""
    id_number: str = ""
    phone: str = ""
    id_card_documents: list[str] = field(default_factory=list)
    power_of_attorney_document: str = ""
    source: str = ""          # FLEET, HISTORY, MANUAL
    agent_ref: str = ""       # "agents/{id}" when chosen from the suggestions


@dataclass
class Material:
    kind: str = ""            # OUTLINE_DRAWING, ESCORT_PLAN, TRANSPORT_PLAN, OTHER
    document: str = ""


def to_json(obj: Any) -> Any:
    """A value object (or list of them) as JSON-ready data, without input-only ``typed``."""
    if obj is None:
        return None
    if isinstance(obj, list):
        return [to_json(o) for o in obj]
    d = asdict(obj)
    d.pop("typed", None)
    for k, v in list(d.items()):
        if isinstance(v, dt.date):
            d[k] = v.isoformat()
    return d


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def _build(cls: type, data: dict[str, Any]) -> Any:
    names = _field_names(cls)
    return cls(**{k: v for k, v in data.items() if k in names})


def cargo_from_json(d: dict[str, Any] | None) -> Cargo | None:
    return None if d is None else _build(Cargo, d)


def vehicles_from_json(d: list[dict[str, Any]] | None) -> list[Vehicle]:
    return [_build(Vehicle, v) for v in (d or [])]


def overall_from_json(d: dict[str, Any] | None) -> Overall | None:
    return None if d is None else _build(Overall, d)


def passage_from_json(d: dict[str, Any] | None) -> Passage | None:
    if d is None:
        return None
    p: Passage = _build(Passage, d)
    p.route = [_build(RouteRow, r) for r in d.get("route") or []]
    p.start_date = dt.date.fromisoformat(d["start_date"]) if d.get("start_date") else None
    p.end_date = dt.date.fromisoformat(d["end_date"]) if d.get("end_date") else None
    return p


def agent_from_json(d: dict[str, Any] | None) -> Agent | None:
    return None if d is None else _build(Agent, d)


def materials_from_json(d: list[dict[str, Any]] | None) -> list[Material]:
    return [_build(Material, m) for m in (d or [])]
