"""Persistence of cases, permits, permit numbers and calendar years."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, union_all
from sqlalchemy.orm import Session

from permit_approval.models import (
    CalendarYear,
    Case,
    CaseState,
    Permit,
    PermitSequence,
    Review,
    ReviewState,
)
from permitkit.db import RepositoryBase


class CaseRepository(RepositoryBase[Case]):
    """Review cases; loads for update lock the row so concurrent deciders serialise."""

    model = Case

    def get(self, ident: Any, *, for_update: bool = False) -> Case | None:
        stmt = select(Case).where(Case.id == ident)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def by_application(self, application: str, *, for_update: bool = False) -> Case | None:
        stmt = select(Case).where(Case.application == application)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def work_queue(self, *, province: str, acceptance: bool, review: bool, offset: int,
                   limit: int) -> list[Case]:
        """Cases waiting for ``province``, earliest due first (RV-1, RV-4)."""
        parts = []
        if acceptance:
            parts.append(select(Case.id.label("case_id"),
                                Case.acceptance_due_date.label("due")).where(
                Case.state == CaseState.AWAITING_ACCEPTANCE, Case.origin_province == province))
        if review:
            parts.append(select(Review.case_id.label("case_id"), Review.due_date.label("due"))
                         .join(Case, Case.id == Review.case_id).where(
                Case.state == CaseState.UNDER_REVIEW, Review.province == province,
                Review.state == ReviewState.PENDING))
        if not parts:
            return []
        q = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
        rows = self.session.execute(
            select(q.c.case_id, q.c.due).order_by(q.c.due, q.c.case_id).offset(offset)
            .limit(limit)).all()
        ids = [r.case_id for r in rows]
        if not ids:
            return []
        by_id = {c.id: c for c in self.session.scalars(select(Case).where(Case.id.in_(ids)))}
        return [by_id[i] for i in ids]

    def with_provisional_due_dates(self) -> list[Case]:
        """Open cases whose deadlines were counted over a year without calendar data."""
        stmt = select(Case).where(
            Case.state.in_([CaseState.AWAITING_ACCEPTANCE, CaseState.UNDER_REVIEW]),
            or_(Case.acceptance_due_provisional.is_(True),
                Case.id.in_(select(Review.case_id).where(Review.due_provisional.is_(True)))))
        return list(self.session.scalars(stmt))


class PermitRepository(RepositoryBase[Permit]):
    """Issued permits."""

    model = Permit

    def get(self, ident: Any, *, for_update: bool = False) -> Permit | None:
        stmt = select(Permit).where(Permit.id == ident)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def next_number(self, province: str, year: int) -> str:
        """The next permit number of ``province`` in ``year`` ("13" + "2026" + serial)."""
        key = f"{province}-{year}"
        seq = self.session.scalars(
            select(PermitSequence).where(PermitSequence.key == key).with_for_update()).first()
        if seq is None:
            seq = PermitSequence(key=key, last=0)
            self.session.add(seq)
        seq.last += 1
        self.session.flush()
        return f"{province[:2]}{year}{seq.last:06d}"


class CalendarRepository:
    """Administrator calendar years (RV-4)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[CalendarYear]:
        return list(self.session.scalars(select(CalendarYear).order_by(CalendarYear.year)))

    def get(self, year: int) -> CalendarYear | None:
        return self.session.get(CalendarYear, year)

    def add(self, row: CalendarYear) -> None:
        self.session.add(row)

