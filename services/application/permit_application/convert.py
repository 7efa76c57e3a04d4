"""Pure proto <-> model conversions (no rules, no I/O)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from permit.application.v1 import application_pb2 as pb
from permit.type.v1 import types_pb2 as tpb
from permit_application import values as vo
from permit_application.actions import allowed_actions
from permit_application.dates import checked_date
from permit_application.identifiers import mask_id_number
from permit_application.models import (
    PERMIT_STATE_LABELS,
    Application,
    FleetAgent,
    FleetVehicle,
    ProvinceProgress,
    State,
    StateChange,
)
from permit_application.quantities import format_thousandths
from permit_application.rules import Requirement, Verdict, reference_overall
from permitkit import dates

# ---- scalars -----------------------------------------------------------------------



def date_to_pb(d: dt.date | None) -> date_pb2.Date | None:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day) if d else None


def date_from_pb(d: date_pb2.Date | None) -> dt.date | None:
    if d is None or not d.year:
        return None
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:
        return None


def ts_to_pb(t: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if t is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t.astimezone(dt.UTC))
    return ts


def ts_from_pb(t: timestamp_pb2.Timestamp | None) -> dt.datetime | None:
    if t is None or (t.seconds == 0 and t.nanos == 0):
        return None
    return t.ToDatetime(tzinfo=dt.UTC)


def _enum_suffix(enum_type: Any, value: int, prefix: str) -> str:
    name = enum_type.Name(value) if value in enum_type.values() else ""
    return name[len(prefix):] if name.startswith(prefix) and not name.endswith("UNSPECIFIED") else ""


def state_to_pb(s: State) -> Any:
    return int(pb.Application.State.Value(f"STATE_{s.value}"))


def state_from_pb(v: int) -> State | None:
    name = _enum_suffix(pb.Application.State, v, "STATE_")
    return State(name) if name else None


def material_kind_from_pb(v: int) -> str:
    return _enum_suffix(pb.MaterialKind, v, "MATERIAL_KIND_")


def material_kind_to_pb(kind: str) -> Any:
    try:
        return int(pb.MaterialKind.Value(f"MATERIAL_KIND_{kind}"))
    except ValueError:
        return 0


def vehicle_kind_to_pb(kind: str) -> Any:
    try:
        return int(pb.VehicleKind.Value(f"VEHICLE_KIND_{kind}"))
    except ValueError:
        return 0


# ---- steps from the request --------------------------------------------------------

def _typed(msg: Any, pairs: dict[str, str]) -> dict[str, str]:
    return {attr: getattr(msg, text) for attr, text in pairs.items() if getattr(msg, text)}


def cargo_from_pb(c: pb.Cargo) -> vo.Cargo:
    return vo.Cargo(empty_load=c.empty_load, name=c.name, weight_kg=c.weight_kg, length_mm=c.length_mm,
                    width_mm=c.width_mm, height_mm=c.height_mm,
                    typed=_typed(c, {"weight_kg": "weight_tonnes", "length_mm": "length_metres",
                                     "width_mm": "width_metres", "height_mm": "height_metres"}))


def vehicle_from_pb(v: pb.Vehicle) -> vo.Vehicle:
    kind = _enum_suffix(pb.VehicleKind, v.kind, "VEHICLE_KIND_")
    return vo.Vehicle(plate_number=v.plate_number, vehicle_type=v.vehicle_type, make_model=v.make_model,
                      curb_mass_kg=v.curb_mass_kg, axle_count=v.axle_count, wheelbase_mm=v.wheelbase_mm,
                      tyre_count=v.tyre_count, length_mm=v.length_mm, width_mm=v.width_mm,
                      height_mm=v.height_mm, licence_documents=list(v.licence_documents), kind=kind)


def overall_from_pb(o: pb.Overall) -> vo.Overall:
    return vo.Overall(total_mass_kg=o.total_mass_kg, length_mm=o.length_mm, width_mm=o.width_mm,
                      height_mm=o.height_mm, axle_spacings_mm=list(o.axle_spacings_mm),
                      axle_loads_kg=list(o.axle_loads_kg), single_tyre_axle_count=o.single_tyre_axle_count,
                      single_drive_axle=o.single_drive_axle,
                      typed=_typed(o, {"total_mass_kg": "total_mass_tonnes", "length_mm": "length_metres",
                                       "width_mm": "width_metres", "height_mm": "height_metres"}))


def route_from_pb(rows: Any) -> list[vo.RouteRow]:
    return [vo.RouteRow(r.province, list(r.roads)) for r in rows]


def passage_from_pb(p: pb.Passage) -> vo.Passage:
    return vo.Passage(origin_province=p.origin_province, destination_province=p.destination_province,
                      route=route_from_pb(p.route),
                      start_date=checked_date(p.start_date, "passage.start_date") if p.HasField("start_date") else None,
                      end_date=checked_date(p.end_date, "passage.end_date") if p.HasField("end_date") else None,
                      multi_trip=p.multi_trip, origin_place=p.origin_place,
                      destination_place=p.destination_place, route_confirmed=p.route_confirmed)


def agent_from_pb(a: pb.Agent) -> vo.Agent:
    return vo.Agent(name=a.name, id_number=a.id_number, phone=a.phone,
                    id_card_documents=list(a.id_card_documents),
                    power_of_attorney_document=a.power_of_attorney_document, agent_ref=a.agent_ref)


def material_from_pb(m: pb.MaterialRef) -> vo.Material:
    return vo.Material(kind=material_kind_from_pb(m.kind), document=m.document)


def step_values(app: pb.Application) -> dict[str, Any]:
    """Every step of the request's application as value objects (the mask picks)."""
    return {
        "cargo": cargo_from_pb(app.cargo),
        "vehicles": [vehicle_from_pb(v) for v in app.vehicles],
        "overall": overall_from_pb(app.overall),
        "passage": passage_from_pb(app.passage),
        "agent": agent_from_pb(app.agent),
        "materials": [material_from_pb(m) for m in app.materials],
    }


# ---- resources to the wire ---------------------------------------------------------

def cargo_to_pb(c: vo.Cargo) -> pb.Cargo:
    if c.empty_load:
        return pb.Cargo(empty_load=True)
    return pb.Cargo(name=c.name, weight_kg=c.weight_kg, length_mm=c.length_mm, width_mm=c.width_mm,
                    height_mm=c.height_mm, weight_tonnes=format_thousandths(c.weight_kg),
                    length_metres=format_thousandths(c.length_mm), width_metres=format_thousandths(c.width_mm),
                    height_metres=format_thousandths(c.height_mm))


def vehicle_to_pb(v: vo.Vehicle, owner: str = "") -> pb.Vehicle:
    return pb.Vehicle(plate_number=v.plate_number, vehicle_type=v.vehicle_type, make_model=v.make_model,
                      curb_mass_kg=v.curb_mass_kg, axle_count=v.axle_count, wheelbase_mm=v.wheelbase_mm,
                      tyre_count=v.tyre_count, length_mm=v.length_mm, width_mm=v.width_mm, height_mm=v.height_mm,
                      licence_documents=v.licence_documents, source=v.source, kind=vehicle_kind_to_pb(v.kind),
                      fleet_vehicle=v.fleet_vehicle, owner=owner)


def overall_to_pb(o: vo.Overall) -> pb.Overall:
    return pb.Overall(total_mass_kg=o.total_mass_kg, length_mm=o.length_mm, width_mm=o.width_mm,
                      height_mm=o.height_mm, axle_spacings_mm=o.axle_spacings_mm, axle_loads_kg=o.axle_loads_kg,
                      single_tyre_axle_count=o.single_tyre_axle_count, single_drive_axle=o.single_drive_axle,
                      total_mass_tonnes=format_thousandths(o.total_mass_kg),
                      length_metres=format_thousandths(o.length_mm), width_metres=format_thousandths(o.width_mm),
                      height_metres=format_thousandths(o.height_mm))


def route_to_pb(rows: list[vo.RouteRow]) -> list[tpb.RouteRow]:
    return [tpb.RouteRow(province=r.province, roads=r.roads) for r in rows]


def date_range_to_pb(start: dt.date | None, end: dt.date | None) -> tpb.DateRange:
    return tpb.DateRange(start_date=date_to_pb(start), end_date=date_to_pb(end))


def passage_to_pb(p: vo.Passage) -> pb.Passage:
    return pb.Passage(origin_province=p.origin_province, destination_province=p.destination_province,
                      route=route_to_pb(p.route),
                      start_date=date_to_pb(p.start_date), end_date=date_to_pb(p.end_date),
                      multi_trip=p.multi_trip, origin_place=p.origin_place,
                      destination_place=p.destination_place, route_confirmed=p.route_confirmed)


def agent_to_pb(a: vo.Agent) -> pb.Agent:
    return pb.Agent(name=a.name, id_number=mask_id_number(a.id_number) if a.id_number else "", phone=a.phone,
                    id_card_documents=a.id_card_documents, power_of_attorney_document=a.power_of_attorney_document,
                    source=a.source, agent_ref=a.agent_ref)


def verdict_to_pb(v: Verdict) -> pb.Classification:
    return pb.Classification(
        over_limit=v.over_limit, permit_class=v.permit_class, rule_set=v.rule_set, refused=v.refused,
        message=v.message,
        rules=[pb.RuleHit(rule=h.rule, description=h.description, field=h.field, value=h.value, limit=h.limit)
               for h in v.rules])


def requirement_to_pb(r: Requirement) -> pb.RequiredMaterial:
    return pb.RequiredMaterial(kind=material_kind_to_pb(r.kind), label=r.label, required_count=r.required,
                               provided_count=r.provided, field=r.field)


def progress_to_pb(p: ProvinceProgress) -> pb.ProvinceProgress:
    decision: Any = 0
    try:
        decision = pb.ReviewDecision.Value(f"REVIEW_DECISION_{p.decision}")
    except ValueError:
        pass
    return pb.ProvinceProgress(province=p.province, decision=decision, decision_label=p.decision_label,
                               reason=p.reason or "", decide_time=ts_to_pb(p.decide_time), origin=bool(p.origin),
                               suggested_route=[tpb.RouteRow(province=r.get("province", ""), roads=r.get("roads", []))
                                                for r in p.suggested_route or []])


def application_to_pb(app: Application, requirements: list[Requirement]) -> pb.Application:
    """The resource as the applicant sees it (agent ID number masked)."""
    out = pb.Application(
        name=app.name, number=app.number, applicant=app.party, state=state_to_pb(app.status),
        state_label=app.state_label, permit_class=app.permit_class or 0,
        permit=app.permit or "", permit_number=app.permit_number or "",
        permit_start_date=date_to_pb(app.permit_start_date), permit_end_date=date_to_pb(app.permit_end_date),
        return_reason=app.return_reason or "", create_time=ts_to_pb(app.create_time),
        update_time=ts_to_pb(app.update_time), submit_time=ts_to_pb(app.submit_time), etag=app.etag,
        submission=app.submission or 0, source_application=app.source_application or "",
        route_provinces=list(app.route_provinces or []),
        progress=[progress_to_pb(p) for p in app.progress],
        required_materials=[requirement_to_pb(r) for r in requirements],
    )
    cargo = app.cargo_value
    if cargo is not None:
        out.cargo.CopyFrom(cargo_to_pb(cargo))
    vehicles = app.vehicle_values
    out.vehicles.extend(vehicle_to_pb(v) for v in vehicles)
    overall = app.overall_value
    if overall is not None:
        out.overall.CopyFrom(overall_to_pb(overall))
    if vehicles:
        out.overall_reference.CopyFrom(overall_to_pb(reference_overall(vehicles, cargo)))
    passage = app.passage_value
    if passage is not None:
        out.passage.CopyFrom(passage_to_pb(passage))
    agent = app.agent_value
    if agent is not None:
        out.agent.CopyFrom(agent_to_pb(agent))
    out.materials.extend(pb.MaterialRef(kind=material_kind_to_pb(m.kind), document=m.document)
                         for m in app.material_values)
    if app.classification:
        out.classification.CopyFrom(verdict_to_pb(Verdict.from_json(app.classification)))
    today = dates.today()
    if app.permit_state:
        # Expiry is a matter of the calendar, not an event: derived when shown.
        shown = app.permit_state_on(today)
        out.permit_state = pb.Application.PermitState.Value(f"PERMIT_STATE_{shown}")
        out.permit_state_label = PERMIT_STATE_LABELS.get(shown, "")
    out.allowed_actions.extend(pb.ApplicationAction.Value(f"APPLICATION_ACTION_{a.value}")
                               for a in allowed_actions(app, today))
    return out


def state_change_to_pb(c: StateChange) -> pb.StateChange:
    def st(v: str) -> Any:
        try:
            return state_to_pb(State(v))
        except ValueError:
            return 0
    return pb.StateChange(from_state=st(c.from_state), to_state=st(c.to_state), actor=c.actor,
                          reason=c.reason or "", change_time=ts_to_pb(c.change_time), event_id=c.event_id or "")


def fleet_vehicle_to_pb(v: FleetVehicle) -> pb.Vehicle:
    out = vehicle_to_pb(v.to_value(), owner=v.party)
    if v.retire_time is not None:
        out.retire_time.CopyFrom(ts_to_pb(v.retire_time))
    return out


def fleet_agent_to_pb(a: FleetAgent) -> pb.Agent:
    out = agent_to_pb(a.to_value())
    if a.retire_time is not None:
        out.retire_time.CopyFrom(ts_to_pb(a.retire_time))
    return out
