"""The gRPC server of the application service, built with permitkit."""

from __future__ import annotations

import grpc

from permit_application.grpc_api import ApplicationServicer, service_specs
from permitkit.server import build_server as _build

DOMAIN = "permit.application"


def build_server(servicer: ApplicationServicer, *, host: str = "127.0.0.1",
                 port: int = 0) -> tuple[grpc.Server, int]:
    """(server, bound port) with health, reflection and permitkit's interceptors."""
    return _build(domain=DOMAIN, services=service_specs(servicer), host=host, port=port)
