"""Importing the PC system's export: vehicles, agents and past applications (ID-3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from permit_application.access import UnitOfWork
from permit_application.errors import (
    ServiceOnly,
)
from permitkit.context import Principal
from permitkit.db import utcnow

log = structlog.get_logger()


@dataclass
class ImportCounts:
    parties: int = 0
    vehicles: int = 0
    agents: int = 0
    applications: int = 0


def import_legacy_records(uow: UnitOfWork, *, export: Mapping[str, Any], principal: Principal | None = None,
                          now: dt.datetime | None = None,
                          check_caller: bool = True) -> ImportCounts:
    """Import the PC system's export: each account's vehicles, agents and past
    applications under "parties/" + legacy_id (ID-3). Idempotent."""
    from permit_application import legacy

    if check_caller:
        if principal is None or not (principal.is_service or principal.has_role("admin")):
            raise ServiceOnly()
    now = now or utcnow()
    accounts = legacy.parse_export(export)
    counts = ImportCounts()
    with uow:
        for acc in accounts:
            counts.parties += 1
            for v in acc.vehicles:
                if uow.fleet.upsert_vehicle(acc.party, v, source="FLEET"):
                    counts.vehicles += 1
            for a in acc.agents:
                if uow.fleet.upsert_agent(acc.party, a, source="FLEET"):
                    counts.agents += 1
            for past in acc.applications:
                if uow.applications.exists(past.id):
                    continue
                app = legacy.build_application(past, party=acc.party, now=now)
                uow.applications.add(app)
                uow.applications.add_change(app.audit(None, app.status, actor="services/application",
                                                      reason="从电脑端系统导入", now=now))
                counts.applications += 1
            uow.flush()
        uow.commit()
    return counts
