"""Integration events -> messages (MS-1, MS-2) and deadline reminders.

Each handler reads one typed event of another context and writes, in one
transaction with the event id in the inbox table, the messages it makes and
their deliveries. The same event delivered twice makes nothing the second
time (the inbox, and a unique key per event, audience and kind).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message as ProtoMessage

from permit.application.v1 import events_pb2 as app_ev
from permit.approval.v1 import events_pb2 as apr_ev
from permit.identity.v1 import events_pb2 as id_ev
from permit_notifications.models import Delivery, DeliveryState, Message
from permit_notifications.services import new_id
from permit_notifications.templates import load_templates, render
from permit_notifications.unit_of_work import NotificationsUnitOfWork
from permitkit.db import utcnow

# Which channels besides the inbox carry a kind: the platform push for all;
# SMS only for what needs the carrier's action or changes what they may drive.
SMS_KINDS = frozenset({"RETURNED", "ROUTE_ADJUSTMENT_PROPOSED", "DENIED", "PERMIT_ISSUED"})


@dataclass
class Note:
    """One message to write: a kind, an audience and the template's parameters."""

    kind: str
    audience: str
    link: str
    application: str = ""
    application_number: str = ""
    province: str = ""
    params: dict[str, str] = field(default_factory=dict)


def fmt_date(d: Any) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d and d.year else ""


def fmt_route(rows: Iterable[Any]) -> str:
    return "；".join(f"{r.province}：{'-'.join(r.roads)}" for r in rows)


def to_date(d: Any) -> dt.date | None:
    return dt.date(d.year, d.month, d.day) if d and d.year else None


def _officers(province: str) -> str:
    return f"provinces/{province}"


def _app(event: Any, kind: str, **params: str) -> Note:
    ref = event.application
    return Note(kind, event.applicant, ref.name, ref.name, ref.number, event.province,
                {"number": ref.number, **params})


def _case(event: Any, kind: str, province: str, **params: str) -> Note:
    ref = event.application
    return Note(kind, _officers(province), event.case, ref.name, ref.number, province,
                {"number": ref.number, **params})


def _decision(approved: bool) -> str:
    return "已通过" if approved else "未通过"


def _reason(text: str) -> str:
    return f"原因：{text}。" if text.strip() else ""


# Each reader: event -> the notes it makes.
def notes_case_opened(e: apr_ev.CaseOpened) -> list[Note]:
    return [_case(e, "RESUBMITTED" if e.reopened else "NEW_CASE", e.province)]


def notes_case_accepted(e: apr_ev.CaseAccepted) -> list[Note]:
    out = [_app(e, "ACCEPTED")]
    # The route provinces' reviews enter their queues now; the origin accepted it itself.
    out += [_case(e, "NEW_CASE", p) for p in dict.fromkeys(e.route_provinces) if p != e.province]
    return out


def notes_case_returned(e: apr_ev.CaseReturned) -> list[Note]:
    return [_app(e, "RETURNED", reason=e.reason or "未说明")]


def notes_review_decided(e: apr_ev.ReviewDecided) -> list[Note]:
    if e.outcome == apr_ev.REVIEW_OUTCOME_RETURNED:
        return [_app(e, "RETURNED", reason=e.reason or "未说明")]
    if e.outcome == apr_ev.REVIEW_OUTCOME_DENIED:
        # A route province's denial denies the application (RV-3); approval publishes
        # ApplicationDenied only for refusals at acceptance and rejected adjustments.
        return [_app(e, "DENIED", reason=e.reason or "未说明")]
    return []  # approvals show as progress


def notes_adjustment_proposed(e: apr_ev.RouteAdjustmentProposed) -> list[Note]:
    return [_app(e, "ROUTE_ADJUSTMENT_PROPOSED", route=fmt_route(e.suggested_route), reason=e.reason or "未说明")]


def notes_adjustment_answered(e: apr_ev.RouteAdjustmentAnswered) -> list[Note]:
    return [_case(e, "ADJUSTMENT_ANSWERED", e.province, decision="同意" if e.accepted else "拒绝")]


def notes_denied(e: apr_ev.ApplicationDenied) -> list[Note]:
    return [_app(e, "DENIED", reason=e.reason or "未说明")]


def notes_permit_issued(e: apr_ev.PermitIssued) -> list[Note]:
    n = _app(e, "PERMIT_ISSUED", permit_number=e.permit_number, start_date=fmt_date(e.validity.start_date),
             end_date=fmt_date(e.validity.end_date), certificate="可在许可进度查询中下载通行证。")
    n.link = e.permit or n.link
    return [n]


def notes_permit_abolished(e: apr_ev.PermitAbolished) -> list[Note]:
    return [_app(e, "PERMIT_ABOLISHED", permit_number=e.permit_number, reason=_reason(e.reason))]


def notes_extension_decided(e: apr_ev.ExtensionDecided) -> list[Note]:
    return [_app(e, "EXTENSION_DECIDED", permit_number=e.permit_number, decision=_decision(e.approved),
                 reason=(f"新的有效期至{fmt_date(e.validity.end_date)}。" if e.approved else _reason(e.reason)))]


def notes_vehicle_change_decided(e: apr_ev.VehicleChangeDecided) -> list[Note]:
    tail = (f"{e.old_plate_number}已变更为{e.new_plate_number}。" if e.approved else _reason(e.reason))
    return [_app(e, "VEHICLE_CHANGE_DECIDED", decision=_decision(e.approved), reason=tail)]


def notes_withdrawn(e: app_ev.ApplicationWithdrawn) -> list[Note]:
    return [_app(e, "WITHDRAWN")]


def notes_licence_decided(e: id_ev.LicenceDecided) -> list[Note]:
    reason = "现在可以申请通行许可了。" if e.approved else _reason(e.reason)
    return [Note("LICENCE_DECIDED", e.applicant, e.licence, params={"decision": _decision(e.approved),
                                                                     "reason": reason})]


READERS: dict[type[ProtoMessage], Callable[[Any], list[Note]]] = {
    apr_ev.CaseOpened: notes_case_opened,
    apr_ev.CaseAccepted: notes_case_accepted,
    apr_ev.CaseReturned: notes_case_returned,
    apr_ev.ReviewDecided: notes_review_decided,
    apr_ev.RouteAdjustmentProposed: notes_adjustment_proposed,
    apr_ev.RouteAdjustmentAnswered: notes_adjustment_answered,
    apr_ev.ApplicationDenied: notes_denied,
    apr_ev.PermitIssued: notes_permit_issued,
    apr_ev.PermitAbolished: notes_permit_abolished,
    apr_ev.ExtensionDecided: notes_extension_decided,
    apr_ev.VehicleChangeDecided: notes_vehicle_change_decided,
    app_ev.ApplicationWithdrawn: notes_withdrawn,
    id_ev.LicenceDecided: notes_licence_decided,
    apr_ev.ReviewDueDateSet: lambda e: [],
}


# The event messages this context reads (the contract tests compare them with the relays).
CONSUMED = tuple(READERS)


def _dues(event: Any) -> list[Any]:
    """The deadlines an event sets or moves."""
    if isinstance(event, apr_ev.CaseOpened):
        return [event.acceptance_due] if event.HasField("acceptance_due") else []
    if isinstance(event, apr_ev.CaseAccepted):
        return list(event.review_dues)
    if isinstance(event, apr_ev.ReviewDueDateSet):
        return [event.due] if event.HasField("due") else []
    if isinstance(event, apr_ev.RouteAdjustmentAnswered):
        return [event.review_due] if event.HasField("review_due") else []
    return []


def _ends_reviews(event: Any) -> bool:
    """After these no reminder of the application's case may fire."""
    return isinstance(event, (apr_ev.ApplicationDenied, apr_ev.PermitIssued, app_ev.ApplicationWithdrawn,
                              apr_ev.CaseReturned))


def write_message(uow: NotificationsUnitOfWork, note: Note, event_id: str, *, push: bool = True) -> Message | None:
    """The message of ``note`` with its deliveries; None when it exists already."""
    text = render(note.kind, note.params)
    msg = uow.inbox.add_once(Message(public_id=new_id(), event_id=event_id, audience=note.audience,
                                     kind=note.kind, title=text.title, body=text.body, link=note.link,
                                     application=note.application, application_number=note.application_number,
                                     province=note.province))
    if msg is None:
        return None
    now = utcnow()
    uow.deliveries.add(Delivery(public_id=new_id(), message_id=msg.id, channel="inapp", target=note.audience,
                                state=DeliveryState.DELIVERED, attempts=1, deliver_time=now))
    if push:
        uow.deliveries.add(Delivery(public_id=new_id(), message_id=msg.id, channel="push", target=note.audience))
    if note.kind in SMS_KINDS:
        uow.deliveries.add(Delivery(public_id=new_id(), message_id=msg.id, channel="sms", target=note.audience))
    if note.audience.startswith("parties/"):
        for hook in uow.webhooks.active_for(note.audience):
            uow.deliveries.add(Delivery(public_id=new_id(), message_id=msg.id, channel="webhook", target=hook.name))
    return msg


def schedule(uow: NotificationsUnitOfWork, event: Any) -> None:
    """Reminders for the deadlines an event sets; older ones of the same review are cancelled
    (two statements, however many provinces the event names)."""
    case = getattr(event, "case", "")
    rows: list[dict[str, Any]] = []
    for due in _dues(event):
        due_date = to_date(due.due_date)
        if not case or not due.province or due_date is None:
            continue
        # Approval owns the working calendar: it names the working day before
        # the due date; an event without it (an older producer) falls back to
        # the calendar day before.
        remind = to_date(getattr(due, "remind_date", None)) or (due_date - dt.timedelta(days=1))
        ref = event.application
        for kind, fire in (("REVIEW_DUE_SOON", remind), ("REVIEW_OVERDUE", due_date + dt.timedelta(days=1))):
            rows.append({"case_name": case, "province": due.province, "kind": kind, "due_date": due_date,
                         "fire_date": fire, "application": ref.name, "application_number": ref.number})
    if rows:
        uow.reminders.cancel(case, {r["province"] for r in rows})
        uow.reminders.put(rows)


def cancel_reminders(uow: NotificationsUnitOfWork, event: Any) -> None:
    case = getattr(event, "case", "")
    if isinstance(event, apr_ev.ReviewDecided) and case:
        uow.reminders.cancel(case, [event.province])
    elif _ends_reviews(event):
        if case:
            uow.reminders.cancel(case)
        else:
            uow.reminders.cancel_application(event.application.name)


def handle(uow: NotificationsUnitOfWork, event_id: str, event: ProtoMessage) -> bool:
    """Apply one event; False for a repeat (nothing written)."""
    reader = READERS.get(type(event))
    if reader is None:
        raise LookupError(f"no reader for {type(event).DESCRIPTOR.full_name}")
    with uow:
        if not uow.first_delivery(event_id, type(event).DESCRIPTOR.full_name):
            return False
        cancel_reminders(uow, event)
        for note in reader(event):
            write_message(uow, note, event_id)
        schedule(uow, event)
        uow.commit()
    return True


def fire_reminders(uow: NotificationsUnitOfWork, today: dt.date) -> int:
    """Messages for the reminders due by ``today`` (local date); returns how many were sent."""
    sent = 0
    with uow:
        for r in uow.reminders.due(today):
            r.fired = True
            note = Note(r.kind, _officers(r.province), r.case_name, r.application, r.application_number,
                        r.province, {"number": r.application_number, "due_date": fmt_date(r.due_date)})
            if write_message(uow, note, f"reminder-{r.id}") is not None:
                sent += 1
        uow.commit()
    return sent


def check_templates(readers: Mapping[type[ProtoMessage], Any] = READERS) -> None:
    """Every kind a reader can make has a template (fails at start, not at the first event)."""
    kinds = {"ACCEPTED", "RETURNED", "ROUTE_ADJUSTMENT_PROPOSED", "DENIED", "PERMIT_ISSUED", "PERMIT_ABOLISHED",
             "WITHDRAWN", "VEHICLE_CHANGE_DECIDED", "EXTENSION_DECIDED", "LICENCE_DECIDED", "NEW_CASE",
             "REVIEW_DUE_SOON", "REVIEW_OVERDUE", "RESUBMITTED", "ADJUSTMENT_ANSWERED"}
    missing = kinds - set(load_templates())
    if missing:
        raise ValueError(f"templates missing for {sorted(missing)}")
