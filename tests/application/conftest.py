"""Shared data of the application tests: callers, a fixed clock and a walking-slice draft."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from permit_application import values as vo
from permitkit.context import Principal

# Tuesday 2026-12-01 10:00 Beijing time.
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
START = dt.date(2026, 12, 10)
END = dt.date(2026, 12, 20)

PARTY = "parties/L1001"
APPLICANT = Principal(subject="users/u1", party=PARTY, roles=frozenset({"applicant"}), onboarding="ACTIVE")
OTHER = Principal(subject="users/u2", party="parties/L9999", roles=frozenset({"applicant"}), onboarding="ACTIVE")
SERVICE = Principal(subject="services/approval", roles=frozenset({"service"}))
AGENT_IDN = "130102199001011237"  # valid checksum, not in any fleet

DEMO_EXPORT: dict[str, Any] = {
    "accounts": [{
        "legacy_id": "L1001", "kind": "ENTERPRISE",
        "vehicles": [
            {"plate": "冀A12345", "type": "重型半挂牵引车", "make_model": "解放牌CA4250P66K24T1A1E5",
             "curb_mass_kg": 8800, "axles": 3, "wheelbase_mm": 3300, "tyres": 10, "length_mm": 6900,
             "width_mm": 2500, "height_mm": 3350},
            {"plate_number": "冀B6789挂", "vehicle_type": "重型平板半挂车", "make_model": "通华牌THT9400TDP",
             "curb_mass_kg": 9500, "axle_count": 3, "wheelbase_mm": 7600, "tyre_count": 12,
             "length_mm": 13000, "width_mm": 3000, "height_mm": 1600},
        ],
        "agents": [{"name": "李四", "id_number": "130102198507151232", "phone": "13800138000"}],
        "applications": [],
    }],
}


def cargo() -> vo.Cargo:
    return vo.Cargo(name="变压器", weight_kg=30000, length_mm=10000, width_mm=2800, height_mm=2500)


def fleet_vehicles() -> list[vo.Vehicle]:
    """Tractor + flatbed trailer chosen from the fleet by plate only (AP-4 fills the rest)."""
    return [vo.Vehicle(plate_number="冀A12345"), vo.Vehicle(plate_number="冀B6789挂")]


def hand_fleet() -> list[vo.Vehicle]:
    """The demo fleet's tractor and trailer typed in by hand, as another party would (AP-6)."""
    return [vo.Vehicle(plate_number="冀A12345", vehicle_type="重型半挂牵引车", make_model="解放牌CA4250P66K24T1A1E5",
                       curb_mass_kg=8800, axle_count=3, wheelbase_mm=3300, tyre_count=10, length_mm=6900,
                       width_mm=2500, height_mm=3350, licence_documents=["documents/l1", "documents/l2"]),
            vo.Vehicle(plate_number="冀B6789挂", vehicle_type="重型平板半挂车", make_model="通华牌THT9400TDP",
                       curb_mass_kg=9500, axle_count=3, wheelbase_mm=7600, tyre_count=12, length_mm=13000,
                       width_mm=3000, height_mm=1600, licence_documents=["documents/l3", "documents/l4"])]


def overall(**kw: Any) -> vo.Overall:
    """Class I: over-limit by height and width only, gross within the 6-axle 49 t limit."""
    base = dict(total_mass_kg=48300, length_mm=18500, width_mm=3000, height_mm=4100,
                axle_spacings_mm=[3300, 1350, 7000, 1310, 1310],
                axle_loads_kg=[6300, 8000, 8000, 8700, 8700, 8600])
    base.update(kw)
    return vo.Overall(**base)


def passage(start: dt.date | None = START, end: dt.date | None = END, **kw: Any) -> vo.Passage:
    base = dict(origin_province="130000", destination_province="320000",
                route=[vo.RouteRow("130000", ["G4京港澳高速"]), vo.RouteRow("370000", ["G3京台高速"]),
                       vo.RouteRow("320000", ["G2京沪高速"])],
                start_date=start, end_date=end, origin_place="石家庄", destination_place="南京")
    base.update(kw)
    return vo.Passage(**base)


def manual_agent() -> vo.Agent:
    return vo.Agent(name="张三", id_number=AGENT_IDN, phone="13900139000",
                    id_card_documents=["documents/id-front", "documents/id-back"],
                    power_of_attorney_document="documents/poa")


def materials() -> list[vo.Material]:
    return [vo.Material("OTHER", "documents/d1")]


@dataclass
class Steps:
    """Every step of a complete class I application."""

    cargo: vo.Cargo
    vehicles: list[vo.Vehicle]
    overall: vo.Overall
    passage: vo.Passage
    agent: vo.Agent
    materials: list[vo.Material]


def complete_steps(**kw: Any) -> Steps:
    base = dict(cargo=cargo(), vehicles=fleet_vehicles(), overall=overall(), passage=passage(),
                agent=manual_agent(), materials=materials())
    base.update(kw)
    return Steps(**base)
