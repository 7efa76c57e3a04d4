"""The inbox and webhooks over real gRPC on PostgreSQL, fed by typed events (MS-1, MS-2, MS-3)."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import grpc
import pytest
from google.protobuf import any_pb2
from google.type import date_pb2
from sqlalchemy import event as sa_event

from permit.approval.v1 import events_pb2 as apr_ev
from permit.events.v1 import event_sink_pb2 as epb
from permit.events.v1 import event_sink_pb2_grpc as epb_grpc
from permit.notifications.v1 import notifications_pb2 as npb
from permit.notifications.v1 import notifications_service_pb2 as pb
from permit.notifications.v1 import notifications_service_pb2_grpc as pb_grpc
from permit.type.v1 import types_pb2 as tpb
from permit_notifications import channels
from permit_notifications.bootstrap import App
from permitkit.client import call_metadata, service_principal
from permitkit.context import Principal
from permitkit.errors import ErrorDetails

pytestmark = pytest.mark.integration


def party() -> str:
    return f"parties/{uuid.uuid4().int % 10**9}"


def as_user(p: str, user: str | None = None) -> list[tuple[str, str]]:
    return call_metadata(Principal(subject=user or f"users/{uuid.uuid4().hex[:8]}", party=p,
                                   roles=frozenset({"applicant"})))


def as_officer(province: str, user: str = "officers/hebei-1") -> list[tuple[str, str]]:
    return call_metadata(Principal(subject=user, province=province, roles=frozenset({"officer", "review"})))


def deliver(ch: grpc.Channel, event: object, event_id: str | None = None) -> bool:
    packed = any_pb2.Any()
    packed.Pack(event)  # type: ignore[arg-type]
    eid = event_id or event.event_id  # type: ignore[attr-defined]
    env = epb.Envelope(event_id=eid, topic=packed.TypeName(), producer="approval", event=packed)
    resp = epb_grpc.EventSinkServiceStub(ch).Deliver(epb.DeliverRequest(envelope=env),
                                                     metadata=call_metadata(service_principal("approval")))
    return resp.applied


def returned(applicant: str, number: str = "DJ2026120600001") -> apr_ev.CaseReturned:
    return apr_ev.CaseReturned(event_id=str(uuid.uuid4()), applicant=applicant, province="130000",
                               case=f"cases/{uuid.uuid4().hex[:8]}", reason="车辆行驶证照片不清晰",
                               application=tpb.ApplicationRef(name=f"applications/{number}", number=number))


def wait_for(pred, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


class TestInbox:
    def test_a_return_puts_one_message_with_the_reason_in_the_carriers_inbox_MS_1(self, channel) -> None:
        p = party()
        ev = returned(p)
        assert deliver(channel, ev) is True
        assert deliver(channel, ev) is False  # the same event again: no second message
        stub = pb_grpc.NotificationServiceStub(channel)
        resp = stub.ListMessages(pb.ListMessagesRequest(), metadata=as_user(p))
        assert len(resp.messages) == 1 and resp.unread_count == 1
        m = resp.messages[0]
        assert m.kind == npb.MESSAGE_KIND_RETURNED and "车辆行驶证照片不清晰" in m.body
        assert m.link == ev.application.name and m.application_number == ev.application.number
        assert m.read is False

    def test_another_party_sees_nothing_MS_1(self, channel) -> None:
        p = party()
        deliver(channel, returned(p))
        stub = pb_grpc.NotificationServiceStub(channel)
        other = stub.ListMessages(pb.ListMessagesRequest(), metadata=as_user(party()))
        assert len(other.messages) == 0 and other.unread_count == 0
        mine = stub.ListMessages(pb.ListMessagesRequest(), metadata=as_user(p)).messages[0]
        with pytest.raises(grpc.RpcError) as e:
            stub.MarkMessageRead(pb.MarkMessageReadRequest(name=mine.name), metadata=as_user(party()))
        assert e.value.code() == grpc.StatusCode.NOT_FOUND

    def test_read_state_is_per_user_and_mark_all_clears_the_badge_MS_1(self, channel) -> None:
        p = party()
        for _ in range(3):
            deliver(channel, returned(p))
        stub = pb_grpc.NotificationServiceStub(channel)
        alice, bob = as_user(p, "users/alice-" + p), as_user(p, "users/bob-" + p)
        first = stub.ListMessages(pb.ListMessagesRequest(page_size=2), metadata=alice)
        assert len(first.messages) == 2 and first.next_page_token and first.unread_count == 3
        stub.MarkMessageRead(pb.MarkMessageReadRequest(name=first.messages[0].name), metadata=alice)
        assert stub.GetUnreadCount(pb.GetUnreadCountRequest(), metadata=alice).unread_count == 2
        assert stub.GetUnreadCount(pb.GetUnreadCountRequest(), metadata=bob).unread_count == 3
        assert stub.MarkAllMessagesRead(pb.MarkAllMessagesReadRequest(), metadata=alice).marked_count == 2
        assert stub.GetUnreadCount(pb.GetUnreadCountRequest(), metadata=alice).unread_count == 0
        deliver(channel, returned(p))
        assert stub.GetUnreadCount(pb.GetUnreadCountRequest(), metadata=alice).unread_count == 1
        unread = stub.ListMessages(pb.ListMessagesRequest(unread_only=True), metadata=alice)
        assert len(unread.messages) == 1 and not unread.messages[0].read

    def test_officers_of_the_origin_get_the_new_case_MS_2(self, channel) -> None:
        ev = apr_ev.CaseOpened(event_id=str(uuid.uuid4()), applicant=party(), province="130000",
                               case=f"cases/{uuid.uuid4().hex[:8]}", route_provinces=["130000", "370000"],
                               application=tpb.ApplicationRef(name="applications/DJX", number="DJX"))
        deliver(channel, ev)
        stub = pb_grpc.NotificationServiceStub(channel)
        hebei = stub.ListMessages(pb.ListMessagesRequest(), metadata=as_officer("130000"))
        assert any(m.kind == npb.MESSAGE_KIND_NEW_CASE and m.link == ev.case for m in hebei.messages)
        shandong = stub.ListMessages(pb.ListMessagesRequest(), metadata=as_officer("370000", "officers/sd"))
        assert not any(m.link == ev.case for m in shandong.messages)

    def test_an_unknown_event_type_is_refused_for_the_relay_to_park(self, channel) -> None:
        packed = any_pb2.Any()
        packed.Pack(date_pb2.Date(year=2026, month=1, day=1))
        env = epb.Envelope(event_id=str(uuid.uuid4()), topic=packed.TypeName(), event=packed)
        with pytest.raises(grpc.RpcError) as e:
            epb_grpc.EventSinkServiceStub(channel).Deliver(
                epb.DeliverRequest(envelope=env), metadata=call_metadata(service_principal("approval")))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert ErrorDetails.from_rpc_error(e.value).reason == "EVENT_TYPE_UNKNOWN"

    def test_only_services_may_deliver_events(self, channel) -> None:
        ev = returned(party())
        packed = any_pb2.Any()
        packed.Pack(ev)
        with pytest.raises(grpc.RpcError) as e:
            epb_grpc.EventSinkServiceStub(channel).Deliver(
                epb.DeliverRequest(envelope=epb.Envelope(event_id=ev.event_id, event=packed)),
                metadata=as_user(ev.applicant))
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


class TestWebhooks:
    def test_a_return_sends_one_signed_post_to_the_carriers_webhook_MS_3(self, channel, receiver) -> None:
        p = party()
        stub = pb_grpc.NotificationServiceStub(channel)
        hook = stub.CreateWebhook(pb.CreateWebhookRequest(webhook=npb.Webhook(url=receiver.url, display_name="调度")),
                                  metadata=as_user(p))
        assert hook.secret.startswith("whsec_")
        listed = stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=as_user(p)).webhooks
        assert [h.name for h in listed] == [hook.name] and listed[0].secret == ""
        ev = returned(p)
        deliver(channel, ev)
        deliver(channel, ev)
        wait_for(lambda: receiver.posts)
        time.sleep(0.5)
        assert len(receiver.posts) == 1
        headers, body = receiver.posts[0]
        assert channels.verify(hook.secret, headers, body)
        assert receiver.bodies()[0]["kind"] == "RETURNED" and "车辆行驶证照片不清晰" in str(receiver.bodies()[0]["body"])
        log = wait_for(lambda: [d for d in stub.ListWebhookDeliveries(
            pb.ListWebhookDeliveriesRequest(parent=hook.name), metadata=as_user(p)).deliveries
            if d.state == npb.DELIVERY_STATE_DELIVERED])
        assert log[0].last_status_code == 204 and log[0].attempts == 1

    def test_a_failing_receiver_is_retried_with_backoff_then_given_up_MS_3(self, channel, receiver) -> None:
        p = party()
        stub = pb_grpc.NotificationServiceStub(channel)
        hook = stub.CreateWebhook(pb.CreateWebhookRequest(webhook=npb.Webhook(url=receiver.url)), metadata=as_user(p))
        receiver.statuses[:] = [503, 500, 503, 503]
        deliver(channel, returned(p))
        failed = wait_for(lambda: [d for d in stub.ListWebhookDeliveries(
            pb.ListWebhookDeliveriesRequest(parent=hook.name), metadata=as_user(p)).deliveries
            if d.state == npb.DELIVERY_STATE_FAILED], timeout=10)
        assert failed[0].attempts == 3 and failed[0].last_status_code == 503 and len(receiver.posts) == 3

    def test_a_retry_after_a_server_error_delivers_MS_3(self, channel, receiver) -> None:
        p = party()
        stub = pb_grpc.NotificationServiceStub(channel)
        hook = stub.CreateWebhook(pb.CreateWebhookRequest(webhook=npb.Webhook(url=receiver.url)), metadata=as_user(p))
        receiver.statuses[:] = [502]
        deliver(channel, returned(p))
        done = wait_for(lambda: [d for d in stub.ListWebhookDeliveries(
            pb.ListWebhookDeliveriesRequest(parent=hook.name), metadata=as_user(p)).deliveries
            if d.state == npb.DELIVERY_STATE_DELIVERED])
        assert done[0].attempts == 2 and len(receiver.posts) == 2

    def test_another_party_cannot_see_or_delete_the_webhook(self, channel, receiver) -> None:
        p = party()
        stub = pb_grpc.NotificationServiceStub(channel)
        hook = stub.CreateWebhook(pb.CreateWebhookRequest(webhook=npb.Webhook(url=receiver.url)), metadata=as_user(p))
        for call in (lambda md: stub.DeleteWebhook(pb.DeleteWebhookRequest(name=hook.name), metadata=md),
                     lambda md: stub.ListWebhookDeliveries(pb.ListWebhookDeliveriesRequest(parent=hook.name),
                                                           metadata=md)):
            with pytest.raises(grpc.RpcError) as e:
                call(as_user(party()))
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
        assert stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=as_user(party())).webhooks == []

    def test_officers_cannot_register_webhooks(self, channel, receiver) -> None:
        stub = pb_grpc.NotificationServiceStub(channel)
        with pytest.raises(grpc.RpcError) as e:
            stub.CreateWebhook(pb.CreateWebhookRequest(webhook=npb.Webhook(url=receiver.url)),
                               metadata=as_officer("130000"))
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert ErrorDetails.from_rpc_error(e.value).reason == "PARTY_REQUIRED"


class TestReminders:
    def due_event(self, case: str, due: dt.date, remind: dt.date | None) -> apr_ev.ReviewDueDateSet:
        d = apr_ev.ProvinceDue(province="370000", due_date=date_pb2.Date(year=due.year, month=due.month, day=due.day),
                               stage=apr_ev.DUE_STAGE_REVIEW)
        if remind is not None and "remind_date" in d.DESCRIPTOR.fields_by_name:
            d.remind_date.CopyFrom(date_pb2.Date(year=remind.year, month=remind.month, day=remind.day))
        return apr_ev.ReviewDueDateSet(event_id=str(uuid.uuid4()), applicant=party(), province="370000",
                                       case=case, due=d,
                                       application=tpb.ApplicationRef(name="applications/DJR", number="DJR"))

    def officer_kinds(self, channel, case: str, province: str = "370000") -> list[int]:
        stub = pb_grpc.NotificationServiceStub(channel)
        msgs = stub.ListMessages(pb.ListMessagesRequest(page_size=100), metadata=as_officer(province, "officers/sd"))
        return [m.kind for m in msgs.messages if m.link == case]

    def test_the_deadlines_an_opened_and_an_accepted_case_carry_are_reminded_MS_2(self, channel, app: App) -> None:
        """Approval sends each deadline on the event that sets it: CaseOpened's acceptance
        deadline reminds the origin's officers, CaseAccepted's review deadlines each route
        province's, on their remind dates."""
        case = f"cases/{uuid.uuid4().hex[:8]}"
        ref = tpb.ApplicationRef(name="applications/DJD", number="DJD")

        def due(province: str, day: dt.date, stage: int) -> apr_ev.ProvinceDue:
            return apr_ev.ProvinceDue(province=province, stage=stage,
                                      due_date=date_pb2.Date(year=day.year, month=day.month, day=day.day),
                                      remind_date=date_pb2.Date(year=day.year, month=day.month, day=day.day - 1))
        deliver(channel, apr_ev.CaseOpened(event_id=str(uuid.uuid4()), applicant=party(), province="130000",
                                           case=case, application=ref,
                                           acceptance_due=due("130000", dt.date(2030, 7, 9), apr_ev.DUE_STAGE_ACCEPTANCE)))
        deliver(channel, apr_ev.CaseAccepted(event_id=str(uuid.uuid4()), applicant=party(), province="130000",
                                             case=case, application=ref,
                                             review_dues=[due("370000", dt.date(2030, 7, 16), apr_ev.DUE_STAGE_REVIEW),
                                                          due("320000", dt.date(2030, 7, 17), apr_ev.DUE_STAGE_REVIEW)]))
        from permit_notifications.handlers import fire_reminders

        fire_reminders(app.uow_factory(), dt.date(2030, 7, 8))
        assert npb.MESSAGE_KIND_REVIEW_DUE_SOON in self.officer_kinds(channel, case, "130000")
        assert self.officer_kinds(channel, case, "370000") == []
        fire_reminders(app.uow_factory(), dt.date(2030, 7, 16))
        assert self.officer_kinds(channel, case, "370000") == [npb.MESSAGE_KIND_REVIEW_DUE_SOON]
        assert self.officer_kinds(channel, case, "320000") == [npb.MESSAGE_KIND_REVIEW_DUE_SOON]

    def test_reminder_fires_on_the_remind_date_then_overdue_MS_2(self, channel, app: App) -> None:
        case = f"cases/{uuid.uuid4().hex[:8]}"
        deliver(channel, self.due_event(case, dt.date(2030, 3, 8), dt.date(2030, 3, 7)))
        from permit_notifications.handlers import fire_reminders

        fire_reminders(app.uow_factory(), dt.date(2030, 3, 6))
        assert self.officer_kinds(channel, case) == []
        fire_reminders(app.uow_factory(), dt.date(2030, 3, 7))
        fire_reminders(app.uow_factory(), dt.date(2030, 3, 7))
        assert self.officer_kinds(channel, case) == [npb.MESSAGE_KIND_REVIEW_DUE_SOON]
        fire_reminders(app.uow_factory(), dt.date(2030, 3, 9))
        assert self.officer_kinds(channel, case) == [npb.MESSAGE_KIND_REVIEW_OVERDUE, npb.MESSAGE_KIND_REVIEW_DUE_SOON]

    def test_a_decision_cancels_the_reminders_MS_2(self, channel, app: App) -> None:
        case = f"cases/{uuid.uuid4().hex[:8]}"
        deliver(channel, self.due_event(case, dt.date(2030, 4, 8), dt.date(2030, 4, 5)))
        deliver(channel, apr_ev.ReviewDecided(event_id=str(uuid.uuid4()), applicant=party(), province="370000",
                                              case=case, outcome=apr_ev.REVIEW_OUTCOME_APPROVED,
                                              application=tpb.ApplicationRef(name="applications/DJR", number="DJR")))
        from permit_notifications.handlers import fire_reminders

        fire_reminders(app.uow_factory(), dt.date(2030, 4, 30))
        assert self.officer_kinds(channel, case) == []

    def test_the_same_due_date_set_again_keeps_its_reminders_MS_2(self, channel, app: App) -> None:
        """A deadline announced twice (a second event naming the same due date) is one
        deadline: its reminders stay scheduled, at the date last named."""
        case = f"cases/{uuid.uuid4().hex[:8]}"
        deliver(channel, self.due_event(case, dt.date(2030, 5, 8), dt.date(2030, 5, 7)))
        deliver(channel, self.due_event(case, dt.date(2030, 5, 8), dt.date(2030, 5, 6)))
        from permit_notifications.handlers import fire_reminders

        fire_reminders(app.uow_factory(), dt.date(2030, 5, 6))
        assert self.officer_kinds(channel, case) == [npb.MESSAGE_KIND_REVIEW_DUE_SOON]

    def test_a_moved_due_date_cancels_the_old_reminders_MS_2(self, channel, app: App) -> None:
        case = f"cases/{uuid.uuid4().hex[:8]}"
        deliver(channel, self.due_event(case, dt.date(2030, 6, 8), dt.date(2030, 6, 7)))
        deliver(channel, self.due_event(case, dt.date(2030, 6, 20), dt.date(2030, 6, 19)))
        from permit_notifications.handlers import fire_reminders

        fire_reminders(app.uow_factory(), dt.date(2030, 6, 10))
        assert self.officer_kinds(channel, case) == []
        fire_reminders(app.uow_factory(), dt.date(2030, 6, 19))
        assert self.officer_kinds(channel, case) == [npb.MESSAGE_KIND_REVIEW_DUE_SOON]


class TestDeliveryWorker:
    def test_a_batch_is_attempted_at_once_and_a_raising_channel_fails_only_its_own_MS_3(
            self, make_database) -> None:
        """Due deliveries are locked and read with their messages in one statement and
        attempted together; a channel that raises for one target leaves that delivery
        pending for a later retry and the others delivered."""
        from sqlalchemy import select

        from permit_notifications.__main__ import MIGRATIONS
        from permit_notifications.delivery import DeliveryWorker
        from permit_notifications.handlers import Note, write_message
        from permit_notifications.models import Delivery
        from permit_notifications.unit_of_work import NotificationsUnitOfWork
        from permitkit.db import make_engine, make_session_factory
        from permitkit.migrations import upgrade

        url = make_database("notifications_worker")
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        sessions = make_session_factory(engine)

        def uow() -> NotificationsUnitOfWork:
            return NotificationsUnitOfWork(sessions)

        parties = [party() for _ in range(3)]
        with uow() as u:
            for n, p in enumerate(parties):
                write_message(u, Note("RETURNED", p, f"applications/DJ{n}",
                                      params={"number": f"DJ{n}", "reason": "照片不清"}), f"event-{n}")
            u.commit()
        sent: list[str] = []

        class Flaky:
            def send(self, envelope: channels.Envelope, *, url: str = "", secret: str = "") -> channels.Outcome:
                if envelope.target == parties[1]:
                    raise RuntimeError("push gateway down")
                sent.append(envelope.target)
                return channels.Outcome(delivered=True, status_code=200)

        worker = DeliveryWorker(uow, {"push": Flaky(), "sms": Flaky()})
        reads: list[str] = []

        def count(conn: object, cursor: object, statement: str, *_: object) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                reads.append(statement)
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            assert worker.run_once() == 6  # a return goes by push and by SMS
            sa_event.remove(engine, "before_cursor_execute", count)
            assert len(reads) == 1  # the due deliveries with their messages, at once
            assert sorted(sent) == sorted([parties[0], parties[2]] * 2)
            with sessions() as s:
                push = {d.target: d for d in s.scalars(select(Delivery).where(Delivery.channel == "push"))}
            assert push[parties[0]].state == push[parties[2]].state == "DELIVERED"
            assert push[parties[1]].state == "PENDING" and push[parties[1]].attempts == 1
            assert "push gateway down" in push[parties[1]].last_error
            assert worker.run_once() == 0  # backing off: not due yet
        finally:
            engine.dispose()
