"""The gateway's OpenAPI document, generated from the same descriptors as the routes.

The structure (paths, parameters, schemas) comes from the protos; the Chinese
summaries, descriptions, tags and examples come from the catalogue modules
(docs_zh, fields_zh, examples_zh), keyed by operationId and proto field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
from google.protobuf import descriptor

from permit_gateway import docs_zh, examples_zh, fields_zh
from permit_gateway.errors import HTTP_STATUS
from permit_gateway.transcoding import Rule
from permitkit import dates

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
        props = {f.json_name: self.documented(md, f) for f in md.fields if f.name not in (exclude or set())}
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if md.full_name in fields_zh.MESSAGES:
            schema["description"] = fields_zh.MESSAGES[md.full_name]
        return schema

    def documented(self, md: descriptor.Descriptor, f: descriptor.FieldDescriptor) -> dict[str, Any]:
        """A field's schema with its Chinese description, enum value labels and examples."""
        schema = self.field(f)
        doc = fields_zh.FIELDS.get(md.full_name, {}).get(f.name)
        if doc is None:
            return schema
        text, examples = (doc, ()) if isinstance(doc, str) else (doc.text, doc.examples)
        labels = fields_zh.ENUMS.get(f.enum_type.full_name, {}) if f.enum_type is not None else {}
        if labels:
            text += "取值：" + "；".join(f"`{value}` {label}" for value, label in labels.items()) + "。"
        schema["description"] = text
        if examples:
            schema["examples"] = list(examples)
        return schema

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
            out.append(self.query_param(md, f, name))
        return out

    def query_param(self, md: descriptor.Descriptor, f: descriptor.FieldDescriptor, name: str) -> dict[str, Any]:
        """One query parameter; its description and first example move from the schema to the parameter."""
        schema = self.documented(md, f)
        param: dict[str, Any] = {"name": name, "in": "query", "required": False}
        if "description" in schema:
            param["description"] = schema.pop("description")
        if "examples" in schema:
            param["example"] = schema.pop("examples")[0]
        param["schema"] = schema
        return param


ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "integer", "description": "HTTP 状态码"},
        "status": {"type": "string", "description": "gRPC 状态名，如 INVALID_ARGUMENT"},
        "message": {"type": "string", "description": "给用户看的中文说明"},
        "reason": {"type": "string", "description": "稳定的错误原因代码，如 MATERIALS_MISSING"},
        "requestId": {"type": "string", "description": "请求编号，与响应头 x-request-id 相同"},
        "fieldViolations": {"type": "array", "description": "有误的字段；没有时为空列表", "items": {
            "type": "object", "required": ["field", "description", "reason"], "properties": {
                "field": {"type": "string"}, "description": {"type": "string"}, "reason": {"type": "string"}}}},
        "details": {"type": "array", "items": {"type": "object"}},
    }, "required": ["code", "status", "message", "reason", "requestId", "fieldViolations"]}},
}

_ERROR_CODES = {"400": "请求有误或当前状态不允许", "401": "未登录或登录已过期", "403": "无权操作",
                "404": "不存在", "408": "请求发送超时", "409": "冲突，请刷新后重试",
                "413": "请求内容过大", "429": "操作过于频繁，见 Retry-After 响应头",
                "500": "系统内部错误", "501": "功能暂未开放", "503": "服务暂时不可用", "504": "服务超时"}


def _reason_line(reason: str) -> str:
    code, text = docs_zh.REASONS.get(reason, ("", ""))
    status = HTTP_STATUS.get(grpc.StatusCode[code], 500) if code else "?"
    return f"- `{reason}`（HTTP {status}）：{text}"


def _description(d: docs_zh.Operation) -> str:
    """What it does, who may call it, the requirements it serves and its main error reasons."""
    parts = [d.does, f"**调用方**：{d.callers}"]
    if d.requirements:
        parts.append("**对应需求**：" + "；".join(f"{i} {docs_zh.REQUIREMENTS.get(i, '')}"
                                              for i in d.requirements))
    if d.errors:
        parts.append("**主要错误原因**（`error.reason`）：\n" + "\n".join(_reason_line(r) for r in d.errors))
    return "\n\n".join(parts)


def _operation_doc(op_id: str, context: str) -> dict[str, Any]:
    """summary, description, tags and x-audience of an operation; an operation missing from
    the catalogue (a test flags it) keeps its method name and its context as the tag."""
    d = docs_zh.OPERATIONS.get(op_id)
    if d is None:
        return {"tags": [context], "summary": op_id}
    return {"tags": list(d.tags), "summary": d.summary, "description": _description(d),
            "x-audience": list(d.audience)}


def _field_text(md: descriptor.Descriptor, dotted: str) -> str:
    """The catalogue text of a (nested) request field, e.g. ``application.name``."""
    head, _, rest = dotted.partition(".")
    if rest:
        nested: Any = md.fields_by_name[head].message_type
        return _field_text(nested, rest)
    doc = fields_zh.FIELDS.get(md.full_name, {}).get(head, "")
    return doc if isinstance(doc, str) else doc.text


def _path_params(r: Rule) -> list[dict[str, Any]]:
    """One parameter per ``*`` of the path template, described by the field it fills."""
    params: list[dict[str, Any]] = []
    for var, names in r.vars:
        it = iter(names)
        template = "/".join("{" + next(it) + "}" if s == "*" else s for s in var.segments)
        text = _field_text(r.method.input_type, var.field)
        params += [{"name": n, "in": "path", "required": True,
                    "description": f"{text}此参数为 `{template}` 中的 `{n}`。",
                    "schema": {"type": "string", "pattern": "^[^/:]+$"}} for n in names]
    return params


def _with_examples(target: dict[str, Any], examples: dict[str, examples_zh.Example] | None) -> None:
    if examples:
        target["examples"] = {name: ex.as_openapi() for name, ex in examples.items()}


def _named_parameter_examples(params: list[dict[str, Any]],
                              named: dict[str, dict[str, examples_zh.Example]]) -> None:
    """Named examples replace a parameter's single example (and its schema's), so that every
    example a tool reads for the parameter is one of the named ones."""
    for p in params:
        if p["name"] in named:
            p.pop("example", None)
            p["schema"] = {k: v for k, v in p["schema"].items() if k != "example"}
            _with_examples(p, named[p["name"]])


def _tags() -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The tags with their descriptions, and the tag groups: the mobile API, the officer API, common."""
    tags = [{"name": t.name, "description": t.description} for t in docs_zh.TAGS]
    groups = [{"name": g, "tags": [t.name for t in docs_zh.TAGS if t.group == g]}
              for g in (docs_zh.MOBILE_API, docs_zh.OFFICER_API, docs_zh.COMMON_API)]
    return tags, groups


def audience_document(doc: dict[str, Any], audience: str) -> dict[str, Any]:
    """The document narrowed to one audience (申请人: the mobile API, 审批人员: the officer
    API): its operations and the public ones, under that API's and the common tags."""
    group = {docs_zh.APPLICANT: docs_zh.MOBILE_API, docs_zh.OFFICER: docs_zh.OFFICER_API}[audience]
    own = {t.name for t in docs_zh.TAGS if t.group in (group, docs_zh.COMMON_API)}
    paths: dict[str, Any] = {}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if audience in op.get("x-audience", ()) or docs_zh.PUBLIC in op.get("x-audience", ()):
                paths.setdefault(path, {})[method] = {**op, "tags": [t for t in op["tags"] if t in own]}
    used = {t for ops in paths.values() for op in ops.values() for t in op["tags"]}
    groups = [{**g, "tags": [t for t in g["tags"] if t in used]} for g in doc["x-tagGroups"]]
    return {**doc, "info": {**doc["info"], "title": f"{doc['info']['title']} — {group}"}, "paths": paths,
            "tags": [t for t in doc["tags"] if t["name"] in used], "x-tagGroups": [g for g in groups if g["tags"]]}


def _upload_schema(sb: SchemaBuilder, req: descriptor.Descriptor) -> dict[str, Any]:
    """multipart/form-data of a client-streaming upload: the file plus the header message's fields."""
    header: Any = next(f for f in req.fields if f.type == FD.TYPE_MESSAGE).message_type
    props: dict[str, Any] = {"file": {"type": "string", "format": "binary",
                                      "description": "要上传的文件（图片或 PDF、DOC、DOCX 文件），不超过 1MB。"}}
    for f in header.fields:
        if f.type in (FD.TYPE_MESSAGE, FD.TYPE_BYTES) or f.is_repeated:
            continue  # not expressible as a form field
        props[f.json_name] = sb.documented(header, f)
    required = ["file", *(n for n in ("kind",) if n in props)]
    return {"type": "object", "required": required, "properties": props}


def build_openapi(rules: list[Rule], *, title: str, version: str, today: dt.date | None = None) -> dict[str, Any]:
    """The document; ``today`` anchors the examples' travel dates (default: the day it is built,
    in Asia/Shanghai, the day the services check travel dates against)."""
    today = today or dates.today()
    request_examples = examples_zh.request_examples(today)
    parameter_examples = examples_zh.parameter_examples(today)
    response_examples = examples_zh.response_examples(today)
    sb = SchemaBuilder()
    paths: dict[str, Any] = {}
    seen_ops: set[str] = set()
    for r in rules:
        if r.internal:
            continue
        req = r.method.input_type
        path_fields = {v.field.split(".")[0] for v, _ in r.vars}
        params = _path_params(r)
        op_id, n = r.method.name, 1
        while op_id in seen_ops:  # additional bindings of one RPC: GetCase, GetCase_2
            n += 1
            op_id = f"{r.method.name}_{n}"
        seen_ops.add(op_id)
        op: dict[str, Any] = {"operationId": op_id, **_operation_doc(op_id, r.context)}
        if r.client_streaming:
            op["requestBody"] = {"required": True, "content": {"multipart/form-data": {
                "schema": _upload_schema(sb, req)}}}
        elif r.body == "*":
            op["requestBody"] = {"content": {"application/json": {"schema": sb.message(req, exclude=path_fields)}}}
        elif r.body:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": sb.field(req.fields_by_name[r.body])}}}
        if "requestBody" in op:
            (media,) = op["requestBody"]["content"].values()
            _with_examples(media, request_examples.get(op_id))
        if r.body != "*" and not r.client_streaming:
            # google.api.http: every field bound to neither the path nor the body is a
            # query parameter (e.g. PATCH ...?updateMask=cargo).
            params += sb.query_params(req, path_fields | {r.body})
        _named_parameter_examples(params, parameter_examples.get(op_id, {}))
        if params:
            op["parameters"] = params
        # A download answers with the stored document's own media type.
        ok: dict[str, Any] = ({"description": "文件内容", "content": {"*/*": {"schema": {
            "type": "string", "format": "binary"}}}} if r.server_streaming else
            {"description": "成功", "content": {"application/json": {"schema": sb.ref(r.method.output_type)}}})
        if not r.server_streaming:
            _with_examples(ok["content"]["application/json"], response_examples.get(op_id))
        responses: dict[str, Any] = {"200": ok}
        for code, desc in _ERROR_CODES.items():
            responses[code] = {"description": desc, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
        op["responses"] = responses
        if not r.public:
            op["security"] = [{"bearer": []}]
        paths.setdefault(r.route_path.replace(":path}", "}"), {})[r.http_method.lower()] = op
    paths["/healthz"] = {"get": {"operationId": "Healthz", **_operation_doc("Healthz", "ops"), "responses": {
        "200": {"description": "正常", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
    tags, tag_groups = _tags()
    sb.components["Error"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": docs_zh.INFO_DESCRIPTION},
        "tags": tags,
        "x-tagGroups": tag_groups,
        "paths": paths,
        "components": {"schemas": sb.components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
