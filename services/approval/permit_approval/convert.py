"""Pure conversions between approval models and their protobuf messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from permit.approval.v1 import approval_pb2 as pb
from permit.type.v1 import types_pb2 as tpb
from permit_approval.models import Case, Decision, Permit, Review
from permit_approval.verification import PermitSigner


def date_pb(d: dt.date | None) -> date_pb2.Date | None:
    return None if d is None else date_pb2.Date(year=d.year, month=d.month, day=d.day)


def date_from_pb(d: date_pb2.Date, has: bool = True) -> dt.date | None:
    """``None`` for an unset or all-zero date; ValueError for an impossible one."""
    if not has or (d.year == 0 and d.month == 0 and d.day == 0):
        return None
    return dt.date(d.year, d.month, d.day)


def ts_pb(t: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if t is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t.astimezone(dt.UTC))
    return ts


def _set(msg: Any, field: str, value: Any) -> None:
    if value is not None:
        getattr(msg, field).CopyFrom(value)


def route_rows(rows: list[dict[str, Any]]) -> list[tpb.RouteRow]:
    return [tpb.RouteRow(province=r["province"], roads=list(r.get("roads") or [])) for r in rows]


def route_from_pb(rows: Any) -> list[dict[str, Any]]:
    return [{"province": r.province, "roads": [x for x in r.roads if x]} for r in rows]


_DECISIONS = {
    pb.DECISION_APPROVE: Decision.APPROVE,
    pb.DECISION_DENY: Decision.DENY,
    pb.DECISION_RETURN: Decision.RETURN,
    pb.DECISION_REQUIRE_ADJUSTMENT: Decision.REQUIRE_ADJUSTMENT,
}


def decision_from_pb(value: int) -> Decision | None:
    return _DECISIONS.get(value)  # type: ignore[call-overload]


def review_pb(case: Case, r: Review, today: dt.date) -> pb.Review:
    msg = pb.Review(
        name=r.name_in(case), province=r.province,
        state=pb.ReviewState.Value(f"REVIEW_STATE_{r.state}"), reason=r.reason or "",
        officer=r.officer or "", suggested_route=route_rows(r.suggested_route or []),
        conditions=list(r.conditions or []), overdue=r.overdue(today),
        due_date_provisional=bool(r.due_provisional), fast_track=bool(r.fast_track),
        claimed_by=r.claimed_by or "", suspended=r.suspended,
        suspend_reason=r.suspend_reason or "", remaining_days=r.remaining_days or 0,
    )
    _set(msg, "decide_time", ts_pb(r.decide_time))
    _set(msg, "due_date", date_pb(r.due_date))
    _set(msg, "claim_expire_time", ts_pb(r.claim_expire_time))
    return msg


def case_pb(case: Case, today: dt.date) -> pb.Case:
    msg = pb.Case(
        name=case.name, application=case.application,
        application_number=case.application_number, applicant=case.applicant,
        origin_province=case.origin_province, destination_province=case.destination_province,
        route_provinces=list(case.route_provinces), permit_class=case.permit_class,
        state=pb.CaseState.Value(f"CASE_STATE_{case.state}"),
        reviews=[review_pb(case, r, today) for r in case.reviews],
        permit=f"permits/{case.permit_id}" if case.permit_id else "",
        submission=case.submission, etag=case.etag, plate_numbers=list(case.plate_numbers),
        multi_trip=case.multi_trip, route=route_rows(case.route or []),
        documents=list(case.documents), reason=case.reason or "",
        acceptance_overdue=case.acceptance_overdue(today),
        acceptance_due_date_provisional=bool(case.acceptance_due_provisional),
        history=[
            pb.CaseEvent(kind=h.kind, actor=h.actor, province=h.province, from_state=h.from_state,
                         to_state=h.to_state, reason=h.reason, occur_time=ts_pb(h.occur_time))
            for h in case.history
        ],
        vehicle_changes=[
            pb.VehicleChange(
                name=f"{case.name}/vehicleChanges/{v.id}", old_plate_number=v.old_plate_number,
                new_vehicle=v.new_vehicle, new_plate_number=v.new_plate_number,
                power_of_attorney=v.power_of_attorney,
                state=pb.ChangeRequestState.Value(f"CHANGE_REQUEST_STATE_{v.state}"),
                reason=v.reason or "", officer=v.officer or "", create_time=ts_pb(v.create_time),
                decide_time=ts_pb(v.decide_time))
            for v in case.vehicle_changes
        ],
        vehicles=[
            pb.CaseVehicle(plate_number=v.get("plate_number", ""),
                           fleet_vehicle=v.get("fleet_vehicle", "") or "",
                           curb_mass_kg=int(v.get("curb_mass_kg") or 0),
                           axle_count=int(v.get("axle_count") or 0),
                           wheelbase_mm=int(v.get("wheelbase_mm") or 0),
                           tyre_count=int(v.get("tyre_count") or 0),
                           vehicle_type=v.get("vehicle_type", "") or "")
            for v in case.vehicles or []
        ],
    )
    _set(msg, "acceptance_due_date", date_pb(case.acceptance_due_date))
    _set(msg, "create_time", ts_pb(case.create_time))
    _set(msg, "update_time", ts_pb(case.update_time))
    _set(msg, "start_date", date_pb(case.start_date))
    _set(msg, "end_date", date_pb(case.end_date))
    return msg


def permit_pb(permit: Permit, today: dt.date, signer: PermitSigner) -> pb.Permit:
    msg = pb.Permit(
        name=permit.name, number=permit.number, case=f"cases/{permit.case_id}",
        application=permit.application, holder=permit.holder,
        state=pb.PermitState.Value(f"PERMIT_STATE_{permit.effective_state(today).value}"),
        verification_code=signer.sign(permit.id), plate_numbers=list(permit.plate_numbers),
        route=route_rows(permit.route or []),
        conditions=[pb.Condition(province=c["province"], text=c["text"])
                    for c in permit.conditions or []],
        multi_trip=permit.multi_trip, issuing_province=permit.issuing_province,
        etag=permit.etag, abolish_reason=permit.abolish_reason or "",
    )
    for ext in permit.extensions:
        e = msg.extensions.add(
            name=f"{permit.name}/extensions/{ext.id}", provinces=list(ext.provinces),
            reason=ext.reason, state=pb.ChangeRequestState.Value(
                f"CHANGE_REQUEST_STATE_{ext.state}"))
        _set(e, "new_end_date", date_pb(ext.new_end_date))
        _set(e, "create_time", ts_pb(ext.create_time))
        for province in ext.provinces:
            d = ext.decisions.get(province, {})
            er = e.reviews.add(province=province,
                               state=pb.ReviewState.Value(f"REVIEW_STATE_{d.get('state', 'PENDING')}"),
                               reason=d.get("reason", ""), officer=d.get("officer", ""))
            if d.get("decide_time"):
                _set(er, "decide_time", ts_pb(dt.datetime.fromisoformat(d["decide_time"])))
    _set(msg, "start_date", date_pb(permit.start_date))
    _set(msg, "end_date", date_pb(permit.end_date))
    _set(msg, "create_time", ts_pb(permit.create_time))
    _set(msg, "update_time", ts_pb(permit.update_time))
    return msg


def fill_submitted(msg: pb.Case, detail: Any) -> None:
    """The application as submitted and its changes since the returned submission (RV-2)
    on a case message; ``detail`` is a ``services.CaseDetail``."""
    row = detail.submitted
    if row is None:
        return
    version = pb.SubmittedVersion(submission=row.submission)
    _set(version, "submit_time", ts_pb(row.submit_time))
    version.application.ParseFromString(row.snapshot)
    msg.submitted.CopyFrom(version)
    msg.changes.extend(pb.FieldChange(field=c.field, before=c.before, after=c.after)
                       for c in detail.changes)
    msg.changes_since_submission = detail.changes_since
