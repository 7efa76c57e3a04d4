"""HTTP request -> gRPC request message, as google.api.http binds them: path, body, query."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

from permit_gateway.transcoding import Rule

FD = descriptor.FieldDescriptor
# Well-known types whose proto3 JSON form is not an object.
_SCALAR_JSON_TYPES = frozenset({
    "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
    "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue", "google.protobuf.Int64Value", "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value", "google.protobuf.UInt32Value", "google.protobuf.BoolValue",
    "google.protobuf.StringValue", "google.protobuf.BytesValue",
})


class NotRouted(Exception):
    """A path that matched a route's pattern but names no resource (``x:evil``, empty id)."""


class BadRequest(Exception):
    """A request the gateway cannot turn into a gRPC message."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _coerce(f: FD, raw: str) -> Any:
    if f.type == FD.TYPE_BOOL:
        low = raw.lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise BadRequest(f"参数 {f.json_name} 应为 true 或 false。", f.name)
    return raw  # json_format accepts numbers and enum names as strings


def query_to_dict(md: descriptor.Descriptor, items: list[tuple[str, str]], *,
                  label: str = "查询参数") -> dict[str, Any]:
    """``?pageSize=10&filter.state=STATE_DRAFT&tags=a&tags=b`` -> a ParseDict-ready dict."""
    out: dict[str, Any] = {}
    for key, raw in items:
        cur_md, cur = md, out
        parts = key.split(".")
        for i, part in enumerate(parts):
            f = cur_md.fields_by_name.get(part) or next(
                (x for x in cur_md.fields if x.json_name == part), None)
            if f is None:
                raise BadRequest(f"不支持的{label}：{key}", key)
            if i < len(parts) - 1:
                if f.type != FD.TYPE_MESSAGE or f.is_repeated:
                    raise BadRequest(f"不支持的{label}：{key}", key)
                nxt = cur.setdefault(f.name, {})
                if not isinstance(nxt, dict):  # ?cargo=x&cargo.name=y
                    raise BadRequest(f"{label}重复或冲突：{key}", key)
                cur, cur_md = nxt, f.message_type
                continue
            value = _coerce(f, raw)
            if f.is_repeated:
                values = cur.setdefault(f.name, [])
                if not isinstance(values, list):
                    raise BadRequest(f"{label}重复或冲突：{key}", key)
                values.append(value)
            elif isinstance(cur.get(f.name), dict):  # ?cargo.name=y&cargo=x
                raise BadRequest(f"{label}重复或冲突：{key}", key)
            else:
                cur[f.name] = value
    return out


def _set_path(d: dict[str, Any], dotted: str, value: str) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
        if not isinstance(d, dict):
            raise BadRequest(f"参数 {p} 应为 JSON 对象。", p)
    d[parts[-1]] = value


def _check_enums(msg: Any, prefix: str = "") -> None:
    """Refuse enum numbers the contract does not define.

    proto3 enums are open, so ParseDict keeps an unknown number; a service would
    store it and answer it back as a bare integer, which the API does not define.
    """
    f: Any
    for f, value in msg.ListFields():
        path = f"{prefix}{f.name}"
        if f.type == FD.TYPE_ENUM:
            for v in (value if f.is_repeated else [value]):
                if f.enum_type.values_by_number.get(v) is None:
                    raise BadRequest(f"参数 {f.json_name} 的取值无效。", path)
        elif f.type == FD.TYPE_MESSAGE:
            if f.message_type.GetOptions().map_entry:
                vf = f.message_type.fields_by_name["value"]
                if vf.type == FD.TYPE_MESSAGE:
                    for k, item in value.items():
                        _check_enums(item, f"{path}.{k}.")
                elif vf.type == FD.TYPE_ENUM:
                    for item in value.values():
                        if vf.enum_type.values_by_number.get(item) is None:
                            raise BadRequest(f"参数 {f.json_name} 的取值无效。", path)
            elif f.is_repeated:
                for i, item in enumerate(value):
                    _check_enums(item, f"{path}[{i}].")
            else:
                _check_enums(value, f"{path}.")


def _needs_object(f: FD) -> bool:
    return (f.type == FD.TYPE_MESSAGE and not f.is_repeated and f.message_type is not None
            and f.message_type.full_name not in _SCALAR_JSON_TYPES)


def build_message(rule: Rule, path_params: dict[str, str], query: list[tuple[str, str]], raw: bytes) -> Message:
    """The request message of ``rule`` from the path parameters, query string and JSON body."""
    for v in path_params.values():
        if ":" in v or not v:
            raise NotRouted(v)
    data: dict[str, Any] = {}
    if rule.body and raw.strip():
        try:
            body = json_format.json.loads(raw)  # type: ignore[attr-defined]
        except (ValueError, RecursionError):  # also invalid UTF-8 and absurd nesting
            raise BadRequest("请求内容不是有效的 JSON。") from None
        if not isinstance(body, dict) and (
                rule.body == "*" or _needs_object(rule.method.input_type.fields_by_name[rule.body])):
            raise BadRequest("请求内容应为 JSON 对象。")
        data = body if rule.body == "*" else {rule.body: body}
    if rule.body != "*":
        # Fields bound to neither the path nor the body come from the query string
        # (google.api.http), e.g. PATCH ...?updateMask=cargo with the resource as body.
        from_query = query_to_dict(rule.method.input_type, query)
        if rule.body and rule.body in from_query:
            raise BadRequest(f"参数 {rule.body} 应放在请求体中。", rule.body)
        data.update(from_query)
    for fname, value in rule.path_fields(path_params).items():
        _set_path(data, fname, value)
    msg = rule.request_class()()
    try:
        json_format.ParseDict(data, msg)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as e:
        raise parse_refusal(str(e), "请求", rule.body if rule.body != "*" else "") from None
    _check_enums(msg)
    return msg


_FAILED_FIELD = re.compile(r"Failed to parse (\w+) field: ")
_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]+)" at "([^"]+)"')


def _snake(json_name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), json_name)


def parse_refusal(text: str, what: str, body_field: str = "") -> BadRequest:
    """protobuf's English ParseError -> a Chinese refusal naming the field (``cargo.weight_kg``;
    a field path inside a ``body_field`` body is named from the body, as the client sent it)."""
    path = [_snake(f) for f in _FAILED_FIELD.findall(text)]
    if body_field and path[:1] == [body_field]:
        path = path[1:]
    if m := _UNKNOWN_FIELD.search(text):
        field = ".".join([*path, _snake(m.group(1))])
        return BadRequest(f"{what}中有不认识的字段：{m.group(1)}。", field)
    field = ".".join(path)
    if "Invalid enum value" in text:
        hint = "取值不在可选范围内"
    elif "int()" in text or "Couldn't parse integer" in text or "integer" in text.lower():
        hint = "应为整数"
    elif "expected string" in text:
        hint = "应为字符串"
    elif "true or false" in text:
        hint = "应为 true 或 false"
    elif "timestamp" in text:
        hint = "应为带时区的时间，如 2026-12-01T08:00:00Z"
    else:
        hint = "格式不正确"
    if not field:
        return BadRequest(f"{what}内容格式不正确。")
    return BadRequest(f"{what}字段 {field} 的取值有误：{hint}。", field)


def upload_header(rule: Rule, fields: list[tuple[str, str]], filename: str, content_type: str) -> Message:
    """The first message of an upload stream: its header from the form fields (and query
    parameters); the file part's own name and media type unless given as fields."""
    header_field = next(f for f in rule.method.input_type.fields if f.type == FD.TYPE_MESSAGE)
    data = query_to_dict(header_field.message_type, fields, label="上传参数")
    for name, value in (("filename", filename), ("declared_content_type", content_type)):
        if value and name in header_field.message_type.fields_by_name:
            data.setdefault(name, value)
    msg = rule.request_class()()
    try:
        json_format.ParseDict({header_field.name: data}, msg)
    except (json_format.ParseError, ValueError, TypeError) as e:
        raise parse_refusal(str(e).replace(f"Failed to parse {header_field.json_name} field: ", "", 1),
                            "上传参数") from None
    _check_enums(getattr(msg, header_field.name))  # name the form field: "kind", not "header.kind"
    return msg
