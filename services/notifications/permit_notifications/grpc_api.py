"""NotificationService over gRPC: protobuf <-> use-case arguments only."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from permit.notifications.v1 import notifications_service_pb2 as pb
from permit.notifications.v1 import notifications_service_pb2_grpc as pb_grpc
from permit_notifications import convert, services
from permit_notifications.unit_of_work import NotificationsUnitOfWork
from permitkit.context import current_principal
from permitkit.server import ServiceSpec

SERVICE_NAME = "permit.notifications.v1.NotificationService"


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


def service_spec(servicer: NotificationServicer) -> ServiceSpec:
    return (pb_grpc.add_NotificationServiceServicer_to_server, servicer, SERVICE_NAME)
