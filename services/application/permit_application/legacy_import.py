"""Importing the PC system's export: vehicles, agents and past applications (ID-3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import structlog

from permit_application.access import UnitOfWork
from permit_application.errors import (
    InvalidExport,
    ServiceOnly,
)
from permit_application.models import LEGACY_SYNC
from permitkit import legacy_sync
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


def sync_legacy_records(uow: UnitOfWork, *, export: Mapping[str, Any], principal: Principal | None,
                        now: dt.datetime | None = None) -> list[legacy_sync.Outcome]:
    """The PC system's export as a repeatable sync (PC-3): each vehicle, agent and past
    application is imported, updated, left unchanged or refused (with why); a known one
    the export lacks is flagged, never deleted. Idempotent by legacy ids."""
    from permit_application import legacy

    if principal is None or not (principal.is_service or principal.has_role("admin")):
        raise ServiceOnly()
    now = now or utcnow()
    records = legacy.parse_sync_records(export)
    with uow:
        items = [_item(uow, r, now) for r in records]
        outcomes = legacy_sync.reconcile(uow.session, LEGACY_SYNC, items, now=now, prefix="accounts/",
                                         held=legacy_sync.held_prefixes(export),
                                         scope=legacy_sync.partial_scope(export))
        uow.commit()
    log.info("legacy_records_synced", **{k.value.lower(): sum(o.result == k for o in outcomes)
                                         for k in legacy_sync.SyncResult})
    return outcomes


def _item(uow: UnitOfWork, r: Any, now: dt.datetime) -> legacy_sync.Item:
    from permit_application import legacy
    from permit_application import values as vo

    if r.error is not None or r.value is None:
        return legacy_sync.Item(r.record, r.source, error=r.error or InvalidExport())
    value = r.value
    if isinstance(value, vo.Vehicle):
        def apply(_known: bool) -> None:
            uow.fleet.upsert_vehicle(r.party, value, source="FLEET")
    elif isinstance(value, vo.Agent):
        def apply(_known: bool) -> None:
            uow.fleet.upsert_agent(r.party, value, source="FLEET")
    else:
        def apply(_known: bool) -> None:
            app = uow.applications.get(value.id, for_update=True)
            if app is None:
                app = legacy.build_application(value, party=r.party, now=now)
                uow.applications.add(app)
                uow.applications.add_change(app.audit(None, app.status, actor="services/application",
                                                      reason="从电脑端系统导入", now=now))
                return
            if app.party != r.party:
                raise InvalidExport(f"申请编号 {value.id} 已被系统中的其他申请使用。",
                                    reason="APPLICATION_NUMBER_TAKEN", field="applications.number")
            before = app.status
            if legacy.refresh_application(app, value, now=now):
                uow.applications.add_change(app.audit(before, app.status, actor="services/application",
                                                      reason="电脑端系统数据更新", now=now))
    content = asdict(value)
    if isinstance(value, legacy.PastApplication):
        content.pop("vehicles")  # compared as the export referred to them (vehicle_refs)
    return legacy_sync.Item(r.record, r.source, fingerprint=legacy_sync.fingerprint(content), apply=apply)
