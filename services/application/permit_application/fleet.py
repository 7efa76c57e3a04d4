"""Fleet and agent suggestions from the PC side and earlier applications (AP-4, AP-8, PQ-10).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import structlog

from permit_application.access import (
    DocumentChecker,
    DocumentRef,
    UnitOfWork,
    party_of,
    require_applicant,
    require_reader,
)
from permit_application.errors import (
    AgentExists,
    AgentNotFound,
    AgentRetired,
    InvalidField,
    VehicleExists,
    VehicleNotFound,
    VehicleRetired,
)
from permit_application.identifiers import PlateCheck, check_plate, normalize_plate
from permit_application.models import (
    FleetAgent,
    FleetVehicle,
)
from permit_application.steps import check_agent, check_vehicles
from permit_application.values import Agent, Vehicle
from permitkit.context import Principal
from permitkit.errors import FieldViolation
from permitkit.paging import Page, PageRequest, scope_of

log = structlog.get_logger()


def suggest_vehicles(uow: UnitOfWork, *, principal: Principal | None, plate_prefix: str = "",
                     page_size: int = 0, page_token: str = "") -> Page[FleetVehicle]:
    """Vehicles of the PC side, then of earlier applications, matching the typed plate (AP-4)."""
    p = require_applicant(principal)
    party, prefix = party_of(p), normalize_plate(plate_prefix)
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("vehicles", party, prefix),
                         default=10, maximum=50)
    with uow:
        return req.cut(uow.fleet.suggest_vehicles(party, prefix, offset=req.offset, limit=req.limit))


def suggest_agents(uow: UnitOfWork, *, principal: Principal | None, name_prefix: str = "",
                   page_size: int = 0, page_token: str = "") -> Page[FleetAgent]:
    """Agents of the PC side, then of earlier applications, matching the typed name (AP-8)."""
    p = require_applicant(principal)
    party, prefix = party_of(p), name_prefix.strip()
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("agents", party, prefix),
                         default=10, maximum=50)
    with uow:
        return req.cut(uow.fleet.suggest_agents(party, prefix, offset=req.offset, limit=req.limit))


def get_vehicle(uow: UnitOfWork, *, principal: Principal | None, name: str) -> FleetVehicle:
    """One fleet vehicle: the caller's own, or any for a peer service (PQ-10)."""
    p = require_reader(principal)
    if not name.startswith("vehicles/"):
        raise VehicleNotFound(metadata={"name": name})
    with uow:
        row = uow.fleet.get_vehicle(name[len("vehicles/"):])
        if row is None or (not p.is_service and row.party != p.party):
            raise VehicleNotFound(metadata={"name": name})
        return row


def validate_plate_number(plate_number: str) -> PlateCheck:
    """Ordinary, new-energy or trailer plate (AP-4)."""
    return check_plate(plate_number)


# ---- the PC side: the carrier keeps its fleet and agents (PC-1) ----------------------

VEHICLE_MASK = (*Vehicle.SPEC_FIELDS, "licence_documents", "kind")
AGENT_MASK = ("name", "phone", "id_card_documents", "power_of_attorney_document")
_VEHICLE_DOCS = ("VEHICLE_LICENCE", "TEMPORARY_PLATE")


def _rename(violations: list[FieldViolation], old: str, new: str) -> list[FieldViolation]:
    return [replace(v, field=new + v.field[len(old):]) if v.field.startswith(old) else v for v in violations]


def _kept_vehicle(uow: UnitOfWork, p: Principal, name: str) -> FleetVehicle:
    if not name.startswith("vehicles/"):
        raise VehicleNotFound(field="name", metadata={"name": name})
    row = uow.fleet.get_vehicle(name[len("vehicles/"):])
    if row is None or row.party != party_of(p):
        raise VehicleNotFound(field="name", metadata={"name": name})
    return row


def _kept_agent(uow: UnitOfWork, p: Principal, name: str) -> FleetAgent:
    if not name.startswith("agents/"):
        raise AgentNotFound(field="name", metadata={"name": name})
    row = uow.fleet.get_agent(name[len("agents/"):])
    if row is None or row.party != party_of(p):
        raise AgentNotFound(field="name", metadata={"name": name})
    return row


def check_kept_vehicle(v: Vehicle, *, now: dt.datetime,
                       document_checker: DocumentChecker | None) -> Vehicle:
    """The form's checks on one vehicle entered by hand (AP-4): plate format, every
    figure in range, two licence images of the right kind (each at most 1 MB at upload)."""
    from permit_application.drafts import rules_at

    out, violations = check_vehicles([replace(v, source="", fleet_vehicle="")], {}, rules_at(now))
    violations = [x for x in violations if x.reason not in ("TRACTOR_WITHOUT_TRAILER", "TRAILER_FIRST")]
    violations = _rename(violations, "vehicles[0]", "vehicle")
    veh = out[0]
    if not violations and document_checker is not None:
        violations = document_checker.check([DocumentRef("vehicle.licence_documents", d, _VEHICLE_DOCS)
                                             for d in veh.licence_documents])
    if violations:
        raise InvalidField(violations=violations)
    return replace(veh, source="FLEET")


def check_kept_agent(a: Agent, *, document_checker: DocumentChecker | None) -> Agent:
    """The form's checks on an agent entered by hand (AP-8): name, ID number, phone,
    two ID-card images and a power of attorney of the right kinds."""
    agent, violations = check_agent(replace(a, agent_ref="", source=""), None, None)
    if not violations and document_checker is not None:
        refs = [DocumentRef("agent.id_card_documents", d, ("ID_CARD_FRONT", "ID_CARD_BACK"))
                for d in agent.id_card_documents]
        refs.append(DocumentRef("agent.power_of_attorney_document", agent.power_of_attorney_document,
                                ("POWER_OF_ATTORNEY",)))
        violations = document_checker.check(refs)
    if violations:
        raise InvalidField(violations=violations)
    return replace(agent, source="FLEET")


def list_fleet_vehicles(uow: UnitOfWork, *, principal: Principal | None, show_retired: bool = False,
                        page_size: int = 0, page_token: str = "") -> Page[FleetVehicle]:
    """The vehicles the caller's party keeps (PC-1)."""
    p = require_applicant(principal)
    party = party_of(p)
    req = PageRequest.of(page_size=page_size, page_token=page_token,
                         scope=scope_of("fleet-vehicles", party, str(show_retired)), default=20, maximum=100)
    with uow:
        return req.cut(uow.fleet.kept_vehicles(party, retired=show_retired, offset=req.offset, limit=req.limit))


def create_fleet_vehicle(uow: UnitOfWork, *, principal: Principal | None, vehicle: Vehicle, now: dt.datetime,
                         document_checker: DocumentChecker | None = None) -> FleetVehicle:
    """Adds a vehicle to the party's kept fleet (PC-1); a plate known from an earlier
    application or retired is taken over with the new figures."""
    p = require_applicant(principal)
    party = party_of(p)
    veh = check_kept_vehicle(vehicle, now=now, document_checker=document_checker)
    with uow:
        row = uow.fleet.vehicle_by_plate(party, veh.plate_number)
        if row is not None and row.source == "FLEET" and row.retire_time is None:
            raise VehicleExists(field="vehicle.plate_number", metadata={"name": row.name})
        if row is None:
            row = FleetVehicle(id=uuid.uuid4().hex[:16], party=party, plate_number=veh.plate_number,
                               create_time=now)
        row.fill_from(veh)
        row.licence_documents = list(veh.licence_documents)
        row.source, row.retire_time, row.update_time = "FLEET", None, now
        uow.fleet.save_vehicle(row)
        uow.commit()
        log.info("fleet_vehicle_kept", party=party, vehicle=row.name, by=p.subject)
        return row


def update_fleet_vehicle(uow: UnitOfWork, *, principal: Principal | None, name: str, vehicle: Vehicle,
                         update_mask: list[str], now: dt.datetime,
                         document_checker: DocumentChecker | None = None) -> FleetVehicle:
    """Changes a kept vehicle (PC-1): the masked fields, then the form's checks on the whole."""
    p = require_applicant(principal)
    bad = [f for f in update_mask if f not in VEHICLE_MASK]
    if bad:
        raise InvalidField(violations=[FieldViolation("update_mask", f"不能修改的字段：{'、'.join(bad)}。",
                                                      "INVALID_UPDATE_MASK")])
    paths = update_mask or list(VEHICLE_MASK)
    with uow:
        row = _kept_vehicle(uow, p, name)
        if row.retire_time is not None:
            raise VehicleRetired(field="name")
        current = row.to_value()
        changed = replace(current, **{f: getattr(vehicle, f) for f in paths})
        veh = check_kept_vehicle(replace(changed, plate_number=row.plate_number), now=now,
                                 document_checker=document_checker)
        row.fill_from(veh)
        row.licence_documents = list(veh.licence_documents)
        row.source, row.update_time = "FLEET", now
        uow.fleet.save_vehicle(row)
        uow.commit()
        log.info("fleet_vehicle_changed", party=row.party, vehicle=row.name, fields=paths, by=p.subject)
        return row


def retire_fleet_vehicle(uow: UnitOfWork, *, principal: Principal | None, name: str,
                         now: dt.datetime) -> FleetVehicle:
    """Retires a kept vehicle (PC-1): no longer suggested nor offered for a change."""
    p = require_applicant(principal)
    with uow:
        row = _kept_vehicle(uow, p, name)
        if row.retire_time is None:
            row.retire_time, row.update_time = now, now
            uow.fleet.save_vehicle(row)
            uow.commit()
            log.info("fleet_vehicle_retired", party=row.party, vehicle=row.name, by=p.subject)
        return row


def list_fleet_agents(uow: UnitOfWork, *, principal: Principal | None, show_retired: bool = False,
                      page_size: int = 0, page_token: str = "") -> Page[FleetAgent]:
    """The agents the caller's party keeps (PC-1)."""
    p = require_applicant(principal)
    party = party_of(p)
    req = PageRequest.of(page_size=page_size, page_token=page_token,
                         scope=scope_of("fleet-agents", party, str(show_retired)), default=20, maximum=100)
    with uow:
        return req.cut(uow.fleet.kept_agents(party, retired=show_retired, offset=req.offset, limit=req.limit))


def create_fleet_agent(uow: UnitOfWork, *, principal: Principal | None, agent: Agent, now: dt.datetime,
                       document_checker: DocumentChecker | None = None) -> FleetAgent:
    """Adds an agent to the party's kept agents (PC-1)."""
    p = require_applicant(principal)
    party = party_of(p)
    a = check_kept_agent(agent, document_checker=document_checker)
    with uow:
        row = uow.fleet.agent_by_id_number(party, a.id_number)
        if row is not None and row.source == "FLEET" and row.retire_time is None:
            raise AgentExists(field="agent.id_number", metadata={"name": row.name})
        if row is None:
            row = FleetAgent(id=uuid.uuid4().hex[:16], party=party, id_number=a.id_number, create_time=now)
        _fill_agent(row, a)
        row.source, row.retire_time, row.update_time = "FLEET", None, now
        uow.fleet.save_agent(row)
        uow.commit()
        log.info("fleet_agent_kept", party=party, agent=row.name, by=p.subject)
        return row


def _fill_agent(row: FleetAgent, a: Agent) -> None:
    row.agent_name, row.phone = a.name, a.phone
    row.id_card_documents = list(a.id_card_documents)
    row.power_of_attorney_document = a.power_of_attorney_document


def update_fleet_agent(uow: UnitOfWork, *, principal: Principal | None, name: str, agent: Agent,
                       update_mask: list[str], now: dt.datetime,
                       document_checker: DocumentChecker | None = None) -> FleetAgent:
    """Changes a kept agent (PC-1); the ID number stays."""
    p = require_applicant(principal)
    bad = [f for f in update_mask if f not in AGENT_MASK]
    if bad:
        raise InvalidField(violations=[FieldViolation("update_mask", f"不能修改的字段：{'、'.join(bad)}。",
                                                      "INVALID_UPDATE_MASK")])
    paths = update_mask or list(AGENT_MASK)
    with uow:
        row = _kept_agent(uow, p, name)
        if row.retire_time is not None:
            raise AgentRetired(field="name")
        changed = replace(row.to_value(), **{f: getattr(agent, f) for f in paths})
        a = check_kept_agent(replace(changed, id_number=row.id_number), document_checker=document_checker)
        _fill_agent(row, a)
        row.source, row.update_time = "FLEET", now
        uow.fleet.save_agent(row)
        uow.commit()
        log.info("fleet_agent_changed", party=row.party, agent=row.name, fields=paths, by=p.subject)
        return row


def retire_fleet_agent(uow: UnitOfWork, *, principal: Principal | None, name: str, now: dt.datetime) -> FleetAgent:
    """Retires a kept agent (PC-1): no longer suggested."""
    p = require_applicant(principal)
    with uow:
        row = _kept_agent(uow, p, name)
        if row.retire_time is None:
            row.retire_time, row.update_time = now, now
            uow.fleet.save_agent(row)
            uow.commit()
            log.info("fleet_agent_retired", party=row.party, agent=row.name, by=p.subject)
        return row
