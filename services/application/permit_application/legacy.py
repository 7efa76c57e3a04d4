"""Reading the PC system's export (ID-3): vehicles, agents and past applications.

The export is the one the identity service reads:
{"accounts": [{"legacy_id": "L1001", "kind": "ENTERPRISE"|"PERSON", "vehicles": [...],
"agents": [...], "applications": [...]}]}. Both spellings of vehicle fields
are accepted ("plate_number"/"plate", "vehicle_type"/"type", "axle_count"/"axles",
"tyre_count"/"tyres").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from permit_application import values as vo
from permit_application.errors import InvalidExport
from permit_application.identifiers import check_plate, normalize_plate
from permit_application.models import Application, State
from permit_application.steps import vehicle_kind

_ALIASES = {
    "plate_number": ("plate_number", "plate"),
    "vehicle_type": ("vehicle_type", "type"),
    "make_model": ("make_model", "model"),
    "curb_mass_kg": ("curb_mass_kg",),
    "axle_count": ("axle_count", "axles"),
    "wheelbase_mm": ("wheelbase_mm",),
    "tyre_count": ("tyre_count", "tyres", "tire_count", "tires"),
    "length_mm": ("length_mm",),
    "width_mm": ("width_mm",),
    "height_mm": ("height_mm",),
}

_STATES = {s.value: s for s in State} | {
    "未提交": State.DRAFT, "未受理": State.SUBMITTED, "处理中": State.PROCESSING, "已发证": State.ISSUED,
    "不予许可": State.DENIED, "已撤销": State.WITHDRAWN, "退回补正": State.RETURNED}


@dataclass
class PastApplication:
    id: str
    state: State
    vehicles: list[vo.Vehicle]
    cargo: vo.Cargo | None
    passage: vo.Passage | None
    agent: vo.Agent | None
    permit_class: int = 0
    permit_number: str = ""
    permit_start_date: dt.date | None = None
    permit_end_date: dt.date | None = None
    legacy_id: str = ""


@dataclass
class Account:
    party: str
    vehicles: list[vo.Vehicle] = field(default_factory=list)
    agents: list[vo.Agent] = field(default_factory=list)
    applications: list[PastApplication] = field(default_factory=list)


def _pick(d: Mapping[str, Any], key: str, default: Any = None) -> Any:
    for k in _ALIASES.get(key, (key,)):
        if k in d and d[k] is not None:
            return d[k]
    return default


def parse_vehicle(d: Mapping[str, Any], where: str) -> vo.Vehicle:
    plate = normalize_plate(str(_pick(d, "plate_number", "")))
    if not check_plate(plate).valid:
        raise InvalidExport(f"车牌号码格式不正确：{plate}", field=f"{where}.plate_number")
    try:
        nums: dict[str, Any] = {k: int(_pick(d, k, 0)) for k in ("curb_mass_kg", "axle_count", "wheelbase_mm",
                                                                  "tyre_count", "length_mm", "width_mm", "height_mm")}
        v = vo.Vehicle(plate_number=plate, vehicle_type=str(_pick(d, "vehicle_type", "")),
                       make_model=str(_pick(d, "make_model", "")), source="FLEET", **nums)
    except (TypeError, ValueError):
        raise InvalidExport(f"车辆 {plate} 的数值字段不正确。", field=where) from None
    v.kind = vehicle_kind(v)
    return v


def _date(v: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(v)[:10]) if v else None


def _past(d: Mapping[str, Any], legacy_id: str, i: int, fleet: dict[str, vo.Vehicle]) -> PastApplication:
    where = f"accounts[{legacy_id}].applications[{i}]"
    number = str(d.get("number") or d.get("application_number") or f"LEGACY{legacy_id}{i + 1:04d}")
    state = _STATES.get(str(d.get("state") or d.get("status") or "ISSUED"))
    if state is None:
        raise InvalidExport(f"申请状态不正确：{d.get('state')}", field=f"{where}.state")
    vehicles = []
    for j, v in enumerate(d.get("vehicles") or []):
        if isinstance(v, str):
            plate = normalize_plate(v)
            vehicles.append(fleet.get(plate) or vo.Vehicle(plate_number=plate, source="FLEET"))
        else:
            vehicles.append(parse_vehicle(v, f"{where}.vehicles[{j}]"))
    p = d.get("passage") or d
    route = [vo.RouteRow(str(r.get("province", "")), [str(x) for x in r.get("roads") or []])
             for r in p.get("route") or []]
    passage = vo.Passage(origin_province=str(p.get("origin_province", "")),
                         destination_province=str(p.get("destination_province", "")), route=route,
                         start_date=_date(p.get("start_date")), end_date=_date(p.get("end_date")),
                         multi_trip=bool(p.get("multi_trip", False)))
    c = d.get("cargo")
    cargo = vo.Cargo(**{k: c[k] for k in ("empty_load", "name", "weight_kg", "length_mm", "width_mm", "height_mm")
                        if k in c}) if isinstance(c, Mapping) else None
    a = d.get("agent")
    agent = vo.Agent(name=str(a.get("name", "")), id_number=str(a.get("id_number", "")),
                     phone=str(a.get("phone", "")), source="FLEET") if isinstance(a, Mapping) else None
    return PastApplication(
        id=number, state=state, vehicles=vehicles, cargo=cargo, passage=passage, agent=agent,
        permit_class=int(d.get("permit_class") or 0), permit_number=str(d.get("permit_number") or ""),
        permit_start_date=_date(d.get("permit_start_date")), permit_end_date=_date(d.get("permit_end_date")),
        legacy_id=f"{legacy_id}/{number}")


def parse_export(export: Mapping[str, Any]) -> list[Account]:
    """Validate and read the export; a bad record raises InvalidExport naming it."""
    accounts = export.get("accounts") if isinstance(export, Mapping) else None
    if not isinstance(accounts, list):
        raise InvalidExport("缺少 accounts 列表。", field="accounts")
    out = []
    for a in accounts:
        legacy_id = str(a.get("legacy_id") or "").strip()
        if not legacy_id or "/" in legacy_id:
            raise InvalidExport("账户缺少 legacy_id。", field="accounts.legacy_id")
        acc = Account(party=f"parties/{legacy_id}")
        for i, v in enumerate(a.get("vehicles") or []):
            acc.vehicles.append(parse_vehicle(v, f"accounts[{legacy_id}].vehicles[{i}]"))
        for ag in a.get("agents") or []:
            idn = str(ag.get("id_number") or "").strip().upper()
            if not idn:
                raise InvalidExport("经办人缺少身份证号码。", field=f"accounts[{legacy_id}].agents.id_number")
            acc.agents.append(vo.Agent(name=str(ag.get("name") or "").strip(), id_number=idn,
                                       phone=str(ag.get("phone") or "").strip(), source="FLEET"))
        fleet = {v.plate_number: v for v in acc.vehicles}
        for i, p in enumerate(a.get("applications") or []):
            acc.applications.append(_past(p, legacy_id, i, fleet))
        out.append(acc)
    return out


def build_application(past: PastApplication, *, party: str, now: dt.datetime) -> Application:
    """A past application as this service stores it (never re-sent for review)."""
    app = Application.new(id=past.id, party=party, created_by="services/application", now=now)
    app.state = past.state.value
    app.legacy_id = past.legacy_id
    if past.cargo:
        app.put_cargo(past.cargo)
    app.put_vehicles(past.vehicles)
    if past.passage:
        app.put_passage(past.passage)
    if past.agent:
        app.put_agent(past.agent)
    app.permit_class = past.permit_class
    app.submission = 0 if past.state == State.DRAFT else 1
    if past.state == State.ISSUED:
        app.permit_number = past.permit_number
        app.permit_start_date = past.permit_start_date or (past.passage.start_date if past.passage else None)
        app.permit_end_date = past.permit_end_date or (past.passage.end_date if past.passage else None)
        app.permit_state = "VALID"
    return app
