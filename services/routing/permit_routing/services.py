"""Routing use cases: one function per RPC; no protobuf, no servicer context."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import structlog
from sqlalchemy.exc import IntegrityError

from permit_routing import errors
from permit_routing.models import ApprovedRoute
from permit_routing.recognition import Recognition
from permit_routing.recognition import parse_route_text as recognise
from permit_routing.reference import Expressway, Province, ReferenceData
from permit_routing.routes import Recommendation, Row, route_key
from permit_routing.unit_of_work import RoutingUnitOfWork
from permit_routing.validation import MAX_ROWS, RouteCheck, normalise_rows
from permit_routing.validation import validate_route as check_route
from permitkit.context import Principal
from permitkit.db import is_unique_violation, utcnow
from permitkit.paging import Page, PageRequest, scope_of

log = structlog.get_logger("permit_routing")

TOPIC_ROUTE_APPROVED = "permit.application.v1.RouteApproved"
MAX_TEXT_LENGTH = 20_000
DEFAULT_PAGE_SIZE = 5
MAX_PAGE_SIZE = 20
# The reference lists' default pages hold the whole list, with room for the data to grow.
PROVINCE_PAGE_SIZE, PROVINCE_MAX_PAGE_SIZE = 50, 100
EXPRESSWAY_PAGE_SIZE, EXPRESSWAY_MAX_PAGE_SIZE = 100, 200
_PARTY_RE = re.compile(r"^parties/[^/\s]{1,90}$")
_RECORD_ATTEMPTS = 3


def list_provinces(ref: ReferenceData, *, page_size: int = 0, page_token: str = "") -> Page[Province]:
    """The 31 provinces in code order; a call without paging gets them all (AP-7)."""
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("provinces", ref.version),
                         default=PROVINCE_PAGE_SIZE, maximum=PROVINCE_MAX_PAGE_SIZE, refuse_negative=True)
    return req.window(ref.provinces)


def list_expressways(ref: ReferenceData, *, query: str = "", page_size: int = 0,
                     page_token: str = "") -> Page[Expressway]:
    """National expressways whose code or name contains ``query`` (case-insensitive);
    a call without paging gets every match (AP-7b)."""
    q = query.strip().upper()
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("expressways", ref.version, q),
                         default=EXPRESSWAY_PAGE_SIZE, maximum=EXPRESSWAY_MAX_PAGE_SIZE, refuse_negative=True)
    found = [e for e in ref.expressways if not q or q in e.code.upper() or q in e.name
             or q in e.display_name.upper()]
    return req.window(found)


def parse_route_text(ref: ReferenceData, *, text: str) -> Recognition:
    """Recognise pasted route text into editable rows and positioned problems (AP-7b)."""
    if len(text) > MAX_TEXT_LENGTH:
        raise errors.RouteTextTooLong(f"路线文字过长（{len(text)}字），最多{MAX_TEXT_LENGTH}字，请分段识别。",
                                      field="text")
    return recognise(ref, text)


def validate_route(ref: ReferenceData, *, origin_province: str, destination_province: str,
                   rows: Sequence[Row]) -> RouteCheck:
    """Check route rows against the chosen origin and destination (AP-7a)."""
    if len(rows) > MAX_ROWS:
        raise errors.RouteTooLong(f"途经省份最多{MAX_ROWS}行。", field="rows")
    return check_route(ref, origin=origin_province, destination=destination_province, rows=rows)


def _require_province(ref: ReferenceData, code: str, field: str) -> str:
    code = code.strip()
    if not ref.is_province(code):
        raise errors.UnknownProvince(f"省份代码“{code}”无效。", field=field)
    return code


def recommend_routes(uow: RoutingUnitOfWork, *, ref: ReferenceData, principal: Principal | None,
                     origin_province: str, destination_province: str, page_size: int = 0,
                     page_token: str = "") -> Page[Recommendation]:
    """The caller's party's own approved routes for this origin and destination (AP-7c).

    Identical routes are one entry, ranked by approvals weighted by recency.
    Another party's routes are never returned, and a page token pages only
    the ranking it came from (same party, origin and destination).
    """
    if principal is None:
        raise errors.SignInRequired()
    if not principal.party:
        raise errors.PartyRequired()
    origin = _require_province(ref, origin_province, "origin_province")
    destination = _require_province(ref, destination_province, "destination_province")
    req = PageRequest.of(page_size=page_size, page_token=page_token,
                         scope=scope_of("recommendations", principal.party, origin, destination),
                         default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE, refuse_negative=True)
    with uow:
        found = uow.routes.top(applicant=principal.party, origin_province=origin,
                               destination_province=destination, offset=req.offset, limit=req.limit)
        return req.cut([route.recommendation() for route in found])


def record_approved_route(uow: RoutingUnitOfWork, *, ref: ReferenceData, principal: Principal | None,
                          event_id: str, applicant: str, application: str, origin_province: str,
                          destination_province: str, rows: Sequence[Row],
                          approve_time: dt.datetime | None) -> bool:
    """Add an issued permit's route to the applicant's history (the route-approved event).

    Idempotent on ``event_id``: returns False for a repeated delivery.
    Identical routes of one applicant are merged into one counted entry.
    """
    if principal is None or not principal.is_service:
        raise errors.ServiceRoleRequired()
    if not event_id.strip():
        raise errors.EventIdRequired(field="event_id")
    if len(event_id) > 36:
        raise errors.EventIdInvalid("事件标识最长36个字符。", field="event_id")
    if not _PARTY_RE.match(applicant):
        raise errors.ApplicantInvalid(field="applicant")
    origin = _require_province(ref, origin_province, "origin_province")
    destination = _require_province(ref, destination_province, "destination_province")
    if not rows:
        raise errors.RouteEmpty(field="rows")
    if len(rows) > MAX_ROWS:
        raise errors.RouteTooLong(field="rows")
    clean = tuple(Row(r.province, tuple(road for road in r.roads if road))
                  for r in normalise_rows(ref, rows))
    for i, r in enumerate(clean):
        _require_province(ref, r.province, f"rows[{i}].province")
    when = approve_time or utcnow()
    key = route_key(clean)
    for _ in range(_RECORD_ATTEMPTS):
        with uow:
            if not uow.first_delivery(event_id, TOPIC_ROUTE_APPROVED):
                log.info("route_approved_repeat_ignored", event_id=event_id, application=application)
                return False
            route = uow.routes.find(applicant=applicant, origin_province=origin,
                                    destination_province=destination, route_key=key, for_update=True)
            if route is None:
                uow.routes.add(ApprovedRoute.first_approval(
                    applicant=applicant, origin_province=origin, destination_province=destination,
                    rows=clean, application=application, approve_time=when))
            else:
                route.record_approval(application=application, approve_time=when)
            try:
                uow.commit()
            except IntegrityError as e:
                # Two first approvals of the same route raced: retry as an update.
                if not is_unique_violation(e):
                    raise
                continue
            log.info("route_approved_recorded", event_id=event_id, application=application,
                     applicant=applicant, merged=route is not None)
            return True
    raise errors.ConcurrentUpdate()
