"""Over-limit, classification, refusal and required-material rules as versioned data.

The numbers live in ``rules/*.json`` (one file per rule set, with an effective
date), not in code; a province or a new regulation adds a file. Every verdict
names the rule set and the rules that produced it (AP-5, AP-9).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from permit_application.quantities import format_thousandths
from permit_application.values import Agent, Cargo, Material, Overall, Passage, Vehicle

RULES_DIR = Path(__file__).with_name("rules")


@dataclass(frozen=True)
class RuleSet:
    """One effective-dated version of the rules."""

    id: str
    effective_date: dt.date
    data: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.id}@{self.effective_date.isoformat()}"

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.data[name])


@cache
def load_rule_sets(directory: Path = RULES_DIR) -> tuple[RuleSet, ...]:
    """Every rule set in ``directory``, oldest first."""
    out = []
    for p in sorted(directory.glob("*.json")):
        d = json.loads(p.read_text(encoding="utf-8"))
        out.append(RuleSet(d["id"], dt.date.fromisoformat(d["effective_date"]), d))
    if not out:
        raise RuntimeError(f"no rule sets in {directory}")
    return tuple(sorted(out, key=lambda r: r.effective_date))


def rule_set_for(day: dt.date, sets: tuple[RuleSet, ...] | None = None) -> RuleSet:
    """The rule set in force on ``day`` (the latest effective on or before it)."""
    sets = sets or load_rule_sets()
    current = [r for r in sets if r.effective_date <= day]
    if not current:
        raise LookupError(f"no rule set in force on {day.isoformat()}")
    return current[-1]


@dataclass(frozen=True)
class RuleHit:
    rule: str
    description: str
    field: str = ""
    value: int = 0
    limit: int = 0


@dataclass(frozen=True)
class Verdict:
    """The outcome of classifying one vehicle-cargo combination."""

    over_limit: bool
    permit_class: int
    rule_set: str
    rules: tuple[RuleHit, ...]
    refused: bool = False
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"over_limit": self.over_limit, "permit_class": self.permit_class,
                "rule_set": self.rule_set, "refused": self.refused, "message": self.message,
                "rules": [h.__dict__ for h in self.rules]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Verdict:
        return cls(d["over_limit"], d["permit_class"], d["rule_set"],
                   tuple(RuleHit(**h) for h in d.get("rules", [])), d.get("refused", False),
                   d.get("message", ""))


def _m(mm: int) -> str:
    return format_thousandths(mm) + " 米"


def _t(kg: int) -> str:
    return format_thousandths(kg) + " 吨"


def gross_limit(rules: RuleSet, vehicles: list[Vehicle], overall: Overall) -> tuple[int, str]:
    """Art. 3 gross-mass limit for the combination, and how it was chosen."""
    ol = rules.section("over_limit")
    axles = sum(v.axle_count for v in vehicles) or len(overall.axle_loads_kg)
    combination = len(vehicles) > 1 or any(v.is_trailer for v in vehicles)
    table = ol["gross_limits"]
    top = max(e["axles"] for e in table)
    key = min(axles, top)
    exact = [e for e in table if e["axles"] == key and e["combination"] == combination]
    same_axles = [e for e in table if e["axles"] == key]
    lower = [e for e in table if e["axles"] <= key]
    entry = (exact or same_axles or sorted(lower, key=lambda e: e["axles"]) or [table[0]])[-1]
    limit = int(entry["limit_kg"])
    how = f"{axles}轴{'汽车列车' if combination else '货车'}"
    if overall.single_drive_axle and "single_drive_axle_limit_kg" in entry:
        limit = int(entry["single_drive_axle_limit_kg"])
        how += "（牵引车驱动轴为单轴）"
    if overall.single_tyre_axle_count:
        limit -= overall.single_tyre_axle_count * int(ol["single_tyre_axle_reduction_kg"])
        how += f"（{overall.single_tyre_axle_count}根非驱动轴为单轮胎）"
    return limit, how


def _trailer_axle_loads(vehicles: list[Vehicle], overall: Overall) -> list[tuple[Vehicle, list[int]]]:
    """The axle loads of each trailer, cut from the overall loads by vehicle order."""
    loads = overall.axle_loads_kg
    if len(loads) != sum(v.axle_count for v in vehicles):
        return []
    out, i = [], 0
    for v in vehicles:
        part = loads[i:i + v.axle_count]
        i += v.axle_count
        if v.is_trailer:
            out.append((v, part))
    return out


def _limit_hits(code: str, overall: Overall, limits: dict[str, Any], gross_limit: int,
                gross_label: str = "") -> list[RuleHit]:
    """Each overall dimension above ``limits`` and a gross mass above ``gross_limit``,
    as hits named ``{code}_HEIGHT`` / ``_WIDTH`` / ``_LENGTH`` / ``_GROSS``."""
    hits = [RuleHit(f"{code}_{name}", f"{label} {_m(value)} 超过 {_m(limits[key])}", f"overall.{key[4:]}",
                    value, limits[key])
            for name, label, key, value in (
                ("HEIGHT", "总高", "max_height_mm", overall.height_mm),
                ("WIDTH", "总宽", "max_width_mm", overall.width_mm),
                ("LENGTH", "总长", "max_length_mm", overall.length_mm))
            if value > limits[key]]
    if overall.total_mass_kg > gross_limit:
        hits.append(RuleHit(f"{code}_GROSS", f"车货总质量 {_t(overall.total_mass_kg)} 超过{gross_label} {_t(gross_limit)}",
                            "overall.total_mass_kg", overall.total_mass_kg, gross_limit))
    return hits


def classify(rules: RuleSet, vehicles: list[Vehicle], overall: Overall) -> Verdict:
    """Over-limit (Art. 3), class I/II/III (Art. 15; a value on a boundary stays
    in the lower class) and the Art. 17 axle-load refusals."""
    ol = rules.section("over_limit")
    c1 = rules.section("classes")["class1"]
    c2 = rules.section("classes")["class2"]
    limit, how = gross_limit(rules, vehicles, overall)

    over = _limit_hits("ART3", overall, ol, limit, f"{how}限值")

    refusals: list[RuleHit] = []
    rf = rules.section("refusals")
    for v, loads in _trailer_axle_loads(vehicles, overall):
        if not loads:
            continue
        if v.kind == "FLATBED_TRAILER":
            r = rf["flatbed_trailer"]
            avg = sum(loads) // len(loads)
            if sum(loads) > r["max_average_axle_kg"] * len(loads):
                refusals.append(RuleHit("ART17_FLATBED_AVERAGE_AXLE",
                                        f"普通平板挂车 {v.plate_number} 平均轴荷 {_t(avg)} 超过 {_t(r['max_average_axle_kg'])}",
                                        "overall.axle_loads_kg", avg, r["max_average_axle_kg"]))
            if max(loads) > r["max_axle_kg"]:
                refusals.append(RuleHit("ART17_FLATBED_AXLE",
                                        f"普通平板挂车 {v.plate_number} 单轴轴荷 {_t(max(loads))} 超过 {_t(r['max_axle_kg'])}",
                                        "overall.axle_loads_kg", max(loads), r["max_axle_kg"]))
        elif v.kind == "HYDRAULIC_TRAILER":
            r = rf["hydraulic_trailer"]
            n = int(r["axles_per_line"])
            lines = [sum(loads[i:i + n]) for i in range(0, len(loads), n)]
            avg = sum(lines) // len(lines)
            if sum(lines) > r["max_average_line_kg"] * len(lines):
                refusals.append(RuleHit("ART17_HYDRAULIC_AVERAGE_LINE",
                                        f"液压平板挂车 {v.plate_number} 平均每轴线载荷 {_t(avg)} 超过 {_t(r['max_average_line_kg'])}",
                                        "overall.axle_loads_kg", avg, r["max_average_line_kg"]))
            if max(lines) > r["max_line_kg"]:
                refusals.append(RuleHit("ART17_HYDRAULIC_LINE",
                                        f"液压平板挂车 {v.plate_number} 单轴线载荷 {_t(max(lines))} 超过 {_t(r['max_line_kg'])}",
                                        "overall.axle_loads_kg", max(lines), r["max_line_kg"]))

    if not over and not refusals:
        hit = RuleHit("ART3_NOT_OVER_LIMIT",
                      f"车货总体未超限（总高≤{_m(ol['max_height_mm'])}、总宽≤{_m(ol['max_width_mm'])}、"
                      f"总长≤{_m(ol['max_length_mm'])}、总质量≤{_t(limit)}），无需办理大件运输许可")
        return Verdict(False, 0, rules.label, (hit,), message=hit.description + "。")

    class3 = _limit_hits("ART15_CLASS3", overall, c2, c2["max_gross_kg"])

    class2 = _limit_hits("ART15_CLASS2", overall, c1, limit, "第三条限值")

    if class3:
        cls, deciding, label = 3, class3, "三类"
    elif class2:
        cls, deciding, label = 2, class2, "二类"
    else:
        cls, label = 1, "一类"
        deciding = [RuleHit("ART15_CLASS1",
                            f"总高≤{_m(c1['max_height_mm'])}、总宽≤{_m(c1['max_width_mm'])}、"
                            f"总长≤{_m(c1['max_length_mm'])}且总质量未超过第三条限值")]
    hits = tuple(refusals + deciding + over)
    if refusals:
        return Verdict(True, cls, rules.label, hits, refused=True,
                       message="不予许可：" + "；".join(r.description for r in refusals) + "。")
    return Verdict(True, cls, rules.label, hits,
                   message=f"{label}大件运输：" + "；".join(r.description for r in deciding) + "。")


def reference_overall(vehicles: list[Vehicle], cargo: Cargo | None) -> Overall:
    """Reference values for step 3 derived from the vehicles and cargo (AP-5):
    the minimum mass and dimensions, even axle loads, and spacings from each
    vehicle's wheelbase (the gap between vehicles is left at 0: measure it)."""
    c = cargo if cargo and not cargo.empty_load else Cargo()
    axles = sum(v.axle_count for v in vehicles)
    total = sum(v.curb_mass_kg for v in vehicles) + c.weight_kg
    spacings: list[int] = []
    for i, v in enumerate(vehicles):
        if i > 0:
            spacings.append(0)
        n = max(v.axle_count - 1, 0)
        if n:
            each = v.wheelbase_mm // n
            spacings.extend([each] * (n - 1) + [v.wheelbase_mm - each * (n - 1)])
    loads = []
    if axles:
        each = total // axles
        loads = [each] * (axles - 1) + [total - each * (axles - 1)]
    return Overall(
        total_mass_kg=total,
        length_mm=max([v.length_mm for v in vehicles] + [c.length_mm], default=0),
        width_mm=max([v.width_mm for v in vehicles] + [c.width_mm], default=0),
        height_mm=max([v.height_mm for v in vehicles] + [c.height_mm], default=0),
        axle_spacings_mm=spacings, axle_loads_kg=loads,
    )


MATERIAL_LABELS = {
    "OUTLINE_DRAWING": "车货总体轮廓图",
    "ESCORT_PLAN": "护送方案",
    "TRANSPORT_PLAN": "运输计划",
    "OTHER": "其他材料",
    "VEHICLE_LICENCE": "车辆行驶证或临时号牌图片",
    "AGENT_ID_CARD": "经办人身份证正反面图片",
    "POWER_OF_ATTORNEY": "授权委托书",
}


@dataclass(frozen=True)
class Requirement:
    """One required material: kind, how many, how many attached, where it belongs."""

    kind: str
    label: str
    required: int
    provided: int
    field: str

    @property
    def missing(self) -> bool:
        return self.provided < self.required


@dataclass
class MaterialInputs:
    permit_class: int = 0
    passage: Passage | None = None
    vehicles: list[Vehicle] = field(default_factory=list)
    agent: Agent | None = None
    materials: list[Material] = field(default_factory=list)


def required_materials(rules: RuleSet, data: MaterialInputs) -> list[Requirement]:
    """AP-9: what the data requires (class III, multi-trip, hand-entered vehicles and agent)."""
    spec = rules.section("materials")
    out: list[Requirement] = []

    def count(kind: str) -> int:
        return sum(1 for m in data.materials if m.kind == kind and m.document)

    groups = []
    if data.permit_class == 3:
        groups += spec["class3"]
    if data.passage and data.passage.multi_trip:
        groups += spec["multi_trip"]
    for g in groups:
        out.append(Requirement(g["kind"], MATERIAL_LABELS[g["kind"]], int(g["count"]), count(g["kind"]),
                               "materials"))
    for i, v in enumerate(data.vehicles):
        if v.source == "MANUAL":
            for g in spec["manual_vehicle"]:
                out.append(Requirement(g["kind"], f"{MATERIAL_LABELS[g['kind']]}（{v.plate_number}）",
                                       int(g["count"]), len([d for d in v.licence_documents if d]),
                                       f"vehicles[{i}].licence_documents"))
    if data.agent and data.agent.source == "MANUAL":
        for g in spec["manual_agent"]:
            if g["kind"] == "AGENT_ID_CARD":
                provided = len([d for d in data.agent.id_card_documents if d])
                where = "agent.id_card_documents"
            else:
                provided = 1 if data.agent.power_of_attorney_document else 0
                where = "agent.power_of_attorney_document"
            out.append(Requirement(g["kind"], MATERIAL_LABELS[g["kind"]], int(g["count"]), provided, where))
    return out
