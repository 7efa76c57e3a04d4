"""In-memory unit of work for use-case tests: committed state is kept as
snapshots, so a use case that raises before commit leaves nothing behind
(as a rolled-back transaction would)."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from permit_application.models import (
    OCCUPYING_STATES,
    Application,
    ApplicationVehicle,
    FleetAgent,
    FleetVehicle,
    ProvinceProgress,
    State,
    StateChange,
)
from permit_application.values import Agent, Vehicle


class _UniqueViolation(Exception):
    """What the driver raises for a duplicate key (SQLSTATE 23505)."""

    sqlstate = "23505"


def _columns(obj: Any) -> dict[str, Any]:
    return {a.key: copy.deepcopy(getattr(obj, a.key)) for a in inspect(type(obj)).column_attrs}


def _snapshot(app: Application) -> dict[str, Any]:
    return {"cols": _columns(app), "plates": [_columns(p) for p in app.plates],
            "progress": [_columns(p) for p in app.progress]}


def _restore(snap: dict[str, Any]) -> Application:
    app = Application(**copy.deepcopy(snap["cols"]))
    for p in snap["plates"]:
        app.plates.append(ApplicationVehicle(**copy.deepcopy(p)))
    for p in snap["progress"]:
        app.progress.append(ProvinceProgress(**copy.deepcopy(p)))
    return app


class Store:
    """What survives between units of work (the "database")."""

    def __init__(self) -> None:
        self.apps: dict[str, dict[str, Any]] = {}
        self.changes: list[StateChange] = []
        self.counters: dict[str, int] = {}
        self.vehicles: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.outbox: list[tuple[str, str, Any]] = []
        self.inbox: set[str] = set()
        self.locked: list[list[str]] = []
        # (key, plate) -> (application id, start, end); written at once, not per unit of work.
        self.holds: dict[tuple[str, str], tuple[str, dt.date, dt.date]] = {}


class FakeApplications:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.store = uow.store

    def _live(self, ident: str) -> Application | None:
        if ident in self.uow.deleted:
            return None
        if ident in self.uow.seen:
            return self.uow.seen[ident]
        snap = self.store.apps.get(ident)
        if snap is None:
            return None
        app = _restore(snap)
        self.uow.seen[ident] = app
        return app

    def get(self, ident: str, *, for_update: bool = False) -> Application | None:
        return self._live(ident)

    def get_draft(self, ident: str) -> Application | None:
        return self._live(ident)

    def add(self, app: Application) -> Application:
        self.uow.seen[app.id] = app
        self.uow.added.add(app.id)
        return app

    def exists(self, ident: str) -> bool:
        return self._live(ident) is not None

    def all(self) -> list[Application]:
        ids = (set(self.store.apps) | set(self.uow.seen)) - self.uow.deleted
        return [a for a in (self._live(i) for i in ids) if a is not None]

    def find_by_create_request(self, party: str, request_id: str) -> Application | None:
        return next((a for a in self.all() if a.party == party and a.create_request_id == request_id), None)

    def list_for_party(self, party: str, *, state: State | None, query: str, offset: int,
                       limit: int) -> tuple[list[Application], int]:
        rows = [a for a in self.all() if a.party == party and (state is None or a.state == state.value)]
        if query:
            q = query.upper()
            rows = [a for a in rows if q in a.id.upper() or any(q in p.plate_number.upper() for p in a.plates)]
        rows.sort(key=lambda a: (a.create_time, a.id), reverse=True)
        return rows[offset:offset + limit], len(rows)

    def occupying(self, plates: Iterable[str], start: dt.date, end: dt.date,
                  *, exclude: str) -> list[tuple[str, Application]]:
        plates = set(plates)
        out = []
        for a in self.all():
            if a.id == exclude or a.status not in OCCUPYING_STATES or a.period_start is None:
                continue
            if not (a.period_start <= end and a.period_end >= start):
                continue
            for p in a.plates:
                if p.plate_number in plates:
                    out.append((p.plate_number, a))
        return sorted(out, key=lambda x: (x[1].period_start, x[1].id))

    def holding(self, plates: Iterable[str], start: dt.date, end: dt.date,
                *, exclude: str) -> list[tuple[str, Application, dt.date, dt.date]]:
        plates = set(plates)
        out = []
        for (_, plate), (app_id, s, e) in self.uow.store.holds.items():
            a = self._live(app_id)
            if (plate in plates and a is not None and a.id != exclude and a.status in OCCUPYING_STATES
                    and s <= end and e >= start):
                out.append((plate, a, s, e))
        return out

    def has_hold(self, key: str) -> bool:
        return any(k == key for k, _ in self.uow.store.holds)

    def add_holds(self, key: str, application_id: str, plates: Iterable[str], start: dt.date,
                  end: dt.date) -> None:
        for plate in set(plates):
            self.uow.store.holds[(key, plate)] = (application_id, start, end)

    def release_holds(self, key: str) -> int:
        keys = [k for k in self.uow.store.holds if k[0] == key]
        for k in keys:
            del self.uow.store.holds[k]
        return len(keys)

    def release_all_holds(self, app: Application) -> int:
        keys = [k for k, (app_id, _, _) in self.uow.store.holds.items() if app_id == app.id]
        for k in keys:
            del self.uow.store.holds[k]
        return len(keys)

    def release_covered_holds(self, app: Application) -> None:
        plates = {p.plate_number for p in app.plates}
        for k, (app_id, s, e) in list(self.uow.store.holds.items()):
            if (app_id == app.id and k[1] in plates and app.period_start and app.period_end
                    and s >= app.period_start and e <= app.period_end):
                del self.uow.store.holds[k]

    def lock_vehicles(self, plates: Iterable[str]) -> None:
        self.store.locked.append(sorted(set(plates)))

    def next_number(self, day: str) -> int:
        """Taken at once, as on PostgreSQL: a creation that fails later leaves a gap."""
        self.store.counters[day] = self.store.counters.get(day, 0) + 1
        return self.store.counters[day]

    def add_change(self, change: StateChange) -> None:
        self.uow.new_changes.append(change)

    def changes(self, application_id: str, *, offset: int = 0, limit: int | None = None) -> list[StateChange]:
        rows = [c for c in self.store.changes + self.uow.new_changes if c.application_id == application_id]
        return rows[offset:None if limit is None else offset + limit]

    def remove(self, app: Application) -> None:
        self.uow.deleted.add(app.id)


class FakeFleet:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.store = uow.store

    def _vehicles(self) -> list[FleetVehicle]:
        return [FleetVehicle(**copy.deepcopy(v)) for v in {**self.store.vehicles, **self.uow.vehicles}.values()]

    def vehicles_by_plates(self, party: str, plates: Iterable[str]) -> dict[str, Vehicle]:
        plates = set(plates)
        return {v.plate_number: v.to_value() for v in self._vehicles()
                if v.party == party and v.plate_number in plates and v.retire_time is None}

    def suggest_vehicles(self, party: str, text: str, *, offset: int, limit: int) -> list[FleetVehicle]:
        rows = [v for v in self._vehicles() if v.party == party and text in v.plate_number and v.retire_time is None]
        return sorted(rows, key=lambda v: (v.source != "FLEET", v.plate_number))[offset:offset + limit]

    def kept_vehicles(self, party: str, *, retired: bool, offset: int, limit: int) -> list[FleetVehicle]:
        rows = [v for v in self._vehicles() if v.party == party and v.source == "FLEET"
                and (retired or v.retire_time is None)]
        return sorted(rows, key=lambda v: v.plate_number)[offset:offset + limit]

    def kept_agents(self, party: str, *, retired: bool, offset: int, limit: int) -> list[FleetAgent]:
        rows = [a for a in self._agents() if a.party == party and a.source == "FLEET"
                and (retired or a.retire_time is None)]
        return sorted(rows, key=lambda a: (a.agent_name, a.id))[offset:offset + limit]

    def agent_by_id_number(self, party: str, id_number: str) -> FleetAgent | None:
        return next((a for a in self._agents() if a.party == party and a.id_number == id_number), None)

    def save_vehicle(self, row: FleetVehicle) -> None:
        self.uow.vehicles[row.id] = _columns(row)

    def save_agent(self, row: FleetAgent) -> None:
        self.uow.agents[row.id] = _columns(row)

    def get_vehicle(self, ident: str) -> FleetVehicle | None:
        return next((v for v in self._vehicles() if v.id == ident), None)

    def vehicle_by_plate(self, party: str, plate: str) -> FleetVehicle | None:
        return next((v for v in self._vehicles() if v.party == party and v.plate_number == plate), None)

    def upsert_vehicle(self, party: str, v: Vehicle, *, source: str) -> bool:
        row = self.vehicle_by_plate(party, v.plate_number)
        if row is None:
            row = FleetVehicle(id=uuid.uuid4().hex[:16], party=party, plate_number=v.plate_number, source=source,
                               licence_documents=list(v.licence_documents))
        elif source == "HISTORY" and row.source == "FLEET":
            return False
        row.fill_from(v)
        row.source = source
        self.uow.vehicles[row.id] = _columns(row)
        return True

    def _agents(self) -> list[FleetAgent]:
        return [FleetAgent(**copy.deepcopy(a)) for a in {**self.store.agents, **self.uow.agents}.values()]

    def suggest_agents(self, party: str, text: str, *, offset: int, limit: int) -> list[FleetAgent]:
        rows = [a for a in self._agents() if a.party == party and text in a.agent_name and a.retire_time is None]
        return sorted(rows, key=lambda a: (a.source != "FLEET", a.agent_name, a.id))[offset:offset + limit]

    def get_agent(self, ident: str) -> FleetAgent | None:
        return next((a for a in self._agents() if a.id == ident), None)

    def upsert_agent(self, party: str, a: Agent, *, source: str) -> bool:
        row = next((x for x in self._agents() if x.party == party and x.id_number == a.id_number), None)
        if row is None:
            row = FleetAgent(id=uuid.uuid4().hex[:16], party=party, id_number=a.id_number, source=source)
        elif source == "HISTORY" and row.source == "FLEET":
            return False
        row.agent_name, row.phone, row.source = a.name, a.phone, source
        row.id_card_documents = list(a.id_card_documents)
        row.power_of_attorney_document = a.power_of_attorney_document
        self.uow.agents[row.id] = _columns(row)
        return True


class FakeUnitOfWork:
    """Same interface as SqlAlchemyUnitOfWork; ``commit`` publishes to the shared Store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self._reset()
        self.applications = FakeApplications(self)
        self.fleet = FakeFleet(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._reset()

    def _reset(self) -> None:
        self.seen: dict[str, Application] = {}
        self.added: set[str] = set()
        self.deleted: set[str] = set()
        self.new_changes: list[StateChange] = []
        self.vehicles: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[str, str, Any]] = []
        self.received: set[str] = set()

    def record_event(self, event: Message) -> str:
        if not event.event_id:
            event.event_id = str(uuid.uuid4())
        eid: str = event.event_id
        copied = type(event)()
        copied.CopyFrom(event)
        self.events.append((eid, event.DESCRIPTOR.full_name, copied))
        return eid

    def first_delivery(self, event_id: str, topic: str) -> bool:
        if event_id in self.store.inbox or event_id in self.received:
            return False
        self.received.add(event_id)
        return True

    def flush(self) -> None:
        pass

    def commit(self) -> None:
        for ident in self.added:  # the database's unique number and (party, request id)
            app = self.seen[ident]
            taken = ident in self.store.apps or (app.create_request_id is not None and any(
                snap["cols"]["party"] == app.party and snap["cols"]["create_request_id"] == app.create_request_id
                for snap in self.store.apps.values()))
            if taken:
                self._reset()
                raise IntegrityError("INSERT INTO application", None, _UniqueViolation())
        for ident, app in self.seen.items():
            if ident not in self.deleted:
                self.store.apps[ident] = _snapshot(app)
        for ident in self.deleted:
            self.store.apps.pop(ident, None)
        self.store.changes += self.new_changes
        self.store.vehicles.update(self.vehicles)
        self.store.agents.update(self.agents)
        self.store.outbox += self.events
        self.store.inbox |= self.received
        self.commits += 1
        deleted = set(self.deleted)
        self._reset()
        # Objects returned to the caller stay readable after commit.
        self.deleted = deleted

    def rollback(self) -> None:
        self._reset()
