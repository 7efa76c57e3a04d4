"""The gateway's OpenAPI document, generated from the same descriptors as the routes."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor

from permit_gateway.transcoding import Rule

FD = descriptor.FieldDescriptor
_SIGNED32 = {FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32}
_UNSIGNED32 = {FD.TYPE_UINT32, FD.TYPE_FIXED32}
_SIGNED64 = {FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64}
_UNSIGNED64 = {FD.TYPE_UINT64, FD.TYPE_FIXED64}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]{1,12}(\.[0-9]{1,9})?s$",
                                 "example": "1.5s"},
    # Comma-separated lowerCamel paths (proto3 JSON: no underscores).
    "google.protobuf.FieldMask": {"type": "string", "example": "cargo,vehicles",
                                  "pattern": r"^([a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*(,[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*)*)?$"},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Any": {"type": "object"},
}
# Query parameters are flattened from nested messages (``filter.state``) down to this depth.
_MAX_QUERY_DEPTH = 3


class SchemaBuilder:
    """Message descriptors -> JSON Schema components (proto3 JSON mapping)."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, md: descriptor.Descriptor) -> dict[str, Any]:
        if md.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[md.full_name])
        if md.full_name not in self.components:
            self.components[md.full_name] = {}  # placeholder breaks recursion
            self.components[md.full_name] = self.message(md)
        return {"$ref": f"#/components/schemas/{md.full_name}"}

    def message(self, md: descriptor.Descriptor, *, exclude: set[str] | None = None) -> dict[str, Any]:
        props = {f.json_name: self.field(f) for f in md.fields if f.name not in (exclude or set())}
        return {"type": "object", "properties": props}

    def scalar(self, f: descriptor.FieldDescriptor) -> dict[str, Any]:
        if f.type == FD.TYPE_MESSAGE:
            return self.ref(f.message_type)
        if f.type == FD.TYPE_ENUM:
            return {"type": "string", "enum": [v.name for v in f.enum_type.values]}
        if f.type in _SIGNED32:
            return {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
        if f.type in _UNSIGNED32:
            return {"type": "integer", "format": "int32", "minimum": 0, "maximum": 2**32 - 1}
        if f.type in _SIGNED64:
            # proto3 JSON writes 64-bit integers as decimal strings; both forms are accepted.
            return {"type": ["string", "integer"], "format": "int64", "pattern": "^-?[0-9]{1,19}$",
                    "minimum": -(2**63), "maximum": 2**63 - 1}
        if f.type in _UNSIGNED64:
            return {"type": ["string", "integer"], "format": "int64", "pattern": "^[0-9]{1,20}$",
                    "minimum": 0, "maximum": 2**64 - 1}
        if f.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
            # Non-finite values are written as the strings proto3 JSON defines for them.
            return {"anyOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}]}
        if f.type == FD.TYPE_BOOL:
            return {"type": "boolean"}
        if f.type == FD.TYPE_BYTES:
            return {"type": "string", "format": "byte"}
        return {"type": "string"}

    def field(self, f: descriptor.FieldDescriptor) -> dict[str, Any]:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value = f.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self.scalar(value)}
        if f.is_repeated:
            return {"type": "array", "items": self.scalar(f)}
        return self.scalar(f)

    def query_params(self, md: Any, exclude: set[str], prefix: str = "",
                     depth: int = 0) -> list[dict[str, Any]]:
        """Fields bound to neither path nor body, as the gateway reads them from the query
        string: scalars and repeated scalars by JSON name, nested messages flattened with dots."""
        out: list[dict[str, Any]] = []
        for f in md.fields:
            if f.name in exclude:
                continue
            name = f"{prefix}{f.json_name}"
            if f.message_type is not None and f.message_type.GetOptions().map_entry:
                continue  # maps have no query-string form; the gateway refuses them
            if f.type == FD.TYPE_MESSAGE and f.message_type.full_name not in _WELL_KNOWN:
                if f.is_repeated or depth >= _MAX_QUERY_DEPTH:
                    continue  # no query-string form either
                out += self.query_params(f.message_type, set(), f"{name}.", depth + 1)
                continue
            out.append({"name": name, "in": "query", "required": False, "schema": self.field(f)})
        return out


ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "integer"}, "status": {"type": "string"}, "message": {"type": "string"},
        "reason": {"type": "string"}, "details": {"type": "array", "items": {"type": "object"}},
    }, "required": ["code", "status", "message", "reason"]}},
}

_ERROR_CODES = {"400": "请求有误或当前状态不允许", "401": "未登录或登录已过期", "403": "无权操作",
                "404": "不存在", "409": "冲突，请刷新后重试", "429": "操作过于频繁",
                "500": "系统内部错误", "501": "功能暂未开放", "503": "服务暂时不可用", "504": "服务超时"}


def _comment(d: descriptor.MethodDescriptor) -> str:
    # Source comments are not kept in generated descriptors; the method name is the summary.
    return d.name


def _upload_schema(sb: SchemaBuilder, req: descriptor.Descriptor) -> dict[str, Any]:
    """multipart/form-data of a client-streaming upload: the file plus the header message's fields."""
    header: Any = next(f for f in req.fields if f.type == FD.TYPE_MESSAGE).message_type
    props: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    for f in header.fields:
        if f.type in (FD.TYPE_MESSAGE, FD.TYPE_BYTES) or f.is_repeated:
            continue  # not expressible as a form field
        props[f.json_name] = sb.scalar(f)
    required = ["file", *(n for n in ("kind",) if n in props)]
    return {"type": "object", "required": required, "properties": props}


def build_openapi(rules: list[Rule], *, title: str, version: str) -> dict[str, Any]:
    sb = SchemaBuilder()
    paths: dict[str, Any] = {}
    seen_ops: set[str] = set()
    for r in rules:
        if r.internal:
            continue
        req = r.method.input_type
        path_fields = {v.field.split(".")[0] for v, _ in r.vars}
        params: list[dict[str, Any]] = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/:]+$"}}
            for _, names in r.vars for n in names
        ]
        op_id, n = r.method.name, 1
        while op_id in seen_ops:  # additional bindings of one RPC: GetCase, GetCase_2
            n += 1
            op_id = f"{r.method.name}_{n}"
        seen_ops.add(op_id)
        op: dict[str, Any] = {"operationId": op_id, "tags": [r.context], "summary": _comment(r.method)}
        if r.client_streaming:
            op["requestBody"] = {"required": True, "content": {"multipart/form-data": {
                "schema": _upload_schema(sb, req)}}}
        elif r.body == "*":
            op["requestBody"] = {"content": {"application/json": {"schema": sb.message(req, exclude=path_fields)}}}
        elif r.body:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": sb.field(req.fields_by_name[r.body])}}}
        if r.body != "*" and not r.client_streaming:
            # google.api.http: every field bound to neither the path nor the body is a
            # query parameter (e.g. PATCH ...?updateMask=cargo).
            params += sb.query_params(req, path_fields | {r.body})
        if params:
            op["parameters"] = params
        # A download answers with the stored document's own media type.
        ok: dict[str, Any] = ({"description": "文件内容", "content": {"*/*": {"schema": {
            "type": "string", "format": "binary"}}}} if r.server_streaming else
            {"description": "成功", "content": {"application/json": {"schema": sb.ref(r.method.output_type)}}})
        responses: dict[str, Any] = {"200": ok}
        for code, desc in _ERROR_CODES.items():
            responses[code] = {"description": desc, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
        op["responses"] = responses
        if not r.public:
            op["security"] = [{"bearer": []}]
        paths.setdefault(r.route_path.replace(":path}", "}"), {})[r.http_method.lower()] = op
    paths["/healthz"] = {"get": {"operationId": "Healthz", "tags": ["ops"], "responses": {
        "200": {"description": "正常", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
    sb.components["Error"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": sb.components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
