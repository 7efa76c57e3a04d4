"""The permit aggregate: the permit issued from a case and its extensions (RV-3, RV-5,
PQ-9, PQ-11).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from permit_approval import errors
from permit_approval.models.base import (
    Actor,
    Base,
    CaseState,
    ChangeState,
    EmitsEvents,
    EventKind,
    OutgoingEvent,
    PermitState,
    ReviewState,
    local_date,
    new_id,
)
from permit_approval.models.case import Case, dedupe
from permitkit.db import TimestampMixin

MULTI_TRIP_MONTHS = 6


def add_months(d: dt.date, months: int) -> dt.date:
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    import calendar as _cal

    return dt.date(y, m, min(d.day, _cal.monthrange(y, m)[1]))


def multi_trip_last_day(start: dt.date) -> dt.date:
    return add_months(start, MULTI_TRIP_MONTHS) - dt.timedelta(days=1)


class Permit(EmitsEvents, TimestampMixin, Base):
    """An issued permit (RV-3, RV-5) and its post-issue changes (PQ-9, PQ-11)."""

    __tablename__ = "permit"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[str] = mapped_column(String(32), index=True)
    application: Mapped[str] = mapped_column(String(100), index=True)
    holder: Mapped[str] = mapped_column(String(100), index=True)
    issuing_province: Mapped[str] = mapped_column(String(6))
    route_provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    route: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    plate_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    conditions: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    multi_trip: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(32))
    abolish_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    extensions: Mapped[list[Extension]] = relationship(
        back_populates="permit", cascade="all, delete-orphan", order_by="Extension.create_time",
        lazy="selectin")

    __mapper_args__ = {"version_id_col": version}

    @property
    def name(self) -> str:
        return f"permits/{self.id}"

    @classmethod
    def issue(cls, case: Case, *, number: str, actor: Actor, now: dt.datetime) -> Permit:
        """The origin issues the permit of a case every route province approved (RV-3)."""
        if case.state != CaseState.READY_TO_ISSUE:
            raise errors.CaseNotReadyToIssue()
        start = case.start_date or local_date(now)
        end = case.end_date or start
        if case.multi_trip:
            end = min(end, multi_trip_last_day(start))
        conditions = [{"province": r.province, "text": c} for r in case.reviews
                      for c in r.conditions]
        permit = cls(id=new_id(), number=number, case_id=case.id, application=case.application,
                     holder=case.applicant, issuing_province=case.origin_province,
                     route_provinces=list(case.route_provinces), route=list(case.route),
                     plate_numbers=list(case.plate_numbers), conditions=conditions,
                     multi_trip=case.multi_trip, start_date=start, end_date=end,
                     state=PermitState.VALID, abolish_reason="", version=1, create_time=now,
                     update_time=now)
        permit.extensions = []
        case.mark_issued(permit_id=permit.id, actor=actor, now=now)
        case._emit(EventKind.PERMIT_ISSUED, actor, now, province=case.origin_province,
                   permit=permit.name, permit_number=number,
                   permit_start_date=start.isoformat(), permit_end_date=end.isoformat())
        return permit

    def effective_state(self, today: dt.date) -> PermitState:
        if self.state == PermitState.ABOLISHED:
            return PermitState.ABOLISHED
        if today > self.end_date:
            return PermitState.EXPIRED
        return PermitState(self.state)

    def _ensure_active(self, today: dt.date) -> None:
        if self.effective_state(today) in (PermitState.ABOLISHED, PermitState.EXPIRED):
            raise errors.PermitNotActive()

    def _emit(self, kind: EventKind, actor: Actor, now: dt.datetime, submission: int,
              **fields: Any) -> None:
        self.events.append(OutgoingEvent(kind, {
            "application": self.application, "permit": self.name, "permit_number": self.number,
            "officer": actor.subject if actor.subject.startswith("officers/") else "",
            "occur_time": now.isoformat(), "submission": submission, **fields}))

    def abolish(self, *, case: Case, reason: str, actor: Actor, now: dt.datetime) -> None:
        """The holder ends the permit when the transport is done (PQ-9); audited on ``case``."""
        self._ensure_active(local_date(now))
        case.audit("PERMIT_ABOLISHED", actor, self.state, PermitState.ABOLISHED, reason, now)
        self.state = PermitState.ABOLISHED
        self.abolish_reason = reason
        self.update_time = now
        for ext in self.extensions:
            if ext.state == ChangeState.PENDING:
                ext.state = ChangeState.CANCELLED
        self._emit(EventKind.PERMIT_ABOLISHED, actor, now, case.submission, reason=reason,
                   permit_start_date=self.start_date.isoformat(),
                   permit_end_date=self.end_date.isoformat())

    def extension_name(self, extension_id: str) -> str:
        """"permits/{permit}/extensions/{id}": what the extension holds its vehicles' extra
        days under at the application service (AP-6)."""
        return f"{self.name}/extensions/{extension_id}"

    def request_extension(self, *, case: Case, new_end_date: dt.date, provinces: list[str],
                          reason: str, actor: Actor, now: dt.datetime,
                          extension_id: str | None = None) -> Extension:
        """A new end date, provinces and reason, for those provinces to approve (PQ-11)."""
        self._ensure_active(local_date(now))
        if any(e.state == ChangeState.PENDING for e in self.extensions):
            raise errors.ExtensionPending()
        if new_end_date <= self.end_date:
            raise errors.NewEndDateInvalid(field="new_end_date")
        if self.multi_trip and new_end_date > multi_trip_last_day(self.start_date):
            raise errors.MultiTripTooLong(field="new_end_date")
        provinces = dedupe([p for p in provinces if p])
        if not provinces:
            raise errors.required("provinces", "请选择需要延期通行的省份。")
        if any(p not in self.route_provinces for p in provinces):
            raise errors.ProvinceNotOnRoute(field="provinces")
        if not reason.strip():
            raise errors.required("reason", "请填写延期原因。")
        ext = Extension(id=extension_id or new_id(), new_end_date=new_end_date, provinces=provinces,
                        reason=reason, state=ChangeState.PENDING,
                        decisions={p: {"state": ReviewState.PENDING.value} for p in provinces},
                        create_time=now)
        self.extensions.append(ext)
        self.update_time = now
        case.audit("EXTENSION_REQUESTED", actor, None, ChangeState.PENDING,
                   f"{new_end_date.isoformat()}：{reason}", now)
        return ext

    def decide_extension(self, *, case: Case, extension_id: str, province: str, approve: bool,
                         reason: str, actor: Actor, now: dt.datetime) -> Extension:
        """One chosen province decides; all approved -> end date moved, one denial -> denied (PQ-11)."""
        ext = next((e for e in self.extensions if e.id == extension_id), None)
        if ext is None:
            raise errors.ExtensionNotFound(field="name")
        if province not in ext.provinces:
            raise errors.OtherProvince()
        if ext.state != ChangeState.PENDING:
            raise errors.ExtensionNotPending()
        self._ensure_active(local_date(now))
        current = ext.decisions.get(province, {})
        if current.get("state") != ReviewState.PENDING.value:
            raise errors.ProvinceAlreadyDecided()
        if not approve and not reason.strip():
            raise errors.required("reason", "请填写不同意延期的原因。")
        decisions = dict(ext.decisions)
        decisions[province] = {
            "state": (ReviewState.APPROVED if approve else ReviewState.DENIED).value,
            "reason": reason, "officer": actor.subject, "decide_time": now.isoformat()}
        ext.decisions = decisions
        self.update_time = now
        case.audit("EXTENSION_APPROVED" if approve else "EXTENSION_DENIED", actor,
                   ReviewState.PENDING, decisions[province]["state"], reason, now, province)
        if not approve:
            ext.state = ChangeState.DENIED
            self._emit(EventKind.EXTENSION_DENIED, actor, now, case.submission, province=province,
                       reason=reason, provinces=list(ext.provinces),
                       extension=self.extension_name(ext.id))
        elif all(d.get("state") == ReviewState.APPROVED.value for d in decisions.values()):
            ext.state = ChangeState.APPROVED
            case.audit("PERMIT_EXTENDED", actor, self.state, PermitState.EXTENDED,
                       f"{self.end_date.isoformat()} -> {ext.new_end_date.isoformat()}", now)
            self.end_date = ext.new_end_date
            self.state = PermitState.EXTENDED
            self._emit(EventKind.PERMIT_EXTENDED, actor, now, case.submission,
                       permit_start_date=self.start_date.isoformat(),
                       permit_end_date=self.end_date.isoformat(), provinces=list(ext.provinces),
                       reason=ext.reason, extension=self.extension_name(ext.id))
        return ext


class Extension(Base):
    """A request to extend a permit's validity (PQ-11); one decision per chosen province."""

    __tablename__ = "permit_extension"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    permit_id: Mapped[str] = mapped_column(ForeignKey("permit.id", ondelete="CASCADE"),
                                           index=True)
    new_end_date: Mapped[dt.date] = mapped_column(Date)
    provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(32))
    # province -> {state, reason, officer, decide_time}
    decisions: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column()

    permit: Mapped[Permit] = relationship(back_populates="extensions")
