"""AP-6: at most two applications per vehicle in an overlapping period; the check on
choosing dates and the notice naming only the caller's own applications.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog

from permit_application.access import (
    MAX_OVERLAPPING,
    UnitOfWork,
    own_application,
    require_applicant,
    today_of,
)
from permit_application.errors import (
    InvalidField,
    VehicleTimeConflict,
)
from permit_application.identifiers import normalize_plate
from permit_application.models import (
    Application,
)
from permitkit.context import Principal
from permitkit.db import utcnow
from permitkit.errors import FieldViolation

log = structlog.get_logger()


@dataclass(frozen=True)
class Conflict:
    """A vehicle whose two places are taken on some day of the chosen period, as the
    caller may see it (AP-6): the rule counts every party's applications, but only the
    caller's own are named, so it can withdraw or abolish one; another party's
    applications are a bare count, naming neither them nor their dates."""

    plate_number: str
    applications: list[Application]  # the caller's own
    other_party_count: int = 0  # other parties' applications, counted only


Occupying = list[tuple[str, Application]]  # (plate, other application), as ``occupying`` reads them


def find_conflicts(uow: UnitOfWork, *, party: str, app_id: str, plates: list[str], start: dt.date,
                   end: dt.date, today: dt.date, occupying: Occupying | None = None) -> list[Conflict]:
    """For each plate, the other applications that already fill its two places on
    some day of [start, end] (AP-6: at most two overlapping applications per vehicle),
    as seen by ``party``. ``occupying``: those applications when already read."""
    if occupying is None:
        occupying = uow.applications.occupying(plates, start, end, exclude=app_id)
    by_plate: dict[str, list[tuple[Application, dt.date, dt.date]]] = {}
    for plate, other in occupying:
        if other.occupies_vehicle(today) and other.period_start and other.period_end:
            by_plate.setdefault(plate, []).append((other, other.period_start, other.period_end))
    # Pending vehicle changes and extensions take their time too (PQ-10, PQ-11).
    for plate, other, s, e in uow.applications.holding(plates, start, end, exclude=app_id):
        if other.occupies_vehicle(today):
            by_plate.setdefault(plate, []).append((other, s, e))
    out = []
    for plate in plates:
        worst = _busiest_day(by_plate.get(plate, []), start, end)
        if len(worst) >= MAX_OVERLAPPING:
            own = [a for a in worst if a.party == party]
            out.append(Conflict(plate, own, other_party_count=len(worst) - len(own)))
    return out


def _busiest_day(taken: list[tuple[Application, dt.date, dt.date]], start: dt.date,
                 end: dt.date) -> list[Application]:
    """The applications covering the busiest day of [start, end]; that day is the start
    of the window or of one of the periods (an application's own period or a hold)."""
    worst: list[Application] = []
    if len({a.id for a, _, _ in taken}) < MAX_OVERLAPPING:
        return worst
    for t in {start, *(max(start, s) for _, s, _ in taken)}:
        if t > end:
            continue
        covering = list({a.id: a for a, s, e in taken if s <= t <= e}.values())
        if len(covering) > len(worst):
            worst = covering
    return worst


def _conflict_detail(c: Conflict) -> str:
    """What a plate's places are taken by: the caller's applications with their periods,
    and how many of other parties' (never which)."""
    if not c.applications:
        return "均为其他申请人的申请"
    own = "、".join(f"{a.number}（{a.period_start:%Y-%m-%d}至{a.period_end:%Y-%m-%d}）" for a in c.applications)
    if not c.other_party_count:
        return f"您的申请 {own}"
    return f"您的申请 {own}，以及 {c.other_party_count} 件其他申请人的申请"


def conflict_message(conflicts: list[Conflict]) -> str:
    """The Chinese time-conflict notice; plates held by the same applications share a sentence."""
    groups: dict[tuple[tuple[str, ...], int], list[Conflict]] = {}
    for c in conflicts:
        groups.setdefault((tuple(a.id for a in c.applications), c.other_party_count), []).append(c)
    held = "；".join(
        f"车辆{'、'.join(c.plate_number for c in cs)}在所选通行期内已有 "
        f"{len(cs[0].applications) + cs[0].other_party_count} 件申请：{_conflict_detail(cs[0])}"
        for cs in groups.values())
    if any(c.applications for c in conflicts):
        advice = "请更换车辆或调整通行日期，或撤回/废止您的相关申请后重新申请。"
    else:
        advice = "请更换车辆或调整通行日期后重新申请。"
    return f"{held}。时间发生冲突，{advice}"


def conflict_error(conflicts: list[Conflict]) -> VehicleTimeConflict:
    """VEHICLE_TIME_CONFLICT naming only the caller's own applications; ``other_party_counts``
    gives, plate by plate in the order of ``plate_numbers``, how many of other parties' hold it."""
    names = list(dict.fromkeys(a.name for c in conflicts for a in c.applications))
    numbers = list(dict.fromkeys(a.number for c in conflicts for a in c.applications))
    return VehicleTimeConflict(conflict_message(conflicts), field="passage.start_date", metadata={
        "plate_numbers": ",".join(c.plate_number for c in conflicts), "applications": ",".join(names),
        "application_numbers": ",".join(numbers),
        "other_party_counts": ",".join(str(c.other_party_count) for c in conflicts)})


def _overlap_counts(occupying: Occupying, plates: list[str], start: dt.date, end: dt.date,
                    today: dt.date) -> list[tuple[str, int]]:
    """For each plate (form order), how many of the ``occupying`` applications hold it on the
    busiest day of [start, end]: the duplicate-check result recorded at submission."""
    by_plate: dict[str, list[Application]] = {}
    for plate, other in occupying:
        if other.occupies_vehicle(today):
            by_plate.setdefault(plate, []).append(other)
    out = []
    for plate in plates:
        others = by_plate.get(plate, [])
        best = 0
        for t in {start, *(max(start, o.period_start) for o in others if o.period_start)}:
            if t > end:
                continue
            best = max(best, sum(1 for o in others if o.period_start and o.period_end
                                 and o.period_start <= t <= o.period_end))
        out.append((plate, best))
    return out


def submission_overlaps(uow: UnitOfWork, app: Application, today: dt.date) -> list[tuple[str, int]]:
    """AP-6 at submission (vehicles locked by the caller): refuse a conflict, else the overlap
    counts recorded with the submission; the occupying applications are read once for both."""
    plates = app.plate_numbers
    if not plates or app.period_start is None or app.period_end is None:
        return [(p, 0) for p in plates]
    start, end = app.period_start, app.period_end
    occupying = uow.applications.occupying(plates, start, end, exclude=app.id)
    conflicts = find_conflicts(uow, party=app.party, app_id=app.id, plates=plates, start=start, end=end,
                               today=today, occupying=occupying)
    if conflicts:
        raise conflict_error(conflicts)
    return _overlap_counts(occupying, plates, start, end, today)


def raise_conflicts(uow: UnitOfWork, app: Application, today: dt.date) -> None:
    plates = app.plate_numbers
    if not plates or app.period_start is None or app.period_end is None:
        return
    conflicts = find_conflicts(uow, party=app.party, app_id=app.id, plates=plates,
                               start=app.period_start, end=app.period_end, today=today)
    if conflicts:
        raise conflict_error(conflicts)


def check_vehicle_schedule(uow: UnitOfWork, *, principal: Principal | None, name: str,
                           start: dt.date | None = None, end: dt.date | None = None,
                           plates: list[str] | None = None, now: dt.datetime | None = None) -> list[Conflict]:
    """The duplicate check run on choosing dates (AP-6), without saving."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        app = own_application(uow, p, name)
        s, e = start or app.period_start, end or app.period_end
        if s is None or e is None:
            raise InvalidField(violations=[FieldViolation("start_date", "请选择通行日期。", "REQUIRED")])
        if e < s:
            raise InvalidField(violations=[FieldViolation("end_date", "通行截止日期不能早于起始日期。",
                                                          "END_BEFORE_START")])
        ps = [normalize_plate(x) for x in plates] if plates else app.plate_numbers
        return find_conflicts(uow, party=app.party, app_id=app.id, plates=ps, start=s, end=e,
                              today=today_of(now))
