"""Fleet and agent suggestions from the PC side and earlier applications (AP-4, AP-8, PQ-10).
"""

from __future__ import annotations

import structlog

from permit_application.access import UnitOfWork, party_of, require_applicant, require_reader
from permit_application.errors import (
    VehicleNotFound,
)
from permit_application.identifiers import PlateCheck, check_plate, normalize_plate
from permit_application.models import (
    FleetAgent,
    FleetVehicle,
)
from permitkit.context import Principal
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
