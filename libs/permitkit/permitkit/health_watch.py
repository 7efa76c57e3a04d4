"""Retry sooner when a peer comes back: watch its gRPC health, call a hook when it turns SERVING.

An outbox relay backs off while its peer is down (up to ``max_backoff``
seconds between attempts); without a signal it would wait out that backoff
after the peer is back. :class:`PeerHealthWatch` keeps one ``Health.Watch``
stream open to the peer (the channel reconnects within a second, see
:mod:`permitkit.client`) and calls ``on_serving`` each time the peer's status
turns to SERVING after it was anything else (down, not serving, unknown).
:func:`hurry_outbox` is the hook a relay needs: make every waiting event due
now and wake the relay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import Table, update
from sqlalchemy.engine import Engine

from permitkit.db import utcnow

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


def hurry_outbox(engine: Engine, outbox: Table, wake: Callable[[], None]) -> Callable[[], None]:
    """The hook for an outbox relay: events waiting out a backoff become due now, then ``wake``."""

    def hurry() -> None:
        with engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.deliver_time.is_(None), outbox.c.park_time.is_(None),
                                              outbox.c.next_attempt_time > utcnow())
                         .values(next_attempt_time=utcnow()))
        wake()
    return hurry


def watch_peers(channels: dict[str, grpc.Channel], on_serving: Callable[[], None]) -> list[PeerHealthWatch]:
    """Start one watch per named channel, all calling ``on_serving``; stop them with ``stop()``."""
    watches = [PeerHealthWatch(ch, on_serving, name=name) for name, ch in channels.items()]
    for w in watches:
        w.start()
    return watches
