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


def make_channel(addr: str, *, options: Sequence[tuple[str, Any]] = ()) -> grpc.Channel:
    """An insecure channel (in-cluster) to ``host:port`` that forwards caller context."""
    # A margin over gRPC's default 8 KB of trailers for an error's details.
    opts = [("grpc.max_metadata_size", 64 * 1024), *options]
    return grpc.intercept_channel(grpc.insecure_channel(addr, options=opts),
                                  _ForwardingInterceptor())


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
