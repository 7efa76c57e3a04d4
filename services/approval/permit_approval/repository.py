"""Persistence of cases, permits, permit numbers and calendar years."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from permit_approval.models import (
    CalendarYear,
    Case,
    CaseState,
    CaseSubmission,
    ChangeState,
    Extension,
    Permit,
    PermitSequence,
    Review,
    ReviewState,
    VehicleChange,
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

    def applicant_in_province(self, applicant: str, province: str) -> bool:
        """Whether the applicant has a case with this province as origin or on its route (PC-2)."""
        rows = self.session.execute(select(Case.origin_province, Case.route_provinces)
                                    .where(Case.applicant == applicant)).all()
        return any(origin == province or province in (route or []) for origin, route in rows)

    def work_queue(self, *, province: str, acceptance: bool, review: bool, offset: int = 0,
                   limit: int | None = None) -> list[Case]:
        """Cases waiting for ``province``, earliest due first (RV-1, RV-4).

        For acceptance officers: the origin's cases to accept, to issue, or with a
        vehicle change to decide; for reviewers: the province's pending reviews.
        Steps without a statutory deadline sort by their acceptance date.
        """
        parts = self._queue_parts(province=province, acceptance=acceptance, review=review)
        if not parts:
            return []
        q = union_all(*parts).subquery()
        due = func.min(q.c.due).label("due")
        stmt = select(q.c.case_id, due).group_by(q.c.case_id).order_by(due, q.c.case_id).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return self._cases([r.case_id for r in self.session.execute(stmt).all()])

    def _queue_parts(self, *, province: str, acceptance: bool, review: bool) -> list[Any]:
        """(case_id, due) of every step waiting for ``province``, one select per kind of step."""
        parts: list[Any] = []
        if acceptance:
            parts.append(select(Case.id.label("case_id"),
                                Case.acceptance_due_date.label("due")).where(
                Case.state == CaseState.AWAITING_ACCEPTANCE, Case.origin_province == province))
            parts.append(select(Case.id.label("case_id"), Case.accepted_on.label("due")).where(
                Case.state == CaseState.READY_TO_ISSUE, Case.origin_province == province))
            parts.append(select(VehicleChange.case_id.label("case_id"), Case.accepted_on.label("due"))
                         .join(Case, Case.id == VehicleChange.case_id).where(
                VehicleChange.state == ChangeState.PENDING, Case.origin_province == province,
                Case.state.in_([CaseState.UNDER_REVIEW, CaseState.READY_TO_ISSUE])))
        if review:
            # The province's pending reviews, each case's state looked up by its key
            # (a join would read every case under review in the country).
            case_state = (select(Case.state).where(Case.id == Review.case_id)
                          .correlate(Review).scalar_subquery())
            parts.append(select(Review.case_id.label("case_id"), Review.due_date.label("due")).where(
                Review.province == province, Review.state == ReviewState.PENDING,
                case_state == CaseState.UNDER_REVIEW))
        return parts

    def work_queue_page(self, *, province: str, acceptance: bool, review: bool, state: str, offset: int,
                        limit: int) -> tuple[list[Case], dict[str, int]]:
        """One page of ``work_queue`` (only cases in ``state`` when given) and the count of the
        whole queue per state, in the database: two statements and the page's cases, however
        long the province's queue is."""
        parts = self._queue_parts(province=province, acceptance=acceptance, review=review)
        if not parts:
            return [], {}
        q = union_all(*parts).subquery()
        grouped = select(q.c.case_id, func.min(q.c.due).label("due")).group_by(q.c.case_id).subquery()
        counts = {st: int(n) for st, n in self.session.execute(
            select(Case.state, func.count()).join(grouped, grouped.c.case_id == Case.id).group_by(Case.state))}
        stmt = select(grouped.c.case_id).join(Case, Case.id == grouped.c.case_id)
        if state:
            stmt = stmt.where(Case.state == state)
        stmt = stmt.order_by(grouped.c.due, grouped.c.case_id).offset(offset).limit(limit)
        return self._cases(list(self.session.scalars(stmt))), counts

    def _cases(self, ids: list[str]) -> list[Case]:
        if not ids:
            return []
        by_id = {c.id: c for c in self.session.scalars(select(Case).where(Case.id.in_(ids)))}
        return [by_id[i] for i in ids]

    def open_cases(self) -> list[Case]:
        """Cases whose deadlines still run (awaiting acceptance or under review)."""
        stmt = select(Case).where(
            Case.state.in_([CaseState.AWAITING_ACCEPTANCE, CaseState.UNDER_REVIEW]))
        return list(self.session.scalars(stmt))


class SubmissionRepository:
    """The application as submitted, one row per submission of a case (RV-2)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: CaseSubmission) -> None:
        self.session.add(row)

    def get(self, case_id: str, submission: int) -> CaseSubmission | None:
        return self.session.get(CaseSubmission, (case_id, submission))

    def latest_two(self, case_id: str, submission: int) -> list[CaseSubmission]:
        """The case's ``submission`` and the one before it (newest first), those stored."""
        return list(self.session.scalars(
            select(CaseSubmission).where(CaseSubmission.case_id == case_id,
                                         CaseSubmission.submission <= submission)
            .order_by(CaseSubmission.submission.desc()).limit(2)))


class PermitRepository(RepositoryBase[Permit]):
    """Issued permits."""

    model = Permit

    def get(self, ident: Any, *, for_update: bool = False) -> Permit | None:
        stmt = select(Permit).where(Permit.id == ident)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def awaiting_extension_decision(self, province: str, *, limit: int = 200) -> list[Permit]:
        """Permits with a pending extension that ``province`` was asked to decide (PQ-11)."""
        exts = self.session.scalars(
            select(Extension).where(Extension.state == ChangeState.PENDING)
            .order_by(Extension.create_time)).all()
        ids = [e.permit_id for e in exts
               if (e.decisions or {}).get(province, {}).get("state") == ReviewState.PENDING.value]
        if not ids:
            return []
        by_id = {p.id: p for p in self.session.scalars(select(Permit).where(Permit.id.in_(ids)))}
        return [by_id[i] for i in dict.fromkeys(ids)][:limit]

    def next_number(self, province: str, year: int) -> str:
        """The next permit number of ``province`` in ``year`` ("13" + "2026" + serial)."""
        key = f"{province}-{year}"
        stmt = select(PermitSequence).where(PermitSequence.key == key).with_for_update()
        seq = self.session.scalars(stmt).first()
        if seq is None:
            try:
                # The first permit of the year: two issuers may create the row at once.
                with self.session.begin_nested():
                    self.session.add(PermitSequence(key=key, last=0))
            except IntegrityError:
                pass
            seq = self.session.scalars(stmt).one()
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

