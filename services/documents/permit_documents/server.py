"""The documents gRPC server, built on permitkit's server builder."""

from __future__ import annotations

import grpc

from permit.documents.v1 import documents_service_pb2_grpc
from permit_documents.bootstrap import App
from permit_documents.grpc_api import SERVICE_NAME
from permitkit.server import ServiceSpec, build_server

DOMAIN = "permit.documents"


def service_spec(app: App) -> ServiceSpec:
    return (documents_service_pb2_grpc.add_DocumentServiceServicer_to_server, app.servicer, SERVICE_NAME)


def service_specs(app: App) -> list[ServiceSpec]:
    """The public service and the event sink."""
    return [service_spec(app), app.sink.service_spec()]


def build(app: App, *, host: str | None = None, port: int | None = None) -> tuple[grpc.Server, int]:
    """(server, bound port) for ``app``; port 0 picks a free one."""
    return build_server(
        domain=DOMAIN,
        services=service_specs(app),
        host=host if host is not None else app.settings.grpc_host,
        port=port if port is not None else app.settings.grpc_port,
    )
