"""Step-by-step checks of the six-step form (AP-2..AP-9): each step is
normalised and answers with its own field errors (paths like "cargo.weight_kg")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from permit_application.identifiers import (
    check_id_number,
    check_phone,
    check_plate,
    is_masked,
    mask_id_number,
)
from permit_application.provinces import is_province, province_name
from permit_application.quantities import QuantityError, check_range, parse_thousandths
from permit_application.rules import RuleSet
from permit_application.values import Agent, Cargo, Material, Overall, Passage, RouteRow, Vehicle
from permitkit.errors import FieldViolation

STEPS = ("cargo", "vehicles", "overall", "passage", "agent", "materials")
MAX_VEHICLES = 8
MAX_ROUTE_ROWS = 100


def _quantity(obj: object, attr: str, path: str, bounds: tuple[int, int], unit: str,
              violations: list[FieldViolation], typed: Mapping[str, str]) -> int:
    """Read one quantity: typed tonnes/metres text wins over the integer field (AP-3)."""
    text = typed.get(attr)
    tpath = path
    if text:
        tpath = path.replace("_kg", "_tonnes").replace("_mm", "_metres")
        try:
            value = parse_thousandths(text, unit=unit)
        except QuantityError as e:
            violations.append(FieldViolation(tpath, e.message, e.reason))
            return 0
    else:
        value = int(getattr(obj, attr) or 0)
    try:
        check_range(value, minimum=bounds[0], maximum=bounds[1], unit=unit)
    except QuantityError as e:
        violations.append(FieldViolation(tpath, e.message, e.reason if value else "REQUIRED"))
    return value


def _bounds(rules: RuleSet, key: str) -> tuple[int, int]:
    lo, hi = rules.section("form_bounds")[key]
    return int(lo), int(hi)


def check_cargo(cargo: Cargo, rules: RuleSet) -> tuple[Cargo, list[FieldViolation]]:
    """AP-3: empty load skips the details; otherwise name, weight and dimensions."""
    if cargo.empty_load:
        return Cargo(empty_load=True), []
    v: list[FieldViolation] = []
    name = (cargo.name or "").strip()
    if not name:
        v.append(FieldViolation("cargo.name", "请填写货物名称。", "REQUIRED"))
    elif len(name) > 100:
        v.append(FieldViolation("cargo.name", "货物名称不能超过 100 个字。", "TOO_LONG"))
    t = cargo.typed
    out = Cargo(
        name=name,
        weight_kg=_quantity(cargo, "weight_kg", "cargo.weight_kg", _bounds(rules, "cargo_weight_kg"), "吨", v, t),
        length_mm=_quantity(cargo, "length_mm", "cargo.length_mm", _bounds(rules, "length_mm"), "米", v, t),
        width_mm=_quantity(cargo, "width_mm", "cargo.width_mm", _bounds(rules, "width_mm"), "米", v, t),
        height_mm=_quantity(cargo, "height_mm", "cargo.height_mm", _bounds(rules, "height_mm"), "米", v, t),
    )
    return out, v


def vehicle_kind(v: Vehicle) -> str:
    """The kind the rules use, from the explicit kind or the licence's type text."""
    if v.kind:
        return v.kind
    t = v.vehicle_type or ""
    if "液压" in t:
        return "HYDRAULIC_TRAILER"
    if "牵引" in t:
        return "TRACTOR"
    if "挂" in t or v.plate_number.endswith("挂"):
        return "FLATBED_TRAILER" if ("平板" in t or "低平" in t or "凹" in t) else "OTHER_TRAILER"
    return "TRUCK"


def check_vehicles(vehicles: list[Vehicle], known: Mapping[str, Vehicle],
                   rules: RuleSet) -> tuple[list[Vehicle], list[FieldViolation]]:
    """AP-4: plates validated; a known plate (fleet or earlier application) fills
    the rest; a vehicle entered by hand needs every field and two licence images."""
    v: list[FieldViolation] = []
    if not vehicles:
        return [], [FieldViolation("vehicles", "请至少添加一辆车辆。", "REQUIRED")]
    if len(vehicles) > MAX_VEHICLES:
        v.append(FieldViolation("vehicles", f"车辆不能超过 {MAX_VEHICLES} 辆。", "TOO_MANY"))
    out: list[Vehicle] = []
    seen: set[str] = set()
    for i, raw in enumerate(vehicles):
        p = f"vehicles[{i}]"
        chk = check_plate(raw.plate_number)
        veh = replace(raw, plate_number=chk.normalized,
                      licence_documents=[d.strip() for d in raw.licence_documents if d.strip()])
        if not chk.valid:
            v.append(FieldViolation(f"{p}.plate_number", chk.message, "PLATE_INVALID"))
        elif chk.normalized in seen:
            v.append(FieldViolation(f"{p}.plate_number", "同一车辆不能重复添加。", "PLATE_DUPLICATE"))
        seen.add(chk.normalized)
        k = known.get(chk.normalized)
        if k is not None:
            # Blank fields are taken from the known vehicle; any differing value
            # makes it a vehicle entered by hand (needs licence images).
            same = True
            for f in Vehicle.SPEC_FIELDS:
                mine, theirs = getattr(veh, f), getattr(k, f)
                if mine in ("", 0, None):
                    veh = replace(veh, **{f: theirs})
                elif mine != theirs:
                    same = False
            if same:
                # A vehicle of an earlier application keeps the licence images uploaded then.
                veh = replace(veh, source=k.source or "FLEET", fleet_vehicle=k.fleet_vehicle,
                              kind=veh.kind or k.kind,
                              licence_documents=veh.licence_documents or list(k.licence_documents))
            else:
                veh = replace(veh, source="MANUAL", fleet_vehicle="")
        else:
            veh = replace(veh, source="MANUAL", fleet_vehicle="")
        veh = replace(veh, kind=vehicle_kind(veh), vehicle_type=(veh.vehicle_type or "").strip(),
                      make_model=(veh.make_model or "").strip())
        if veh.source == "MANUAL":
            if not veh.vehicle_type:
                v.append(FieldViolation(f"{p}.vehicle_type", "请填写车辆类型。", "REQUIRED"))
            if not veh.make_model:
                v.append(FieldViolation(f"{p}.make_model", "请填写厂牌型号。", "REQUIRED"))
            for attr, key, unit in (("curb_mass_kg", "vehicle_curb_mass_kg", "吨"),
                                    ("wheelbase_mm", "wheelbase_mm", "米"),
                                    ("length_mm", "length_mm", "米"), ("width_mm", "width_mm", "米"),
                                    ("height_mm", "height_mm", "米")):
                _quantity(veh, attr, f"{p}.{attr}", _bounds(rules, key), unit, v, {})
            for attr, key, label in (("axle_count", "axle_count", "轴数"), ("tyre_count", "tyre_count", "轮胎数")):
                lo, hi = _bounds(rules, key)
                n = getattr(veh, attr)
                if not (lo <= n <= hi):
                    v.append(FieldViolation(f"{p}.{attr}", f"{label}应在 {lo} 到 {hi} 之间。",
                                            "REQUIRED" if not n else "OUT_OF_RANGE"))
            if len(veh.licence_documents) < 2:
                v.append(FieldViolation(f"{p}.licence_documents",
                                        "手工填写的车辆需上传两张车辆行驶证或临时号牌图片。", "LICENCE_IMAGES_REQUIRED"))
        for d in veh.licence_documents:
            if not d.startswith("documents/"):
                v.append(FieldViolation(f"{p}.licence_documents", "材料引用格式不正确。", "DOCUMENT_INVALID"))
        out.append(veh)
    # Tractor plus trailers: a trailer follows a power unit, a tractor pulls something.
    if out and out[0].is_trailer:
        v.append(FieldViolation("vehicles[0].plate_number", "第一辆车应为牵引车或货车，挂车排在其后。", "TRAILER_FIRST"))
    for i, veh in enumerate(out):
        if veh.kind == "TRACTOR" and not any(x.is_trailer for x in out[i + 1:]):
            v.append(FieldViolation(f"vehicles[{i}]", "牵引车需至少挂接一辆挂车。", "TRACTOR_WITHOUT_TRAILER"))
    return out, v


def check_overall(overall: Overall, vehicles: list[Vehicle], cargo: Cargo | None,
                  rules: RuleSet) -> tuple[Overall, list[FieldViolation]]:
    """AP-5: total mass >= vehicles + cargo; each dimension >= the larger of
    vehicle and cargo; one spacing between consecutive axles, one load per axle."""
    v: list[FieldViolation] = []
    t = overall.typed
    o = replace(
        overall,
        typed={},
        total_mass_kg=_quantity(overall, "total_mass_kg", "overall.total_mass_kg",
                                _bounds(rules, "total_mass_kg"), "吨", v, t),
        length_mm=_quantity(overall, "length_mm", "overall.length_mm", _bounds(rules, "length_mm"), "米", v, t),
        width_mm=_quantity(overall, "width_mm", "overall.width_mm", _bounds(rules, "width_mm"), "米", v, t),
        height_mm=_quantity(overall, "height_mm", "overall.height_mm", _bounds(rules, "height_mm"), "米", v, t),
        axle_spacings_mm=[int(x) for x in overall.axle_spacings_mm],
        axle_loads_kg=[int(x) for x in overall.axle_loads_kg],
    )
    if not vehicles:
        v.append(FieldViolation("vehicles", "请先填写车辆信息。", "VEHICLES_REQUIRED"))
        return o, v
    c = cargo if cargo and not cargo.empty_load else Cargo()
    minimum = sum(x.curb_mass_kg for x in vehicles) + c.weight_kg
    if o.total_mass_kg and o.total_mass_kg < minimum:
        v.append(FieldViolation("overall.total_mass_kg",
                                f"车货总质量应不小于车辆整备质量与货物重量之和（{minimum / 1000:.3f} 吨）。",
                                "TOTAL_MASS_TOO_SMALL"))
    for dim, label in (("length_mm", "总长"), ("width_mm", "总宽"), ("height_mm", "总高")):
        need = max([getattr(x, dim) for x in vehicles] + [getattr(c, dim)])
        have = getattr(o, dim)
        if have and have < need:
            v.append(FieldViolation(f"overall.{dim}",
                                    f"车货{label}应不小于车辆与货物外廓尺寸的较大者（{need / 1000:.3f} 米）。",
                                    "DIMENSION_TOO_SMALL"))
    axles = sum(x.axle_count for x in vehicles)
    if len(o.axle_spacings_mm) != max(axles - 1, 0):
        v.append(FieldViolation("overall.axle_spacings_mm", f"请填写 {max(axles - 1, 0)} 个轴距（共 {axles} 轴）。",
                                "AXLE_SPACINGS_COUNT"))
    elif any(s <= 0 or s > 30000 for s in o.axle_spacings_mm):
        v.append(FieldViolation("overall.axle_spacings_mm", "轴距应大于 0 且不超过 30 米。", "OUT_OF_RANGE"))
    if len(o.axle_loads_kg) != axles:
        v.append(FieldViolation("overall.axle_loads_kg", f"请填写 {axles} 个轴荷（每轴一个）。", "AXLE_LOADS_COUNT"))
    elif any(x <= 0 for x in o.axle_loads_kg):
        v.append(FieldViolation("overall.axle_loads_kg", "轴荷应大于 0。", "OUT_OF_RANGE"))
    elif o.total_mass_kg and sum(o.axle_loads_kg) != o.total_mass_kg:
        v.append(FieldViolation("overall.axle_loads_kg",
                                f"各轴轴荷之和（{sum(o.axle_loads_kg) / 1000:.3f} 吨）应等于车货总质量。",
                                "AXLE_LOADS_SUM"))
    if o.single_tyre_axle_count < 0 or o.single_tyre_axle_count > axles:
        v.append(FieldViolation("overall.single_tyre_axle_count", "单轮胎轴数不正确。", "OUT_OF_RANGE"))
    return o, v


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def check_passage(passage: Passage, today: dt.date, rules: RuleSet,
                  *, check_past: bool = True) -> tuple[Passage, list[FieldViolation]]:
    """Origin, destination, route rows (AP-7a) and travel period."""
    v: list[FieldViolation] = []
    rows = [RouteRow(r.province.strip(), [x.strip() for x in r.roads if x.strip()]) for r in passage.route]
    p = replace(passage, route=rows, origin_place=passage.origin_place.strip(),
                destination_place=passage.destination_place.strip())
    for attr, label in (("origin_province", "起运地省份"), ("destination_province", "目的地省份")):
        code = getattr(p, attr)
        if not code:
            v.append(FieldViolation(f"passage.{attr}", f"请选择{label}。", "REQUIRED"))
        elif not is_province(code):
            v.append(FieldViolation(f"passage.{attr}", f"{label}代码不正确。", "UNKNOWN_PROVINCE"))
    if not rows:
        v.append(FieldViolation("passage.route", "请填写通行路线。", "ROUTE_EMPTY"))
    elif len(rows) > MAX_ROUTE_ROWS:
        v.append(FieldViolation("passage.route", "路线行数过多。", "TOO_MANY"))
    for i, r in enumerate(rows):
        if not is_province(r.province):
            v.append(FieldViolation(f"passage.route[{i}].province", "请选择途经省份。", "UNKNOWN_PROVINCE"))
        if not r.roads:
            v.append(FieldViolation(f"passage.route[{i}].roads",
                                    f"请填写{province_name(r.province)}境内的通行道路。", "ROW_WITHOUT_ROADS"))
    if rows and p.origin_province and rows[0].province != p.origin_province:
        v.append(FieldViolation("passage.route[0].province", "路线第一行应为起运地省份。", "FIRST_ROW_NOT_ORIGIN"))
    if rows and p.destination_province and is_province(p.destination_province):
        if all(r.province != p.destination_province for r in rows):
            v.append(FieldViolation("passage.route", "路线中应包含目的地省份。", "DESTINATION_NOT_ON_ROUTE"))
        elif rows[-1].province != p.destination_province and not p.route_confirmed:
            # AP-7a: re-entering provinces may leave another last row; the user confirms.
            v.append(FieldViolation("passage.route_confirmed",
                                    "路线最后一行不是目的地省份，请确认无误后继续。", "LAST_ROW_NOT_DESTINATION"))
    ps = rules.section("passage")
    if p.start_date is None:
        v.append(FieldViolation("passage.start_date", "请选择通行起始日期。", "REQUIRED"))
    if p.end_date is None:
        v.append(FieldViolation("passage.end_date", "请选择通行截止日期。", "REQUIRED"))
    if p.start_date and p.end_date:
        if check_past and p.start_date < today:
            v.append(FieldViolation("passage.start_date", "通行起始日期不能早于今天。", "START_IN_PAST"))
        if p.end_date < p.start_date:
            v.append(FieldViolation("passage.end_date", "通行截止日期不能早于起始日期。", "END_BEFORE_START"))
        elif p.multi_trip:
            limit = _add_months(p.start_date, int(ps["multi_trip_max_months"])) - dt.timedelta(days=1)
            if p.end_date > limit:
                v.append(FieldViolation("passage.end_date",
                                        f"多次通行许可有效期最长 {ps['multi_trip_max_months']} 个月。", "PERIOD_TOO_LONG"))
        elif (p.end_date - p.start_date).days + 1 > int(ps["single_trip_max_days"]):
            v.append(FieldViolation("passage.end_date",
                                    f"单次通行期限最长 {ps['single_trip_max_days']} 天。", "PERIOD_TOO_LONG"))
    return p, v


def check_agent(agent: Agent, resolved: Agent | None, current: Agent | None) -> tuple[Agent, list[FieldViolation]]:
    """AP-8: a suggested agent fills the rest; by hand needs name, a valid ID
    number, a phone, two ID-card images and a power of attorney."""
    v: list[FieldViolation] = []
    if agent.agent_ref:
        if resolved is None:
            return agent, [FieldViolation("agent.agent_ref", "未找到所选经办人，请重新选择。", "AGENT_NOT_FOUND")]
        a = replace(resolved, agent_ref=agent.agent_ref,
                    phone=agent.phone.strip() or resolved.phone,
                    power_of_attorney_document=agent.power_of_attorney_document or resolved.power_of_attorney_document,
                    id_card_documents=list(agent.id_card_documents) or list(resolved.id_card_documents))
        msg = check_phone(a.phone)
        if msg:
            v.append(FieldViolation("agent.phone", msg, "PHONE_INVALID"))
        return a, v
    a = replace(agent, name=agent.name.strip(), phone=agent.phone.strip(),
                id_number=agent.id_number.strip().upper(),
                id_card_documents=[d.strip() for d in agent.id_card_documents if d.strip()],
                power_of_attorney_document=agent.power_of_attorney_document.strip(), source="MANUAL")
    if is_masked(a.id_number):
        # The client sent back the masked number it was shown: keep the stored one.
        if current is not None and mask_id_number(current.id_number) == a.id_number:
            a = replace(a, id_number=current.id_number)
            if current.source in ("FLEET", "HISTORY") and current.name == a.name:
                a = replace(a, source=current.source, agent_ref=current.agent_ref)
        else:
            v.append(FieldViolation("agent.id_number", "请填写完整的身份证号码。", "ID_NUMBER_INVALID"))
    if not a.name:
        v.append(FieldViolation("agent.name", "请填写经办人姓名。", "REQUIRED"))
    elif len(a.name) > 50:
        v.append(FieldViolation("agent.name", "经办人姓名过长。", "TOO_LONG"))
    if not is_masked(a.id_number):
        msg = check_id_number(a.id_number)
        if msg:
            v.append(FieldViolation("agent.id_number", msg, "ID_NUMBER_INVALID"))
    msg = check_phone(a.phone)
    if msg:
        v.append(FieldViolation("agent.phone", msg, "PHONE_INVALID"))
    if a.source == "MANUAL":
        if len(a.id_card_documents) < 2:
            v.append(FieldViolation("agent.id_card_documents", "请上传经办人身份证正反面两张图片。", "ID_CARD_IMAGES_REQUIRED"))
        if not a.power_of_attorney_document:
            v.append(FieldViolation("agent.power_of_attorney_document", "请上传授权委托书图片。",
                                    "POWER_OF_ATTORNEY_REQUIRED"))
    for d in [*a.id_card_documents, *([a.power_of_attorney_document] if a.power_of_attorney_document else [])]:
        if not d.startswith("documents/"):
            v.append(FieldViolation("agent.id_card_documents", "材料引用格式不正确。", "DOCUMENT_INVALID"))
            break
    return a, v


MATERIAL_KINDS = ("OUTLINE_DRAWING", "ESCORT_PLAN", "TRANSPORT_PLAN", "OTHER")


def check_materials(materials: list[Material]) -> tuple[list[Material], list[FieldViolation]]:
    """Step 6: document references with a kind (what is required is AP-9, checked on submit)."""
    v: list[FieldViolation] = []
    out: list[Material] = []
    seen: set[str] = set()
    for i, m in enumerate(materials):
        doc = m.document.strip()
        if m.kind not in MATERIAL_KINDS:
            v.append(FieldViolation(f"materials[{i}].kind", "请选择材料类型。", "MATERIAL_KIND_INVALID"))
        if not doc.startswith("documents/") or len(doc) <= len("documents/"):
            v.append(FieldViolation(f"materials[{i}].document", "材料引用格式不正确。", "DOCUMENT_INVALID"))
        elif doc in seen:
            v.append(FieldViolation(f"materials[{i}].document", "同一材料不能重复添加。", "DOCUMENT_DUPLICATE"))
        seen.add(doc)
        out.append(Material(m.kind, doc))
    if len(out) > 50:
        v.append(FieldViolation("materials", "材料数量过多。", "TOO_MANY"))
    return out, v
