"""In-memory fakes of the approval ports for use-case tests (no database)."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from permit_approval import published
from permit_approval.models import CalendarYear, Case, OutgoingEvent, Permit
from permit_approval.workdays import WorkingCalendar


class FakeCases:
    def __init__(self) -> None:
        self.rows: dict[str, Case] = {}

    def add(self, case: Case) -> Case:
        self.rows[case.id] = case
        return case

    def get(self, ident: Any, *, for_update: bool = False) -> Case | None:
        return self.rows.get(ident)

    def by_application(self, application: str, *, for_update: bool = False) -> Case | None:
        return next((c for c in self.rows.values() if c.application == application), None)


class FakePermits:
    def __init__(self) -> None:
        self.rows: dict[str, Permit] = {}
        self.serial = 0

    def add(self, permit: Permit) -> Permit:
        self.rows[permit.id] = permit
        return permit

    def get(self, ident: Any, *, for_update: bool = False) -> Permit | None:
        return self.rows.get(ident)

    def next_number(self, province: str, year: int) -> str:
        self.serial += 1
        return f"{province[:2]}{year}{self.serial:06d}"


class FakeCalendars:
    def __init__(self) -> None:
        self.rows: dict[int, CalendarYear] = {}

    def all(self) -> list[CalendarYear]:
        return list(self.rows.values())

    def get(self, year: int) -> CalendarYear | None:
        return self.rows.get(year)

    def add(self, row: CalendarYear) -> None:
        self.rows[row.year] = row


class FakeUnitOfWork:
    """Same surface as ApprovalUnitOfWork; ``committed`` counts commits, ``outbox`` keeps review
    events and ``grants`` the committed document grants."""

    def __init__(self) -> None:
        self.cases = FakeCases()
        self.permits = FakePermits()
        self.calendars = FakeCalendars()
        self.outbox: list[dict[str, Any]] = []
        self.inbox: set[str] = set()
        self.grants: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []
        self._pending_grants: list[dict[str, Any]] = []
        self._pending_inbox: set[str] = set()
        self.committed = 0

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def record(self, events: list[OutgoingEvent], case: Case) -> None:
        for e in events:
            self.publish(published.messages(e, case))
        self._pending.extend({"kind": e.kind.value, **e.fields} for e in events)
        events.clear()

    def publish(self, messages: list[Message]) -> None:
        """The grants the documents service makes from CaseOpened, an accepted route
        adjustment and an approved vehicle change (the documents they carry)."""
        for m in messages:
            e: Any = m
            granting = (m.DESCRIPTOR.name == "CaseOpened"
                        or (m.DESCRIPTOR.name == "RouteAdjustmentAnswered" and e.accepted)
                        or (m.DESCRIPTOR.name == "VehicleChangeDecided" and e.approved))
            if granting and e.documents:
                self._pending_grants.append({"application": e.application.name,
                                             "provinces": list(e.route_provinces), "documents": list(e.documents)})

    def first_delivery(self, event_id: str, topic: str) -> bool:
        if event_id in self.inbox or event_id in self._pending_inbox:
            return False
        self._pending_inbox.add(event_id)
        return True

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar.from_library()

    def flush(self) -> None:
        pass

    def commit(self) -> None:
        self.outbox.extend(self._pending)
        self.grants.extend(self._pending_grants)
        self.inbox |= self._pending_inbox
        self._pending, self._pending_inbox, self._pending_grants = [], set(), []
        self.committed += 1

    def rollback(self) -> None:
        self._pending, self._pending_inbox, self._pending_grants = [], set(), []
