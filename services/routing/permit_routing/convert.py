"""Pure conversions between protobuf messages and routing's domain objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from google.protobuf import timestamp_pb2

from permit.routing.v1 import routing_pb2
from permit.type.v1 import types_pb2
from permit_routing.reference import Expressway, Link, Province, ReferenceData
from permit_routing.routes import Problem, Recommendation, Row

_KIND = {
    "radial": routing_pb2.Expressway.KIND_RADIAL,
    "north-south": routing_pb2.Expressway.KIND_NORTH_SOUTH,
    "east-west": routing_pb2.Expressway.KIND_EAST_WEST,
    "ring": routing_pb2.Expressway.KIND_RING,
}


def rows_from_proto(rows: Iterable[types_pb2.RouteRow]) -> tuple[Row, ...]:
    return tuple(Row(province=r.province, roads=tuple(r.roads)) for r in rows)


def row_to_proto(row: Row) -> types_pb2.RouteRow:
    return types_pb2.RouteRow(province=row.province, roads=list(row.roads))


def problem_to_proto(p: Problem) -> routing_pb2.RouteProblem:
    return routing_pb2.RouteProblem(line=p.line, column=p.column, reason=p.reason, message=p.message,
                                    field=p.field, provinces=list(p.provinces))


def province_to_proto(ref: ReferenceData, p: Province) -> routing_pb2.Province:
    return routing_pb2.Province(
        code=p.code, name=p.name, short_name=p.short, aliases=list(p.aliases),
        land_neighbours=ref.neighbours(p.code, Link.LAND),
        ferry_neighbours=ref.neighbours(p.code, Link.FERRY),
    )


def expressway_to_proto(e: Expressway) -> routing_pb2.Expressway:
    return routing_pb2.Expressway(code=e.code, name=e.name, display_name=e.display_name,
                                  from_city=e.from_city, to_city=e.to_city,
                                  kind=_KIND.get(e.kind, routing_pb2.Expressway.KIND_UNSPECIFIED))


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def timestamp_or_none(ts: timestamp_pb2.Timestamp, present: bool) -> dt.datetime | None:
    if not present:
        return None
    return ts.ToDatetime(tzinfo=dt.UTC)


def recommended_to_proto(route: Recommendation) -> routing_pb2.RecommendedRoute:
    return routing_pb2.RecommendedRoute(
        rows=[row_to_proto(r) for r in route.rows], times_approved=route.times_approved,
        last_approve_time=timestamp(route.last_approve_time), last_application=route.last_application,
    )
