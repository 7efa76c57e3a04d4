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
from dataclasses import asdict, dataclass, field
from typing import Any

from permit_application import values as vo
from permit_application.errors import InvalidExport
from permit_application.identifiers import check_plate, normalize_plate
from permit_application.models import Application, State
from permit_application.steps import vehicle_kind
from permitkit import legacy_sync
from permitkit.errors import PermitError

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
    # The vehicles as the export gave them (plates, or inline figures): what the
    # sync compares, so a fleet vehicle's change does not count as the application's.
    vehicle_refs: list[Any] = field(default_factory=list)


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


def _cargo_value(key: str, v: Any) -> Any:
    """A cargo field as the model holds it, whichever way the export spelled it."""
    if key == "name":
        return str(v or "")
    if key == "empty_load":
        return v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes", "是")
    return int(v or 0)


def _past(d: Mapping[str, Any], legacy_id: str, i: int, fleet: dict[str, vo.Vehicle]) -> PastApplication:
    where = f"accounts[{legacy_id}].applications[{i}]"
    number = str(d.get("number") or d.get("application_number") or f"LEGACY{legacy_id}{i + 1:04d}")
    state = _STATES.get(str(d.get("state") or d.get("status") or "ISSUED"))
    if state is None:
        raise InvalidExport(f"申请状态不正确：{d.get('state')}", field=f"{where}.state")
    vehicles, refs = [], []
    for j, v in enumerate(d.get("vehicles") or []):
        if isinstance(v, str):
            plate = normalize_plate(v)
            vehicles.append(fleet.get(plate) or vo.Vehicle(plate_number=plate, source="FLEET"))
            refs.append(plate)
        else:
            vehicles.append(parse_vehicle(v, f"{where}.vehicles[{j}]"))
            refs.append(asdict(vehicles[-1]))
    p = d.get("passage") or d
    route = [vo.RouteRow(str(r.get("province", "")), [str(x) for x in r.get("roads") or []])
             for r in p.get("route") or []]
    passage = vo.Passage(origin_province=str(p.get("origin_province", "")),
                         destination_province=str(p.get("destination_province", "")), route=route,
                         start_date=_date(p.get("start_date")), end_date=_date(p.get("end_date")),
                         multi_trip=bool(p.get("multi_trip", False)))
    c = d.get("cargo")
    cargo = vo.Cargo(**{k: _cargo_value(k, c[k]) for k in ("empty_load", "name", "weight_kg", "length_mm",
                                                            "width_mm", "height_mm")
                        if k in c}) if isinstance(c, Mapping) else None
    a = d.get("agent")
    agent = vo.Agent(name=str(a.get("name", "")), id_number=str(a.get("id_number", "")),
                     phone=str(a.get("phone", "")), source="FLEET") if isinstance(a, Mapping) else None
    return PastApplication(
        id=number, state=state, vehicles=vehicles, cargo=cargo, passage=passage, agent=agent,
        permit_class=int(d.get("permit_class") or 0), permit_number=str(d.get("permit_number") or ""),
        permit_start_date=_date(d.get("permit_start_date")), permit_end_date=_date(d.get("permit_end_date")),
        legacy_id=f"{legacy_id}/{number}", vehicle_refs=refs)


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
        app.permit = f"permits/{legacy_permit_id(past.id)}"
        # AP-6: the permit's validity occupies its vehicles.
        app.period_start = min(filter(None, [app.period_start, app.permit_start_date]), default=None)
        app.period_end = max(filter(None, [app.period_end, app.permit_end_date]), default=None)
    return app


def legacy_permit_id(application_id: str) -> str:
    """The id the approval service gives the permit of an imported issued application."""
    return legacy_sync.legacy_object_id("permit", application_id)


REFRESHED = ("state", "cargo", "vehicles", "passage", "agent", "permit_class", "submission",
             "route_provinces", "period_start", "period_end", "permit", "permit_number",
             "permit_start_date", "permit_end_date")


def refresh_application(app: Application, past: PastApplication, *, now: dt.datetime) -> bool:
    """Bring an imported application up to a newer export (PC-3); True when its state
    moved. A permit the holder abolished or extended here keeps that state."""
    if app.legacy_id != past.legacy_id:
        raise InvalidExport(f"申请编号 {past.id} 已被系统中的其他申请使用。", reason="APPLICATION_NUMBER_TAKEN",
                            field="applications.number")
    fresh = build_application(past, party=app.party, now=now)
    moved = app.state != fresh.state
    for name in REFRESHED:
        setattr(app, name, getattr(fresh, name))
    app.put_vehicles(past.vehicles)
    if moved or not app.permit_state or app.state != State.ISSUED.value:
        app.permit_state = fresh.permit_state
    if app.permit_state == "EXTENDED" and app.permit_end_date and app.period_end:
        app.period_end = max(app.period_end, app.permit_end_date)
    app.update_time = now
    return moved


def check_issued(past: PastApplication, where: str) -> None:
    """An issued application must carry what its permit needs (PC-3): the number, the
    validity and the class."""
    if past.state != State.ISSUED:
        return
    if not past.permit_number.strip():
        raise InvalidExport("已发证申请缺少许可证编号。", reason="PERMIT_NUMBER_REQUIRED",
                            field=f"{where}.permit_number")
    start = past.permit_start_date or (past.passage.start_date if past.passage else None)
    end = past.permit_end_date or (past.passage.end_date if past.passage else None)
    if start is None or end is None:
        raise InvalidExport("已发证申请缺少许可有效期。", reason="PERMIT_VALIDITY_REQUIRED",
                            field=f"{where}.permit_start_date")
    if end < start:
        raise InvalidExport("许可有效期的截止日期早于起始日期。", reason="PERMIT_VALIDITY_INVALID",
                            field=f"{where}.permit_end_date")
    if past.permit_class not in (1, 2, 3):
        raise InvalidExport("已发证申请的许可类别应为 1、2 或 3。", reason="PERMIT_CLASS_INVALID",
                            field=f"{where}.permit_class")
    if not past.vehicles:
        raise InvalidExport("已发证申请缺少车辆。", reason="VEHICLES_REQUIRED", field=f"{where}.vehicles")


@dataclass
class SyncRecord:
    """One record of an export for the sync (PC-3): what it is, where it was read,
    and its parsed value or why it could not be read."""

    record: str
    source: str
    party: str
    value: vo.Vehicle | vo.Agent | PastApplication | None = None
    error: PermitError | None = None


def _safe(fn: Any, where: str, *args: Any) -> tuple[Any, PermitError | None]:
    try:
        return fn(*args), None
    except PermitError as e:
        return None, e
    except (TypeError, ValueError, AttributeError, KeyError):
        return None, InvalidExport("记录中有格式不正确的字段（数字或日期）。", field=where)


def _agent(ag: Any, where: str) -> vo.Agent:
    if not isinstance(ag, Mapping):
        raise InvalidExport("经办人记录格式错误。", field=where)
    idn = str(ag.get("id_number") or "").strip().upper()
    if not idn:
        raise InvalidExport("经办人缺少身份证号码。", field=f"{where}.id_number")
    return vo.Agent(name=str(ag.get("name") or "").strip(), id_number=idn,
                    phone=str(ag.get("phone") or "").strip(), source="FLEET")


def _checked_vehicle(v: Any, where: str) -> vo.Vehicle:
    if not isinstance(v, Mapping):
        raise InvalidExport("车辆记录格式错误。", field=where)
    out = parse_vehicle(v, where)
    for k in ("curb_mass_kg", "axle_count", "wheelbase_mm", "tyre_count", "length_mm", "width_mm", "height_mm"):
        if getattr(out, k) < 0:
            raise InvalidExport(f"车辆 {out.plate_number} 的数值不能为负数。", reason="FIGURE_INVALID",
                                field=f"{where}.{k}")
    return out


def _checked_past(p: Any, legacy_id: str, i: int, fleet: dict[str, vo.Vehicle]) -> PastApplication:
    where = f"accounts[{legacy_id}].applications[{i}]"
    if not isinstance(p, Mapping):
        raise InvalidExport("申请记录格式错误。", field=where)
    past = _past(p, legacy_id, i, fleet)
    for v in past.vehicles:
        if not check_plate(v.plate_number).valid:
            raise InvalidExport(f"车牌号码格式不正确：{v.plate_number}", reason="PLATE_INVALID",
                                field=f"{where}.vehicles")
    check_issued(past, where)
    return past


def parse_sync_records(export: Any) -> list[SyncRecord]:
    """The vehicles, agents and applications of an export, one record each (a bad one
    carries its error)."""
    accounts = export.get("accounts") if isinstance(export, Mapping) else None
    if not isinstance(accounts, list):
        raise InvalidExport("缺少 accounts 列表。", field="accounts")
    out: list[SyncRecord] = []
    for n, a in enumerate(accounts):
        legacy_id = str(a.get("legacy_id") or "").strip() if isinstance(a, Mapping) else ""
        if not legacy_id or "/" in legacy_id:
            src = str(a.get("_source") or f"accounts[{n}]") if isinstance(a, Mapping) else f"accounts[{n}]"
            out.append(SyncRecord(f"accounts[{n}]", src, "", error=InvalidExport(
                "账户缺少 legacy_id。", reason="LEGACY_ID_INVALID", field="accounts.legacy_id")))
            continue
        party, base = f"parties/{legacy_id}", f"accounts/{legacy_id}"
        fleet: dict[str, vo.Vehicle] = {}
        for i, v in enumerate(a.get("vehicles") or []):
            where = f"accounts[{legacy_id}].vehicles[{i}]"
            src = str(v.get("_source") or where) if isinstance(v, Mapping) else where
            value, err = _safe(_checked_vehicle, where, v, where)
            key = value.plate_number if value else normalize_plate(str(_pick(v, "plate_number", "") or i)
                                                                 if isinstance(v, Mapping) else str(i))
            if value is not None:
                fleet[value.plate_number] = value
            out.append(SyncRecord(f"{base}/vehicles/{key}", src, party, value, err))
        for i, ag in enumerate(a.get("agents") or []):
            where = f"accounts[{legacy_id}].agents[{i}]"
            src = str(ag.get("_source") or where) if isinstance(ag, Mapping) else where
            value, err = _safe(_agent, where, ag, where)
            key = value.id_number if value else f"[{i}]"
            out.append(SyncRecord(f"{base}/agents/{key}", src, party, value, err))
        for i, p in enumerate(a.get("applications") or []):
            where = f"accounts[{legacy_id}].applications[{i}]"
            src = str(p.get("_source") or where) if isinstance(p, Mapping) else where
            value, err = _safe(_checked_past, where, p, legacy_id, i, fleet)
            raw_number = (p.get("number") or p.get("application_number")) if isinstance(p, Mapping) else None
            key = value.id if value else str(raw_number or f"[{i}]")
            out.append(SyncRecord(f"{base}/applications/{key}", src, party, value, err))
    return out
