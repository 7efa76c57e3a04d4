"""RoutingService over gRPC: protobuf <-> use-case arguments only (transport)."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from permit.routing.v1 import routing_service_pb2 as pb
from permit.routing.v1 import routing_service_pb2_grpc as pb_grpc
from permit_routing import convert, services
from permit_routing.reference import ReferenceData
from permit_routing.unit_of_work import RoutingUnitOfWork
from permitkit.context import current_principal
from permitkit.events import EventSink
from permitkit.server import ServiceSpec

SERVICE_NAME = "permit.routing.v1.RoutingService"


class RoutingServicer(pb_grpc.RoutingServiceServicer):
    """Maps each RPC to its use case."""

    def __init__(self, *, ref: ReferenceData, uow_factory: Callable[[], RoutingUnitOfWork]) -> None:
        self.ref = ref
        self.uow_factory = uow_factory
        # The EventSinkService served next to this one (set by the composition root).
        self.event_sink: EventSink | None = None

    def ListProvinces(self, request: pb.ListProvincesRequest,
                      context: grpc.ServicerContext) -> pb.ListProvincesResponse:
        page = services.list_provinces(self.ref, page_size=request.page_size, page_token=request.page_token)
        return pb.ListProvincesResponse(
            provinces=[convert.province_to_proto(self.ref, p) for p in page.items],
            data_version=self.ref.version, next_page_token=page.next_page_token)

    def ParseRouteText(self, request: pb.ParseRouteTextRequest,
                       context: grpc.ServicerContext) -> pb.ParseRouteTextResponse:
        result = services.parse_route_text(self.ref, text=request.text)
        return pb.ParseRouteTextResponse(rows=[convert.row_to_proto(r) for r in result.rows],
                                         problems=[convert.problem_to_proto(p) for p in result.problems])

    def ValidateRoute(self, request: pb.ValidateRouteRequest,
                      context: grpc.ServicerContext) -> pb.ValidateRouteResponse:
        check = services.validate_route(self.ref, origin_province=request.origin_province,
                                        destination_province=request.destination_province,
                                        rows=convert.rows_from_proto(request.rows))
        return pb.ValidateRouteResponse(
            approving_provinces=list(check.approving_provinces),
            errors=[convert.problem_to_proto(p) for p in check.errors],
            warnings=[convert.problem_to_proto(p) for p in check.warnings],
            valid=check.valid, rows=[convert.row_to_proto(r) for r in check.rows])

    def RecommendRoutes(self, request: pb.RecommendRoutesRequest,
                        context: grpc.ServicerContext) -> pb.RecommendRoutesResponse:
        page = services.recommend_routes(
            self.uow_factory(), ref=self.ref, principal=current_principal(),
            origin_province=request.origin_province, destination_province=request.destination_province,
            page_size=request.page_size, page_token=request.page_token)
        return pb.RecommendRoutesResponse(routes=[convert.recommended_to_proto(r) for r in page.items],
                                          next_page_token=page.next_page_token)

    def ListExpressways(self, request: pb.ListExpresswaysRequest,
                        context: grpc.ServicerContext) -> pb.ListExpresswaysResponse:
        page = services.list_expressways(self.ref, query=request.query, page_size=request.page_size,
                                         page_token=request.page_token)
        return pb.ListExpresswaysResponse(expressways=[convert.expressway_to_proto(e) for e in page.items],
                                          data_version=self.ref.version, next_page_token=page.next_page_token)


def service_specs(servicer: RoutingServicer) -> list[ServiceSpec]:
    """The public service and the event sink, for permitkit.server.build_server."""
    specs: list[ServiceSpec] = [(pb_grpc.add_RoutingServiceServicer_to_server, servicer, SERVICE_NAME)]
    if servicer.event_sink is not None:
        specs.append(servicer.event_sink.service_spec())
    return specs
