"""The routing gRPC server, built through permitkit."""

from __future__ import annotations

import grpc

from permit_routing.bootstrap import Routing
from permit_routing.grpc_api import service_specs
from permitkit.server import build_server

DOMAIN = "permit.routing"


def make_server(app: Routing, *, host: str | None = None, port: int | None = None) -> tuple[grpc.Server, int]:
    """Build (not start) the server for ``app``; port 0 binds a free port."""
    return build_server(
        domain=DOMAIN,
        services=service_specs(app.servicer),
        host=host if host is not None else app.settings.grpc_host,
        port=port if port is not None else app.settings.grpc_port,
        max_workers=app.settings.max_workers,
    )
