"""Pure model <-> protobuf functions."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from permit.notifications.v1 import notifications_pb2 as pb
from permit_notifications.models import Delivery, Message, Webhook


def ts(value) -> Timestamp:  # type: ignore[no-untyped-def]
    out = Timestamp()
    if value is not None:
        out.FromDatetime(value)
    return out


def message_pb(msg: Message, read: bool) -> pb.Message:
    return pb.Message(name=msg.name, kind=pb.MessageKind.Value(f"MESSAGE_KIND_{msg.kind}"), title=msg.title,
                      body=msg.body, link=msg.link, application=msg.application,
                      application_number=msg.application_number, province=msg.province, read=read,
                      create_time=ts(msg.create_time))


def webhook_pb(hook: Webhook, *, with_secret: bool = False) -> pb.Webhook:
    return pb.Webhook(name=hook.name, url=hook.url, display_name=hook.display_name,
                      secret=hook.secret if with_secret else "", create_time=ts(hook.create_time))


def delivery_pb(d: Delivery, msg: Message, parent: str) -> pb.WebhookDelivery:
    out = pb.WebhookDelivery(name=f"{parent}/deliveries/{d.public_id}", message=msg.name,
                             kind=pb.MessageKind.Value(f"MESSAGE_KIND_{msg.kind}"),
                             state=pb.DeliveryState.Value(f"DELIVERY_STATE_{d.state}"), attempts=d.attempts,
                             last_status_code=d.last_status_code, last_error=d.last_error,
                             create_time=ts(d.create_time))
    if d.deliver_time is not None:
        out.deliver_time.CopyFrom(ts(d.deliver_time))
    return out
