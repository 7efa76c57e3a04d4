"""The consuming side of integration events: ``permit.events.v1.EventSinkService``.

A consuming service declares one typed handler per event message it reads::

    sink = EventSink("application", {
        approval_events.CaseAccepted: handlers.case_accepted,
        approval_events.PermitIssued: handlers.permit_issued,
    })

and serves ``sink.service_spec()`` next to its public service. ``Deliver``
checks that the caller is a service, unpacks the envelope's message by its
full name and calls the handler with it; the handler is idempotent by the
message's ``event_id`` (``permitkit.outbox.first_delivery`` in its own
transaction) and returns True when it changed something. A message no handler
takes is refused with INVALID_ARGUMENT (the producer's relay parks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import grpc
import structlog
from google.protobuf.message import DecodeError, Message

from permitkit.context import current_principal
from permitkit.errors import InvalidArgument, PermissionDenied, Unauthenticated
from permitkit.server import ServiceSpec

log = structlog.get_logger("permitkit.events")

SINK_SERVICE = "permit.events.v1.EventSinkService"

Handler = Callable[[Any], bool | None]


class NotService(PermissionDenied):
    reason = "NOT_SERVICE"
    message = "仅限内部服务调用。"


class EventInvalid(InvalidArgument):
    reason = "EVENT_INVALID"
    message = "事件无法解析。"


class EventTypeUnknown(InvalidArgument):
    reason = "EVENT_TYPE_UNKNOWN"
    message = "本服务不处理此类事件。"


class EventSink:
    """``EventSinkService`` of one consuming service: dispatch by message type."""

    def __init__(self, service: str, handlers: Mapping[type[Message], Handler]) -> None:
        self.service = service
        self._handlers: dict[str, tuple[type[Message], Handler]] = {
            cls.DESCRIPTOR.full_name: (cls, fn) for cls, fn in handlers.items()}

    @property
    def topics(self) -> frozenset[str]:
        """The full names of the event messages this service consumes."""
        return frozenset(self._handlers)

    def handle(self, event: Message) -> bool:
        """Apply one event message (also the in-process path used by tests)."""
        entry = self._handlers.get(event.DESCRIPTOR.full_name)
        if entry is None:
            raise EventTypeUnknown(field="envelope.event", metadata={"topic": event.DESCRIPTOR.full_name})
        if not getattr(event, "event_id", ""):
            raise EventInvalid("事件缺少事件编号。", field="envelope.event.event_id")
        applied = entry[1](event)
        log.info("event_handled", topic=event.DESCRIPTOR.full_name, event_id=getattr(event, "event_id", ""),
                 applied=bool(applied), consumer=self.service)
        return bool(applied)

    def unpack(self, envelope: Any) -> Message:
        """The typed message of a ``permit.events.v1.Envelope``."""
        name = envelope.event.type_url.rsplit("/", 1)[-1]
        entry = self._handlers.get(name)
        if entry is None:
            raise EventTypeUnknown(field="envelope.event", metadata={"topic": name})
        message = entry[0]()
        try:
            message.ParseFromString(envelope.event.value)
        except DecodeError:
            raise EventInvalid(field="envelope.event") from None
        return message

    # -- the gRPC servicer -----------------------------------------------------------------

    def Deliver(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 - gRPC method name
        from permit.events.v1 import event_sink_pb2

        principal = current_principal()
        if principal is None:
            raise Unauthenticated()
        if not principal.is_service:
            raise NotService()
        applied = self.handle(self.unpack(request.envelope))
        return event_sink_pb2.DeliverResponse(applied=applied)

    def service_spec(self) -> ServiceSpec:
        """The (add_fn, servicer, full name) triple for ``permitkit.server.build_server``."""
        from permit.events.v1 import event_sink_pb2_grpc

        return (event_sink_pb2_grpc.add_EventSinkServiceServicer_to_server, self, SINK_SERVICE)


class LocalSink:
    """Delivers envelopes straight to an in-process ``EventSink`` (tests, one-process setups)."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink

    def __call__(self, envelope: Any) -> None:
        self.sink.handle(self.sink.unpack(envelope))
