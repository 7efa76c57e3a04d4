"""三 办理进度与管理: the caller's applications, search, the audit trail, 再来一件 and
withdrawal (PQ-2, PQ-3, PQ-5, PQ-8).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import structlog

from permit_application import published
from permit_application.access import UnitOfWork, own_application, party_of, require_applicant, require_reader
from permit_application.drafts import new_number
from permit_application.errors import (
    QueryRequired,
)
from permit_application.identifiers import normalize_plate
from permit_application.models import (
    Application,
    State,
    StateChange,
)
from permitkit.context import Principal
from permitkit.db import utcnow
from permitkit.paging import Page, PageRequest, scope_of

log = structlog.get_logger()


def get_application(uow: UnitOfWork, *, principal: Principal | None, name: str) -> Application:
    """One application of the caller (PQ-2); a peer service may read any."""
    p = require_reader(principal)
    with uow:
        return own_application(uow, p, name)


def list_applications(uow: UnitOfWork, *, principal: Principal | None, page_size: int = 0,
                      page_token: str = "", query: str = "", state: State | None = None) -> Page[Application]:
    """The caller's applications, newest first; filter by status, search by number or plate (PQ-2)."""
    p = require_applicant(principal)
    q = normalize_plate(query) if query else ""
    party = party_of(p)
    req = PageRequest.of(page_size=page_size, page_token=page_token,
                         scope=scope_of("applications", party, state.value if state else "", q),
                         default=20, maximum=100)
    with uow:
        items, total = uow.applications.list_for_party(party, state=state, query=q, offset=req.offset,
                                                       limit=req.size)
        return req.counted(items, total)


def search_applications(uow: UnitOfWork, *, principal: Principal | None, query: str, page_size: int = 0,
                        page_token: str = "") -> Page[Application]:
    """Search by application number or plate number (PQ-2)."""
    require_applicant(principal)
    if not query.strip():
        raise QueryRequired(field="query")
    return list_applications(uow, principal=principal, page_size=page_size, page_token=page_token,
                             query=query)


def clone_application(uow: UnitOfWork, *, principal: Principal | None, name: str, request_id: str = "",
                      now: dt.datetime | None = None) -> Application:
    """"再来一件": a new draft prefilled from any own application, travel dates cleared (PQ-3)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        if request_id:
            existing = uow.applications.find_by_create_request(party_of(p), request_id)
            if existing is not None:
                return existing
        src = own_application(uow, p, name)
        app = Application.new(id=new_number(uow, now), party=src.party, created_by=p.subject, now=now,
                              create_request_id=request_id or None, source_application=src.name)
        app.cargo = src.cargo
        app.overall = src.overall
        app.agent = src.agent
        app.materials = src.materials
        app.put_vehicles(src.vehicle_values)
        passage = src.passage_value
        if passage is not None:
            app.put_passage(replace(passage, start_date=None, end_date=None))
        app.put_classification(src.classification, src.permit_class)
        uow.applications.add(app)
        uow.applications.add_change(app.audit(None, State.DRAFT, actor=p.subject,
                                              reason=f"再来一件（来自 {src.number}）", now=now))
        uow.commit()
        return app


def withdraw_application(uow: UnitOfWork, *, principal: Principal | None, name: str, etag: str = "",
                         reason: str = "", now: dt.datetime | None = None) -> Application:
    """Withdraw a submitted or processing application, void for good (PQ-5, PQ-8);
    the approval context is told through the outbox (CancelCase)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        app = own_application(uow, p, name, for_update=True)
        if app.status == State.WITHDRAWN:
            return app  # a retry of a withdrawal that succeeded
        app.check_etag(etag)
        uow.applications.add_change(app.withdraw(actor=p.subject, reason=reason.strip(), now=now))
        uow.applications.release_all_holds(app)  # AP-6: its pending changes hold nothing now
        uow.record_event(published.application_withdrawn(app, reason=reason.strip()))
        uow.commit()
        return app


def list_state_changes(uow: UnitOfWork, *, principal: Principal | None, name: str, page_size: int = 0,
                       page_token: str = "") -> Page[StateChange]:
    """The audit trail of one application, oldest first: who, when, from, to, why.
    The default page holds a whole trail of an ordinary application."""
    p = require_reader(principal)
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("state_changes", name),
                         default=100, maximum=500)
    with uow:
        app = own_application(uow, p, name)
        return req.cut(uow.applications.changes(app.id, offset=req.offset, limit=req.limit))
