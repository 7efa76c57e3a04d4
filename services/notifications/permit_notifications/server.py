"""The notifications gRPC server, built through permitkit."""

from __future__ import annotations

import grpc

from permit_notifications.bootstrap import App
from permit_notifications.grpc_api import service_specs
from permitkit.server import build_server

DOMAIN = "permit.notifications"


def make_server(app: App, *, host: str | None = None, port: int | None = None) -> tuple[grpc.Server, int]:
    """Build (not start) the server for ``app``; port 0 binds a free port."""
    return build_server(
        domain=DOMAIN,
        services=service_specs(app.servicer, app.sink),
        host=host if host is not None else app.settings.grpc_host,
        port=port if port is not None else app.settings.grpc_port,
        max_workers=app.settings.max_workers,
    )
