"""Builds the identity gRPC server through permitkit."""

from __future__ import annotations

import grpc

from permit.identity.v1 import identity_internal_pb2_grpc as igrpc
from permit.identity.v1 import identity_service_pb2_grpc as sgrpc
from permit_identity.bootstrap import App
from permit_identity.errors import DOMAIN
from permit_identity.grpc_api import IdentityInternalServicer, IdentityServicer
from permitkit.server import build_server as _build

SERVICE_NAME = "permit.identity.v1.IdentityService"
INTERNAL_SERVICE_NAME = "permit.identity.v1.IdentityInternalService"


def build_server(app: App, *, host: str | None = None, port: int | None = None) -> tuple[grpc.Server, int]:
    """The server (not started) and its bound port; port 0 picks a free one."""
    return _build(
        domain=DOMAIN,
        services=[(sgrpc.add_IdentityServiceServicer_to_server, IdentityServicer(app), SERVICE_NAME),
                  (igrpc.add_IdentityInternalServiceServicer_to_server, IdentityInternalServicer(app),
                   INTERNAL_SERVICE_NAME)],
        host=host if host is not None else app.settings.grpc_host,
        port=port if port is not None else app.settings.grpc_port,
        max_workers=app.settings.grpc_workers,
    )
