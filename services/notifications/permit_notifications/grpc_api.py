"""NotificationService and the event sink over gRPC: protobuf <-> use-case arguments only."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from permit.events.v1 import event_sink_pb2 as epb
from permit.events.v1 import event_sink_pb2_grpc as epb_grpc
from permit.notifications.v1 import notifications_service_pb2 as pb
from permit.notifications.v1 import notifications_service_pb2_grpc as pb_grpc
from permit_notifications import convert, handlers, services
from permit_notifications.unit_of_work import NotificationsUnitOfWork
from permitkit.context import current_principal, require_service
from permitkit.errors import InvalidArgument
from permitkit.server import ServiceSpec

SERVICE_NAME = "permit.notifications.v1.NotificationService"
SINK_NAME = "permit.events.v1.EventSinkService"


class NotificationServicer(pb_grpc.NotificationServiceServicer):
    """Maps each public RPC to its use case."""

    def __init__(self, *, uow_factory: Callable[[], NotificationsUnitOfWork], allow_http_loopback: bool) -> None:
        self.uow_factory = uow_factory
        self.allow_http_loopback = allow_http_loopback

    def ListMessages(self, request: pb.ListMessagesRequest, context: grpc.ServicerContext) -> pb.ListMessagesResponse:
        page, unread = services.list_messages(self.uow_factory(), principal=current_principal(),
                                              page_size=request.page_size, page_token=request.page_token,
                                              unread_only=request.unread_only)
        return pb.ListMessagesResponse(messages=[convert.message_pb(i.message, i.read) for i in page.items],
                                       next_page_token=page.next_page_token, unread_count=unread)

    def GetUnreadCount(self, request: pb.GetUnreadCountRequest,
                       context: grpc.ServicerContext) -> pb.GetUnreadCountResponse:
        return pb.GetUnreadCountResponse(
            unread_count=services.unread_count(self.uow_factory(), principal=current_principal()))

    def MarkMessageRead(self, request: pb.MarkMessageReadRequest, context: grpc.ServicerContext):  # type: ignore[no-untyped-def]
        item = services.mark_read(self.uow_factory(), principal=current_principal(), name=request.name)
        return convert.message_pb(item.message, item.read)

    def MarkAllMessagesRead(self, request: pb.MarkAllMessagesReadRequest,
                            context: grpc.ServicerContext) -> pb.MarkAllMessagesReadResponse:
        return pb.MarkAllMessagesReadResponse(
            marked_count=services.mark_all_read(self.uow_factory(), principal=current_principal()))

    def CreateWebhook(self, request: pb.CreateWebhookRequest, context: grpc.ServicerContext):  # type: ignore[no-untyped-def]
        hook = services.create_webhook(self.uow_factory(), principal=current_principal(), url=request.webhook.url,
                                       display_name=request.webhook.display_name,
                                       allow_http_loopback=self.allow_http_loopback)
        return convert.webhook_pb(hook, with_secret=True)

    def ListWebhooks(self, request: pb.ListWebhooksRequest, context: grpc.ServicerContext) -> pb.ListWebhooksResponse:
        page = services.list_webhooks(self.uow_factory(), principal=current_principal(),
                                      page_size=request.page_size, page_token=request.page_token)
        return pb.ListWebhooksResponse(webhooks=[convert.webhook_pb(h) for h in page.items],
                                       next_page_token=page.next_page_token)

    def DeleteWebhook(self, request: pb.DeleteWebhookRequest,
                      context: grpc.ServicerContext) -> pb.DeleteWebhookResponse:
        services.delete_webhook(self.uow_factory(), principal=current_principal(), name=request.name)
        return pb.DeleteWebhookResponse()

    def ListWebhookDeliveries(self, request: pb.ListWebhookDeliveriesRequest,
                              context: grpc.ServicerContext) -> pb.ListWebhookDeliveriesResponse:
        page = services.list_deliveries(self.uow_factory(), principal=current_principal(), parent=request.parent,
                                        page_size=request.page_size, page_token=request.page_token)
        return pb.ListWebhookDeliveriesResponse(
            deliveries=[convert.delivery_pb(d, m, request.parent) for d, m in page.items],
            next_page_token=page.next_page_token)


class EventTypeUnknown(InvalidArgument):
    reason = "EVENT_TYPE_UNKNOWN"
    message = "事件类型无法识别。"


class EventInvalid(InvalidArgument):
    reason = "EVENT_INVALID"
    message = "事件内容无效。"


class NotificationsEventSink(epb_grpc.EventSinkServiceServicer):
    """Internal: the integration events this context reads, applied once each."""

    def __init__(self, *, uow_factory: Callable[[], NotificationsUnitOfWork],
                 on_applied: Callable[[], None] = lambda: None) -> None:
        self.uow_factory = uow_factory
        self.on_applied = on_applied
        self.types = {cls.DESCRIPTOR.full_name: cls for cls in handlers.READERS}

    def Deliver(self, request: epb.DeliverRequest, context: grpc.ServicerContext) -> epb.DeliverResponse:
        require_service()
        env = request.envelope
        name = env.event.TypeName()
        cls = self.types.get(name)
        if cls is None:
            raise EventTypeUnknown(metadata={"topic": name})
        event = cls()
        if not env.event.Unpack(event) or not env.event_id:
            raise EventInvalid(metadata={"topic": name})
        applied = handlers.handle(self.uow_factory(), env.event_id, event)
        if applied:
            self.on_applied()
        return epb.DeliverResponse(applied=applied)


def service_specs(servicer: NotificationServicer, sink: NotificationsEventSink) -> list[ServiceSpec]:
    return [(pb_grpc.add_NotificationServiceServicer_to_server, servicer, SERVICE_NAME),
            (epb_grpc.add_EventSinkServiceServicer_to_server, sink, SINK_NAME)]


