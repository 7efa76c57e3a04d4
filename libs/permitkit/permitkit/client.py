"""Channels to peer services that forward the request id and the caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from permitkit import context as ctx


class _ForwardingInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.StreamUnaryClientInterceptor,
                             grpc.UnaryStreamClientInterceptor):
    """Adds x-request-id and the current principal unless the call sets its own."""

    def _augment(self, details: Any) -> Any:
        md = list(details.metadata or ())
        keys = {k for k, _ in md}
        rid = ctx.current_request_id()
        if rid and ctx.REQUEST_ID not in keys:
            md.append((ctx.REQUEST_ID, rid))
        p = ctx.current_principal()
        if p is not None and ctx.SUBJECT not in keys:
            md.extend(p.to_metadata())
        return _Details(details.method, details.timeout, md, details.credentials,
                        getattr(details, "wait_for_ready", None), getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._augment(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return continuation(self._augment(client_call_details), request_iterator)

    def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._augment(client_call_details), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, method: str, timeout: float | None, metadata: Sequence[tuple[str, str | bytes]],
                 credentials: Any, wait_for_ready: Any, compression: Any) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = tuple(metadata)
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


# Every channel to a peer (services' clients and the gateway's): a peer that
# restarts is reached again within a second. gRPC's default reconnect backoff
# grows to 120 s, so a channel that saw its peer down once kept failing fast for
# many seconds after the peer was back. Here the backoff starts at 0.1 s and
# stops growing at 0.5 s (gRPC adds up to 20 % jitter: 0.6 s at most): a peer that
# stays down still gets no more than two connection attempts a second per channel, and
# each attempt against a closed port costs one refused SYN. The connect timeout
# (``min_reconnect_backoff``) stays at 2 s so a busy peer can finish its handshake.
# Keepalive pings notice a silently dead connection (a host gone, a cut cable)
# in about 30 s instead of the kernel's TCP timeout of minutes.
RECONNECT_INITIAL_MS = 100
RECONNECT_MAX_MS = 500
CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.initial_reconnect_backoff_ms", RECONNECT_INITIAL_MS),
    ("grpc.min_reconnect_backoff_ms", 2000),
    ("grpc.max_reconnect_backoff_ms", RECONNECT_MAX_MS),
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 0),
    ("grpc.http2.max_pings_without_data", 0),
    # A margin over gRPC's default 8 KB of trailers for an error's details (the
    # services cap theirs under it; this is never the only guard).
    ("grpc.max_metadata_size", 64 * 1024),
)


def channel_options(extra: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """:data:`CHANNEL_OPTIONS` with ``extra`` taking precedence (same key: extra wins)."""
    keys = {k for k, _ in extra}
    return [*(o for o in CHANNEL_OPTIONS if o[0] not in keys), *extra]


def make_channel(addr: str, *, options: Sequence[tuple[str, Any]] = ()) -> grpc.Channel:
    """An insecure channel (in-cluster) to ``host:port`` that forwards caller context,
    with the reconnect and keepalive settings of :func:`channel_options`."""
    return grpc.intercept_channel(grpc.insecure_channel(addr, options=channel_options(options)),
                                  _ForwardingInterceptor())


def make_aio_channel(addr: str, *, options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
    """The asyncio twin of :func:`make_channel` (the gateway's); no context forwarding."""
    return grpc.aio.insecure_channel(addr, options=channel_options(options))


def service_principal(name: str) -> ctx.Principal:
    """The principal a service uses for its own internal calls (relays, jobs)."""
    return ctx.Principal(subject=f"services/{name}", roles=frozenset({"service"}))


def call_metadata(principal: ctx.Principal | None = None,
                  request_id: str | None = None) -> list[tuple[str, str]]:
    """Explicit metadata for a call made outside an RPC context (tests, CLIs)."""
    md: list[tuple[str, str]] = [(ctx.REQUEST_ID, request_id or ctx.new_request_id())]
    if principal is not None:
        md.extend(principal.to_metadata())
    return md
