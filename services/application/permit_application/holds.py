"""AP-6 for the changes the approval context decides: a vehicle change (PQ-10) and an
extension (PQ-11) reserve the vehicles' time under the same per-vehicle lock as submit.

The approval service asks before it records the request: the check and the hold are
one transaction here, serialised per plate with every submit and every other
reservation, so no two of them can both see a free place. The hold counts like an
application until the approval's decision event names it (VehicleChangeDecided /
ExtensionDecided, ``review_events``): an approval replaces it with the
application's own new vehicle or end date, a refusal gives it back. A request the
approval service could not record after all is given back at once
(ReleaseVehicleTime).
"""

from __future__ import annotations

import datetime as dt

import structlog

from permit_application.access import UnitOfWork, own_application, require_service, today_of
from permit_application.errors import ApplicationNotOccupying, InvalidField
from permit_application.identifiers import normalize_plate
from permit_application.schedule import conflict_error, find_conflicts
from permitkit.context import Principal
from permitkit.db import utcnow
from permitkit.errors import FieldViolation

log = structlog.get_logger()


def reserve_vehicle_time(uow: UnitOfWork, *, principal: Principal | None, application: str, key: str,
                         plates: list[str], start: dt.date | None = None, end: dt.date | None = None,
                         now: dt.datetime | None = None) -> None:
    """Take ``plates`` for [start, end] (default: the application's period) for the pending
    change ``key``, or raise VEHICLE_TIME_CONFLICT naming the applicant's own applications
    that fill the places. Idempotent by ``key``."""
    p = require_service(principal)
    now = now or utcnow()
    if not key:
        raise InvalidField(violations=[FieldViolation("key", "缺少变更申请标识。", "REQUIRED")])
    ps = [normalize_plate(x) for x in plates if x.strip()]
    if not ps:
        raise InvalidField(violations=[FieldViolation("plate_numbers", "请指定车辆。", "REQUIRED")])
    with uow:
        app = own_application(uow, p, application, for_update=True)
        if uow.applications.has_hold(key):
            return  # a retry of a reservation that was made
        if not app.occupies_vehicle(today_of(now)):
            raise ApplicationNotOccupying(metadata={"state": app.state})
        s, e = start or app.period_start, end or app.period_end
        if s is None or e is None or e < s:
            raise InvalidField(violations=[FieldViolation("end_date", "变更的通行期不正确。", "PERIOD_INVALID")])
        # AP-6, binding: lock the vehicles, then count (as submit does).
        uow.applications.lock_vehicles(ps)
        conflicts = find_conflicts(uow, party=app.party, app_id=app.id, plates=ps, start=s, end=e,
                                   today=today_of(now))
        if conflicts:
            raise conflict_error(conflicts)
        uow.applications.add_holds(key, app.id, ps, s, e)
        uow.commit()
        log.info("vehicle_time_reserved", application=app.name, key=key, plates=",".join(ps))


def release_vehicle_time(uow: UnitOfWork, *, principal: Principal | None, key: str) -> bool:
    """Give back what ``key`` held (its request was never recorded). Idempotent."""
    require_service(principal)
    with uow:
        released = uow.applications.release_holds(key)
        uow.commit()
        if released:
            log.info("vehicle_time_released", key=key)
        return bool(released)
