"""The issued permits of the PC system's export (PC-3).

An application the PC system had issued (已发证) becomes a permit here, with its
number and validity, on a closed case of its own, so its holder can abolish it
(PQ-9) and ask for an extension (PQ-11) like any other permit; the application
service counts it in the duplicate check (AP-6) under the same application.
The permit and the case get ids derived from the application number
(``permitkit.legacy_sync.legacy_object_id``), the same the application service
names, so the two services agree without a round trip.

The sync is idempotent by legacy ids (``permitkit.legacy_sync``): a permit seen
again unchanged is not touched; a changed one has its number, validity, route
and vehicles brought up to the export unless its holder abolished it here; a
permit whose application is no longer issued in the export is flagged, never
deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import structlog

from permit_approval.certificate.content import ISSUED as ISSUED_CERTIFICATE
from permit_approval.certificate.issuing import CertificateIssuer
from permit_approval.models import Case, CaseState, Permit, PermitState
from permit_approval.models.base import LEGACY_SYNC, Actor, normalise_route
from permit_approval.models.case import dedupe
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permitkit import access as kit
from permitkit import legacy_sync
from permitkit.context import Principal
from permitkit.errors import InvalidArgument, PermitError

log = structlog.get_logger()

ISSUED = ("ISSUED", "已发证")
ACTOR = Actor("services/approval")
_SEPARATORS = str.maketrans("", "", " \t\r\n·.-")


class LegacyPermitInvalid(InvalidArgument):
    reason = "INVALID_FIELD"
    message = "已发证申请的许可证数据不完整或格式不正确。"


@dataclass
class LegacyPermit:
    """What a permit of the export carries."""

    application_id: str
    holder: str
    number: str
    permit_class: int
    origin_province: str
    destination_province: str
    route: list[dict[str, Any]]
    plate_numbers: list[str]
    start_date: dt.date
    end_date: dt.date
    multi_trip: bool = False
    cargo: dict[str, Any] | None = field(default=None)

    @property
    def route_provinces(self) -> list[str]:
        return dedupe([p for p in [self.origin_province, *(r["province"] for r in self.route)] if p])


@dataclass
class Record:
    record: str
    source: str
    permit: LegacyPermit | None = None
    error: PermitError | None = None


def _date(v: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(v)[:10]) if v else None


def _plate(v: Any) -> str:
    raw = v if isinstance(v, str) else (v.get("plate_number") or v.get("plate") or "") if isinstance(v, Mapping) else ""
    return str(raw).translate(_SEPARATORS).upper()


def _cargo_value(key: str, v: Any) -> Any:
    """A cargo field as a number, a flag or text, whichever way the export spelled it."""
    if key.endswith(("_kg", "_mm")):
        try:
            return int(v or 0)
        except (TypeError, ValueError):
            raise LegacyPermitInvalid("货物数值格式不正确。", field=f"cargo.{key}") from None
    if key == "empty_load":
        return v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes", "是")
    return v


def _permit(d: Mapping[str, Any], holder: str, number: str, where: str) -> LegacyPermit:
    p = d.get("passage") or d
    if not isinstance(p, Mapping):
        raise LegacyPermitInvalid(field=f"{where}.passage")
    try:
        start = _date(d.get("permit_start_date")) or _date(p.get("start_date"))
        end = _date(d.get("permit_end_date")) or _date(p.get("end_date"))
    except ValueError:
        raise LegacyPermitInvalid("许可有效期的日期格式不正确。", field=f"{where}.permit_start_date") from None
    permit_number = str(d.get("permit_number") or "").strip()
    if not permit_number:
        raise LegacyPermitInvalid("已发证申请缺少许可证编号。", reason="PERMIT_NUMBER_REQUIRED",
                                  field=f"{where}.permit_number")
    if start is None or end is None:
        raise LegacyPermitInvalid("已发证申请缺少许可有效期。", reason="PERMIT_VALIDITY_REQUIRED",
                                  field=f"{where}.permit_start_date")
    if end < start:
        raise LegacyPermitInvalid("许可有效期的截止日期早于起始日期。", reason="PERMIT_VALIDITY_INVALID",
                                  field=f"{where}.permit_end_date")
    try:
        permit_class = int(d.get("permit_class") or 0)
    except (TypeError, ValueError):
        permit_class = 0
    if permit_class not in (1, 2, 3):
        raise LegacyPermitInvalid("已发证申请的许可类别应为 1、2 或 3。", reason="PERMIT_CLASS_INVALID",
                                  field=f"{where}.permit_class")
    plates = [x for x in (_plate(v) for v in d.get("vehicles") or []) if x]
    if not plates:
        raise LegacyPermitInvalid("已发证申请缺少车辆。", reason="VEHICLES_REQUIRED", field=f"{where}.vehicles")
    rows = p.get("route") or []
    route = normalise_route([{"province": str(r.get("province", "")), "roads": [str(x) for x in r.get("roads") or []]}
                             for r in rows if isinstance(r, Mapping)])
    origin = str(p.get("origin_province") or "")
    if not origin:
        raise LegacyPermitInvalid("已发证申请缺少起运省份。", reason="ORIGIN_PROVINCE_REQUIRED",
                                  field=f"{where}.passage.origin_province")
    raw_cargo = d.get("cargo")
    cargo = {k: _cargo_value(k, v) for k, v in raw_cargo.items()} if isinstance(raw_cargo, Mapping) else None
    return LegacyPermit(application_id=number, holder=holder, number=permit_number, permit_class=permit_class,
                        origin_province=origin, destination_province=str(p.get("destination_province") or ""),
                        route=route, plate_numbers=plates, start_date=start, end_date=end,
                        multi_trip=bool(p.get("multi_trip", False)), cargo=cargo or None)


def parse_records(export: Any) -> list[Record]:
    """The issued applications of an export, one record each (a bad one carries its
    error)."""
    accounts = export.get("accounts") if isinstance(export, Mapping) else None
    if not isinstance(accounts, list):
        raise LegacyPermitInvalid("缺少 accounts 列表。", field="accounts")
    out: list[Record] = []
    for a in accounts:
        legacy_id = str(a.get("legacy_id") or "").strip() if isinstance(a, Mapping) else ""
        if not legacy_id or "/" in legacy_id:
            continue  # identity and the application service report the account
        for i, d in enumerate(a.get("applications") or []):
            if not isinstance(d, Mapping):
                continue
            if str(d.get("state") or d.get("status") or "ISSUED") not in ISSUED:
                continue
            where = f"accounts[{legacy_id}].applications[{i}]"
            number = str(d.get("number") or d.get("application_number") or f"LEGACY{legacy_id}{i + 1:04d}")
            rec = Record(f"accounts/{legacy_id}/permits/{number}", str(d.get("_source") or where))
            try:
                rec.permit = _permit(d, f"parties/{legacy_id}", number, where)
            except PermitError as e:
                rec.error = e
            out.append(rec)
    return out


def _create(uow: ApprovalUnitOfWork, lp: LegacyPermit, now: dt.datetime,
            certificates: CertificateIssuer | None = None) -> None:
    case_id = legacy_sync.legacy_object_id("case", lp.application_id)
    permit_id = legacy_sync.legacy_object_id("permit", lp.application_id)
    application = f"applications/{lp.application_id}"
    if uow.cases.by_application(application) is not None:
        raise LegacyPermitInvalid(f"申请 {lp.application_id} 在审批系统中已有案件。",
                                  reason="APPLICATION_NUMBER_TAKEN", field="applications.number")
    case = Case(id=case_id, application=application, application_number=lp.application_id,
                applicant=lp.holder, origin_province=lp.origin_province,
                destination_province=lp.destination_province, route_provinces=lp.route_provinces,
                route=list(lp.route), permit_class=lp.permit_class, state=CaseState.ISSUED, submission=1,
                plate_numbers=list(lp.plate_numbers),
                vehicles=[{"plate_number": p} for p in lp.plate_numbers], start_date=lp.start_date,
                end_date=lp.end_date, multi_trip=lp.multi_trip, documents=[], reason="",
                submitted_on=lp.start_date, acceptance_due_date=lp.start_date,
                acceptance_due_provisional=False, accepted_on=lp.start_date, permit_id=permit_id,
                cargo=lp.cargo, version=1, create_time=now, update_time=now)
    case.reviews, case.history, case.vehicle_changes = [], [], []
    case.audit("PERMIT_IMPORTED", ACTOR, None, CaseState.ISSUED, f"从电脑端系统导入：{lp.number}", now)
    permit = Permit(id=permit_id, number=lp.number, case_id=case_id, application=application,
                    holder=lp.holder, issuing_province=lp.origin_province,
                    route_provinces=lp.route_provinces, route=list(lp.route),
                    plate_numbers=list(lp.plate_numbers), conditions=[], multi_trip=lp.multi_trip,
                    start_date=lp.start_date, end_date=lp.end_date, state=PermitState.VALID,
                    abolish_reason="", version=1, create_time=now, update_time=now)
    permit.extensions = []
    uow.cases.add(case)
    uow.permits.add(permit)
    if certificates is not None:  # the certificate the driver carries (CT-1), as for any issued permit
        certificates.record(uow.session, permit=permit, case=case, reason=ISSUED_CERTIFICATE, now=now)


def _refresh(uow: ApprovalUnitOfWork, lp: LegacyPermit, now: dt.datetime,
             certificates: CertificateIssuer | None = None) -> None:
    permit = uow.permits.get(legacy_sync.legacy_object_id("permit", lp.application_id), for_update=True)
    if permit is None:
        _create(uow, lp, now, certificates)
        return
    case = uow.cases.get(permit.case_id, for_update=True)
    if permit.state == PermitState.ABOLISHED or case is None:
        return  # the holder ended it here; the export does not bring it back
    permit.number, permit.start_date = lp.number, lp.start_date
    if permit.state != PermitState.EXTENDED or lp.end_date > permit.end_date:
        permit.end_date = lp.end_date
    permit.route_provinces, permit.route = lp.route_provinces, list(lp.route)
    permit.plate_numbers, permit.multi_trip, permit.update_time = list(lp.plate_numbers), lp.multi_trip, now
    case.route_provinces, case.route, case.plate_numbers = lp.route_provinces, list(lp.route), list(lp.plate_numbers)
    case.vehicles = [{"plate_number": p} for p in lp.plate_numbers]
    case.permit_class, case.start_date, case.end_date = lp.permit_class, lp.start_date, permit.end_date
    case.cargo, case.update_time = lp.cargo, now
    case.audit("PERMIT_IMPORTED", ACTOR, permit.state, permit.state, f"电脑端系统数据更新：{lp.number}", now)
    if certificates is not None:
        certificates.record(uow.session, permit=permit, case=case, reason=ISSUED_CERTIFICATE, now=now)


def import_legacy_permits(uow: ApprovalUnitOfWork, *, principal: Principal | None, export: Any,
                          now: dt.datetime,
                          certificates: CertificateIssuer | None = None) -> list[legacy_sync.Outcome]:
    """The issued permits of a PC-system export as a repeatable sync (PC-3); each new or
    changed one gets a certificate version (CT-1) like a permit issued here."""
    kit.require_service(principal, or_admin=True)
    records = parse_records(export)
    with uow:
        items = []
        for r in records:
            if r.error is not None or r.permit is None:
                items.append(legacy_sync.Item(r.record, r.source, error=r.error or LegacyPermitInvalid()))
                continue
            lp = r.permit

            def apply(known: bool, lp: LegacyPermit = lp) -> None:
                (_refresh if known else _create)(uow, lp, now, certificates)

            items.append(legacy_sync.Item(r.record, r.source, fingerprint=legacy_sync.fingerprint(asdict(lp)),
                                          apply=apply))
        outcomes = legacy_sync.reconcile(uow.session, LEGACY_SYNC, items, now=now, prefix="accounts/",
                                         held=legacy_sync.held_prefixes(export),
                                         scope=legacy_sync.partial_scope(export))
        uow.commit()
    log.info("legacy_permits_synced", **{k.value.lower(): sum(o.result == k for o in outcomes)
                                         for k in legacy_sync.SyncResult})
    return outcomes
