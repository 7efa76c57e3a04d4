"""Persistence of applications, the audit trail and the applicant's fleet and agents."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Integer, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from permit_application.models import (
    OCCUPYING_STATES,
    Application,
    ApplicationVehicle,
    FleetAgent,
    FleetVehicle,
    NumberCounter,
    State,
    StateChange,
    VehicleHold,
    VehicleLock,
)
from permit_application.values import Agent, Vehicle
from permitkit.db import SINGLE_STATEMENT, RepositoryBase, is_unique_violation, precompiled, utcnow

# The hot reads are built once: building a statement and its cache key costs about as
# much as running it. An application is always loaded whole: its progress joined (its
# plate rows are loaded only when the vehicles step rewrites them).
_WHOLE = (joinedload(Application.progress),)
_GET = select(Application).where(Application.id == bindparam("ident")).options(*_WHOLE)
_GET_FOR_UPDATE = _GET.with_for_update(of=Application)
# Saving a draft's steps locks and reads the one row: a draft has no review progress yet.
_GET_DRAFT = (select(Application).where(Application.id == bindparam("ident"))
              .options(lazyload(Application.progress)).with_for_update())


def _page(*conds: Any) -> Any:
    """One statement: a page (index ix_application_party_create_time, newest first), its
    progress joined, and the total as a window count."""
    return (select(Application, func.count().over().label("total")).where(*conds)
            .options(*_WHOLE)
            .order_by(Application.create_time.desc(), Application.id.desc())
            # Rendered into the SQL at execution: the planner sees the page's size and offset
            # (a prepared statement with LIMIT as a parameter may get a generic plan).
            .offset(bindparam("offset", type_=Integer, literal_execute=True))
            .limit(bindparam("limit", type_=Integer, literal_execute=True)))


def _owned(*, by_state: bool) -> list[Any]:
    """The party's applications (parameter ``party``), of one status (``state``) if asked."""
    conds = [Application.party == bindparam("party")]
    if by_state:
        conds.append(Application.state == bindparam("state"))
    return conds


_ID = select(Application.id).where(Application.id == bindparam("ident"))
_ID_OF_CREATE_REQUEST = select(Application.id).where(Application.party == bindparam("party"),
                                                     Application.create_request_id == bindparam("request_id"))

# AP-6: the other applications that may occupy some of the plates (``plates``) in the
# period [``start``, ``end``], and the pending vehicle changes and extensions that hold them.
# Only their own columns are read (their numbers and periods): progress not loaded.
_OTHERS = (Application.id != bindparam("exclude"), Application.state.in_([s.value for s in OCCUPYING_STATES]))
_OCCUPYING = (select(ApplicationVehicle.plate_number, Application)
              .join(Application, Application.id == ApplicationVehicle.application_id)
              .where(ApplicationVehicle.plate_number.in_(bindparam("plates", expanding=True)), *_OTHERS,
                     Application.period_start <= bindparam("end"), Application.period_end >= bindparam("start"))
              .options(lazyload(Application.progress))
              .order_by(Application.period_start, Application.id))
_HOLDING = (select(VehicleHold, Application)
            .join(Application, Application.id == VehicleHold.application_id)
            .where(VehicleHold.plate_number.in_(bindparam("plates", expanding=True)), *_OTHERS,
                   VehicleHold.start_date <= bindparam("end"), VehicleHold.end_date >= bindparam("start"))
            .options(lazyload(Application.progress))
            .order_by(VehicleHold.start_date, VehicleHold.key))

# The party's kept (not retired) fleet vehicles of some plates: the vehicles step (AP-4).
_KEPT_VEHICLES = select(FleetVehicle).where(
    FleetVehicle.party == bindparam("party"), FleetVehicle.plate_number.in_(bindparam("plates", expanding=True)),
    FleetVehicle.retire_time.is_(None))

# The list's page, without and with a status filter (search adds its pattern per call).
_PAGES = {by_state: _page(*_owned(by_state=by_state)) for by_state in (False, True)}


class ApplicationRepository(RepositoryBase[Application]):
    """Applications of every party; callers always pass the party they act for."""

    model = Application

    def get(self, ident: str, *, for_update: bool = False) -> Application | None:
        """One statement: the application with its progress (joined), its row locked when
        ``for_update`` (the plate and progress rows belong to it)."""
        stmt = _GET_FOR_UPDATE if for_update else _GET
        return self.session.execute(stmt, {"ident": ident}).unique().scalars().first()

    def get_draft(self, ident: str) -> Application | None:
        """The application locked for saving a draft's steps, without its progress joined: a
        draft has none, nor plate rows before its vehicles step (written only with it), so
        neither is read. Otherwise they load on first use; the caller refuses an application
        that is no longer a draft anyway."""
        app = self.session.execute(_GET_DRAFT, {"ident": ident}).scalars().first()
        if app is not None and app.state == State.DRAFT.value:
            set_committed_value(app, "progress", [])
            if not app.vehicles:
                set_committed_value(app, "plates", [])
        return app

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def find_by_create_request(self, party: str, request_id: str) -> Application | None:
        """The draft a retried "new application" made the first time (probed by its id: the
        first attempt, by far the most common, finds nothing)."""
        ident = self.session.execute(_ID_OF_CREATE_REQUEST, {"party": party, "request_id": request_id}).scalar()
        return self.get(ident) if ident is not None else None

    def list_for_party(self, party: str, *, state: State | None, query: str, offset: int,
                       limit: int) -> tuple[list[Application], int]:
        """Newest first; ``query`` matches the number or a plate (partial, case-insensitive)."""
        params = {"party": party, "state": state.value if state else None, "offset": offset, "limit": limit}
        conds = _owned(by_state=state is not None)
        q = query.strip().upper()
        if q:
            # Correlated: the party's own applications are probed by primary key, so
            # the search does not scan every party's plates.
            plate_match = exists().where(
                ApplicationVehicle.application_id == Application.id,
                func.upper(ApplicationVehicle.plate_number).contains(q, autoescape=True))
            conds.append(or_(func.upper(Application.id).contains(q, autoescape=True), plate_match))
            stmt = _page(*conds)
        else:
            stmt = _PAGES[state is not None]
        rows = self.session.execute(stmt, params).unique().all()
        if rows:
            return [r[0] for r in rows], int(rows[0][1])
        total = 0
        if offset:  # past the end: the total still has to be told
            total = self.session.execute(select(func.count()).select_from(Application).where(*conds),
                                         params).scalar_one()
        return [], int(total)

    def occupying(self, plates: Iterable[str], start: dt.date, end: dt.date,
                  *, exclude: str) -> list[tuple[str, Application]]:
        """(plate, application) of other applications whose period overlaps [start, end] and
        whose state can occupy a vehicle (AP-6); the caller applies ``occupies_vehicle``."""
        plates = list(plates)
        if not plates:
            return []
        rows = self.session.execute(_OCCUPYING, {"plates": plates, "start": start, "end": end, "exclude": exclude}).all()
        return [(r[0], r[1]) for r in rows]

    def holding(self, plates: Iterable[str], start: dt.date, end: dt.date,
                *, exclude: str) -> list[tuple[str, Application, dt.date, dt.date]]:
        """(plate, application, hold start, hold end) of other applications' pending vehicle
        changes and extensions overlapping [start, end] (AP-6); the caller applies
        ``occupies_vehicle``."""
        plates = list(plates)
        if not plates:
            return []
        rows = self.session.execute(_HOLDING, {"plates": plates, "start": start, "end": end, "exclude": exclude}).all()
        return [(h.plate_number, a, h.start_date, h.end_date) for h, a in rows]

    def has_hold(self, key: str) -> bool:
        return self.session.execute(select(VehicleHold.key).where(VehicleHold.key == key)).first() is not None

    def add_holds(self, key: str, application_id: str, plates: Iterable[str], start: dt.date,
                  end: dt.date) -> None:
        for plate in sorted(set(plates)):
            self.session.add(VehicleHold(key=key, plate_number=plate, application_id=application_id,
                                         start_date=start, end_date=end, create_time=utcnow()))

    def release_holds(self, key: str) -> int:
        return int(self.session.execute(delete(VehicleHold).where(VehicleHold.key == key)).rowcount or 0)

    def release_all_holds(self, app: Application) -> int:
        """Every hold of an application that no longer occupies its vehicles (withdrawn,
        denied, permit abolished): pending changes of it cannot be granted any more."""
        return int(self.session.execute(
            delete(VehicleHold).where(VehicleHold.application_id == app.id)).rowcount or 0)

    def release_covered_holds(self, app: Application) -> None:
        """Holds the application now covers itself (its new vehicle or end date) go."""
        plates = app.plate_numbers
        if not plates or app.period_start is None or app.period_end is None:
            return
        self.session.execute(delete(VehicleHold).where(
            VehicleHold.application_id == app.id, VehicleHold.plate_number.in_(plates),
            VehicleHold.start_date >= app.period_start, VehicleHold.end_date <= app.period_end))

    def lock_vehicles(self, plates: Iterable[str]) -> None:
        """Serialise AP-6 checks per vehicle: one locked row per plate, in a fixed order."""
        ordered = sorted(set(plates))
        if not ordered:
            return
        if self._postgres:
            # One round trip: create the missing rows and lock every row (an upsert's
            # DO UPDATE takes the row lock), in plate order so two submits sharing
            # vehicles cannot deadlock.
            self.session.connection().execute(_lock_vehicle(), [{"plate_number": p} for p in ordered])
            return
        for plate in ordered:
            if self.session.get(VehicleLock, plate) is None:
                try:
                    with self.session.begin_nested():
                        self.session.execute(insert(VehicleLock).values(plate_number=plate))
                except Exception as e:
                    if not is_unique_violation(e):
                        raise
            self.session.execute(select(VehicleLock).where(VehicleLock.plate_number == plate)
                                 .with_for_update()).first()

    def next_number(self, day: str) -> int:
        """The next sequence number of ``day`` (yyyymmdd), safe under concurrency.

        On PostgreSQL the number is taken in a transaction of its own, committed at once:
        the day's counter row is locked for one statement, not for the whole creation of
        every new draft of the country (a creation that fails after it leaves a gap in the
        day's numbers, as sequences do)."""
        if self._postgres:
            with self.session.get_bind().connect() as conn:
                # One statement, committed by itself: no BEGIN and COMMIT round trips.
                return int(conn.execution_options(**{SINGLE_STATEMENT: True})
                           .execute(_next_number(), {"day": day, "last": 1}).scalar_one())
        for _ in range(5):
            row = self.session.execute(update(NumberCounter).where(NumberCounter.day == day)
                                       .values(last=NumberCounter.last + 1)
                                       .returning(NumberCounter.last)).first()
            if row is not None:
                return int(row[0])
            try:
                with self.session.begin_nested():
                    self.session.execute(insert(NumberCounter).values(day=day, last=1))
                return 1
            except Exception as e:
                if not is_unique_violation(e):
                    raise
        raise RuntimeError("could not allocate an application number")

    def add_change(self, change: StateChange) -> None:
        self.session.add(change)

    def changes(self, application_id: str, *, offset: int = 0, limit: int | None = None) -> list[StateChange]:
        """Oldest first: the serial id is the order the changes were recorded in."""
        return list(self.session.execute(select(StateChange).where(StateChange.application_id == application_id)
                                         .order_by(StateChange.id).offset(offset).limit(limit)).scalars())

    def remove(self, app: Application) -> None:
        self.session.execute(delete(ApplicationVehicle).where(ApplicationVehicle.application_id == app.id))
        self.session.delete(app)

    def exists(self, ident: str) -> bool:
        return self.session.execute(_ID, {"ident": ident}).first() is not None


@functools.cache
def _next_number() -> Any:
    """Take the next number of a day (PostgreSQL), compiled once."""
    stmt = pg_insert(NumberCounter)
    return precompiled(stmt.on_conflict_do_update(index_elements=[NumberCounter.day],
                                                  set_={"last": NumberCounter.last + 1})
                       .returning(NumberCounter.last), "postgresql", ["day", "last"])


@functools.cache
def _lock_vehicle() -> Any:
    """Create a vehicle's lock row if missing and lock it (PostgreSQL), compiled once; run with
    the plates in order (one round trip: psycopg pipelines the rows)."""
    stmt = pg_insert(VehicleLock)
    return precompiled(stmt.on_conflict_do_update(index_elements=[VehicleLock.plate_number],
                                                  set_={"plate_number": stmt.excluded.plate_number}),
                       "postgresql", ["plate_number"])


class FleetRepository:
    """The applicant's vehicles and agents: PC side and earlier applications."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # vehicles
    def vehicles_by_plates(self, party: str, plates: Iterable[str]) -> dict[str, Vehicle]:
        plates = [p for p in plates if p]
        if not plates:
            return {}
        rows = self.session.execute(_KEPT_VEHICLES, {"party": party, "plates": plates}).scalars()
        return {r.plate_number: r.to_value() for r in rows}

    def suggest_vehicles(self, party: str, text: str, *, offset: int, limit: int) -> list[FleetVehicle]:
        stmt = select(FleetVehicle).where(FleetVehicle.party == party, FleetVehicle.retire_time.is_(None))
        if text:
            stmt = stmt.where(FleetVehicle.plate_number.contains(text, autoescape=True))
        # AP-4: PC-side vehicles first, then those of earlier applications; a plate is
        # unique per party, so the order is total and pages neither repeat nor skip.
        stmt = stmt.order_by((FleetVehicle.source != "FLEET"), FleetVehicle.plate_number)
        return list(self.session.execute(stmt.offset(offset).limit(limit)).scalars())

    def kept_vehicles(self, party: str, *, retired: bool, offset: int, limit: int) -> list[FleetVehicle]:
        """The PC side's vehicles (PC-1), by plate; retired ones only when asked."""
        stmt = select(FleetVehicle).where(FleetVehicle.party == party, FleetVehicle.source == "FLEET")
        if not retired:
            stmt = stmt.where(FleetVehicle.retire_time.is_(None))
        stmt = stmt.order_by(FleetVehicle.plate_number)
        return list(self.session.execute(stmt.offset(offset).limit(limit)).scalars())

    def save_vehicle(self, row: FleetVehicle) -> None:
        self.session.add(row)

    def save_agent(self, row: FleetAgent) -> None:
        self.session.add(row)

    def get_vehicle(self, ident: str) -> FleetVehicle | None:
        return self.session.get(FleetVehicle, ident)

    def vehicle_by_plate(self, party: str, plate: str) -> FleetVehicle | None:
        return self.session.execute(select(FleetVehicle).where(
            FleetVehicle.party == party, FleetVehicle.plate_number == plate)).scalars().first()

    def upsert_vehicle(self, party: str, v: Vehicle, *, source: str) -> bool:
        """Create or refresh; a PC-side (FLEET) record is never downgraded to HISTORY."""
        row = self.vehicle_by_plate(party, v.plate_number)
        now = utcnow()
        if row is None:
            row = FleetVehicle(id=uuid.uuid4().hex[:16], party=party, plate_number=v.plate_number,
                               source=source, licence_documents=list(v.licence_documents),
                               create_time=now, update_time=now)
            row.fill_from(v)
            self.session.add(row)
            return True
        if source == "HISTORY" and row.source == "FLEET":
            return False
        row.fill_from(v)
        row.source = source
        return True

    # agents
    def suggest_agents(self, party: str, text: str, *, offset: int, limit: int) -> list[FleetAgent]:
        stmt = select(FleetAgent).where(FleetAgent.party == party, FleetAgent.retire_time.is_(None))
        if text:
            stmt = stmt.where(FleetAgent.agent_name.contains(text, autoescape=True))
        # AP-8: PC side first, then earlier applications; names repeat, so the id
        # makes the order total and pages stable.
        stmt = stmt.order_by((FleetAgent.source != "FLEET"), FleetAgent.agent_name, FleetAgent.id)
        return list(self.session.execute(stmt.offset(offset).limit(limit)).scalars())

    def kept_agents(self, party: str, *, retired: bool, offset: int, limit: int) -> list[FleetAgent]:
        """The PC side's agents (PC-1), by name; retired ones only when asked."""
        stmt = select(FleetAgent).where(FleetAgent.party == party, FleetAgent.source == "FLEET")
        if not retired:
            stmt = stmt.where(FleetAgent.retire_time.is_(None))
        stmt = stmt.order_by(FleetAgent.agent_name, FleetAgent.id)
        return list(self.session.execute(stmt.offset(offset).limit(limit)).scalars())

    def agent_by_id_number(self, party: str, id_number: str) -> FleetAgent | None:
        return self.session.execute(select(FleetAgent).where(
            FleetAgent.party == party, FleetAgent.id_number == id_number)).scalars().first()

    def get_agent(self, ident: str) -> FleetAgent | None:
        return self.session.get(FleetAgent, ident)

    def upsert_agent(self, party: str, a: Agent, *, source: str) -> bool:
        row = self.session.execute(select(FleetAgent).where(
            FleetAgent.party == party, FleetAgent.id_number == a.id_number)).scalars().first()
        now = utcnow()
        if row is None:
            self.session.add(FleetAgent(
                id=uuid.uuid4().hex[:16], party=party, agent_name=a.name, id_number=a.id_number,
                phone=a.phone, id_card_documents=list(a.id_card_documents),
                power_of_attorney_document=a.power_of_attorney_document, source=source,
                create_time=now, update_time=now))
            return True
        if source == "HISTORY" and row.source == "FLEET":
            return False
        row.agent_name, row.phone, row.source = a.name, a.phone or row.phone, source
        if a.id_card_documents:
            row.id_card_documents = list(a.id_card_documents)
        if a.power_of_attorney_document:
            row.power_of_attorney_document = a.power_of_attorney_document
        return True
