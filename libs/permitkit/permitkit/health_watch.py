"""Retry sooner when a peer comes back: watch its gRPC health, call a hook when it turns SERVING.

An outbox relay backs off while its peer is down (up to ``max_backoff``
seconds between attempts); without a signal it would wait out that backoff
after the peer is back. :class:`PeerHealthWatch` keeps one ``Health.Watch``
stream open to the peer (the channel reconnects within a second, see
:mod:`permitkit.client`) and calls ``on_serving`` each time the peer's status
turns to SERVING after it was anything else (down, not serving, unknown).
:func:`watch_consumers` wires a relay: one watch per consumer's channel, and
the consumer whose peer turned SERVING is due now
(:meth:`permitkit.outbox.OutboxRelay.retry_now`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc

if TYPE_CHECKING:
    from permitkit.outbox import OutboxRelay

log = structlog.get_logger("permitkit.health_watch")
SERVING = health_pb2.HealthCheckResponse.SERVING


class PeerHealthWatch:
    """One thread watching ``service`` ("" = the whole server) on ``channel``."""

    def __init__(self, channel: grpc.Channel, on_serving: Callable[[], None], *, service: str = "",
                 name: str = "peer", retry_interval: float = 0.2) -> None:
        self._stub = health_pb2_grpc.HealthStub(channel)
        self._on_serving = on_serving
        self._service = service
        self.name = name
        self._retry_interval = retry_interval
        self._stop = threading.Event()
        self._call: Any = None
        self._thread: threading.Thread | None = None
        self.serving = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"health-watch-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        call = self._call
        if call is not None:
            call.cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                stream = self._stub.Watch(health_pb2.HealthCheckRequest(service=self._service))
                self._call = stream
                for resp in stream:
                    self._observe(resp.status == SERVING)
            except grpc.RpcError:
                pass  # down or going away: the stream is opened again below
            except Exception:  # noqa: BLE001 - a failing hook must not end the watch
                log.exception("health_watch_error", peer=self.name)
            self._observe(False)
            self._stop.wait(self._retry_interval)

    def _observe(self, serving: bool) -> None:
        was, self.serving = self.serving, serving
        if serving and not was:  # also at start: harmless, and a peer may have been down before
            log.info("peer_serving_again", peer=self.name)
            self._on_serving()


def watch_peers(channels: dict[str, grpc.Channel], on_serving: Callable[[str], None]) -> list[PeerHealthWatch]:
    """Start one watch per named channel; ``on_serving(name)`` is called with the name of
    the peer that turned SERVING. Stop them with ``stop()``."""
    watches = [PeerHealthWatch(ch, functools.partial(on_serving, name), name=name) for name, ch in channels.items()]
    for w in watches:
        w.start()
    return watches


def watch_consumers(relay: OutboxRelay, channels: dict[str, grpc.Channel]) -> list[PeerHealthWatch]:
    """Watch each consumer's peer (``{consumer: channel}``): when one turns SERVING, what the
    relay holds back for that consumer is due now (``relay.retry_now(consumer)``), not
    after its backoff. Channels of consumers the relay does not serve are not watched."""
    return watch_peers({c: ch for c, ch in channels.items() if c in relay.subscriptions}, relay.retry_now)
