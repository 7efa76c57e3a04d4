"""Build the approval gRPC server through permitkit (health, reflection, interceptors)."""

from __future__ import annotations

import grpc

from permit_approval.bootstrap import App, services_of
from permit_approval.errors import DOMAIN
from permitkit.server import build_server as _build_server


def build_server(app: App, *, host: str | None = None,
                 port: int | None = None) -> tuple[grpc.Server, int]:
    """A server (not started) for ``app`` on ``host:port`` (settings by default)."""
    return _build_server(domain=DOMAIN, services=services_of(app),
                         host=host or app.settings.grpc_host,
                         port=app.settings.grpc_port if port is None else port)
