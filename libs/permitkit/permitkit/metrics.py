"""Prometheus metrics: one histogram of RPC latency by method and code."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

RPC_SECONDS = Histogram(
    "permit_rpc_seconds", "Server-side RPC latency in seconds", ["method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_DELIVERIES = Counter("permit_outbox_deliveries_total", "Outbox delivery attempts", ["topic", "outcome"])


def observe_rpc(method: str, code: str, seconds: float) -> None:
    RPC_SECONDS.labels(method, code).observe(seconds)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on ``port`` (0 = disabled)."""
    if port:
        start_http_server(port, addr=host)
