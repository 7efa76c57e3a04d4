"""Route validation (AP-7a): rows against the chosen origin and destination."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from permit_routing.reference import ReferenceData
from permit_routing.routes import Problem, Row

MAX_ROWS = 100


@dataclass(frozen=True)
class RouteCheck:
    """The verdict on a route: approving provinces, errors, warnings, normalised rows."""

    approving_provinces: tuple[str, ...]
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    rows: tuple[Row, ...]

    @property
    def valid(self) -> bool:
        """Errors make a route unusable; warnings are for the user to confirm."""
        return not self.errors


def normalise_rows(ref: ReferenceData, rows: Sequence[Row]) -> tuple[Row, ...]:
    """Rows with the province code trimmed and every road under its one spelling."""
    return tuple(
        Row(province=r.province.strip(), roads=tuple(ref.normalise_road(road).text for road in r.roads))
        for r in rows
    )


def approving_provinces(origin: str, rows: Sequence[Row], ref: ReferenceData) -> tuple[str, ...]:
    """The distinct provinces of the route in travel order, origin first (RV: one review each)."""
    out: list[str] = []
    for code in (origin, *(r.province for r in rows)):
        if ref.is_province(code) and code not in out:
            out.append(code)
    return tuple(out)


def _name(ref: ReferenceData, code: str) -> str:
    p = ref.province(code)
    return p.name if p else code


def validate_route(ref: ReferenceData, *, origin: str, destination: str,
                   rows: Sequence[Row]) -> RouteCheck:
    """Check rows against origin and destination (AP-7a).

    Errors: the route cannot be used as it is. Warnings: the user confirms
    (the last row is not the destination because a province is re-entered;
    two consecutive provinces share no border and no ferry link).
    """
    rows = normalise_rows(ref, rows)
    origin, destination = origin.strip(), destination.strip()
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def err(line: int, reason: str, message: str, field: str, *provinces: str) -> None:
        errors.append(Problem(line, 0, reason, message, field, tuple(provinces)))

    def warn(line: int, reason: str, message: str, field: str, *provinces: str) -> None:
        warnings.append(Problem(line, 0, reason, message, field, tuple(provinces)))

    for value, fld, label, required in (
            (origin, "origin_province", "起运地", "ORIGIN_REQUIRED"),
            (destination, "destination_province", "目的地", "DESTINATION_REQUIRED")):
        if not value:
            err(0, required, f"请选择{label}省份。", fld)
        elif not ref.is_province(value):
            err(0, "UNKNOWN_PROVINCE", f"{label}省份代码“{value}”无效。", fld, value)

    if not rows:
        err(0, "ROUTE_EMPTY", "请至少填写一行途经省份及道路。", "rows")
    for i, row in enumerate(rows):
        line = i + 1
        if not row.province:
            err(line, "PROVINCE_REQUIRED", f"第{line}行未选择省份。", f"rows[{i}].province")
        elif not ref.is_province(row.province):
            err(line, "UNKNOWN_PROVINCE", f"第{line}行省份代码“{row.province}”无效。",
                f"rows[{i}].province", row.province)
        if not row.roads:
            err(line, "ROW_WITHOUT_ROADS", f"第{line}行（{_name(ref, row.province)}）未填写道路。",
                f"rows[{i}].roads", row.province)
        for j, road in enumerate(row.roads):
            if not road:
                err(line, "EMPTY_ROAD", f"第{line}行第{j + 1}条道路名称为空。", f"rows[{i}].roads[{j}]",
                    row.province)

    known = ref.is_province(origin) and ref.is_province(destination)
    if rows and known:
        if rows[0].province != origin:
            err(1, "FIRST_ROW_NOT_ORIGIN",
                f"第一行省份应为起运地{_name(ref, origin)}，当前为{_name(ref, rows[0].province)}。",
                "rows[0].province", origin, rows[0].province)
        provinces = [r.province for r in rows]
        if destination not in provinces:
            err(0, "DESTINATION_NOT_ON_ROUTE", f"路线未经过目的地{_name(ref, destination)}。", "rows",
                destination)
        elif provinces[-1] != destination:
            # AP-7a: re-entering a province can leave another one last: confirm, not an error.
            n = len(rows)
            warn(n, "LAST_ROW_NOT_DESTINATION",
                 f"最后一行省份（{_name(ref, provinces[-1])}）不是目的地省份（{_name(ref, destination)}），"
                 "如因多次进出省份所致，请确认无误后继续。",
                 f"rows[{n - 1}].province", provinces[-1], destination)

    for i in range(1, len(rows)):
        a, b = rows[i - 1].province, rows[i].province
        if not (ref.is_province(a) and ref.is_province(b)):
            continue
        if a == b:
            warn(i + 1, "SAME_PROVINCE_REPEATED",
                 f"第{i}行和第{i + 1}行是同一省份（{_name(ref, a)}），可合并为一行。",
                 f"rows[{i}].province", a)
        elif ref.link(a, b) is None:
            warn(i + 1, "PROVINCES_NOT_ADJACENT",
                 f"{_name(ref, a)}与{_name(ref, b)}不相邻，请检查是否漏填途经省份。",
                 f"rows[{i}].province", a, b)

    return RouteCheck(approving_provinces=approving_provinces(origin, rows, ref),
                      errors=tuple(errors), warnings=tuple(warnings), rows=rows)
