"""Protobuf -> JSON object, as ``json_format.MessageToDict`` with its defaults, faster.

Every response the gateway writes goes through this; protobuf's own printer
decides per field and per value what to do, this one decides once per message
type (a plan of json name and converter for each field) and then only walks
the fields that are set. Anything out of the ordinary (well-known types other
than Timestamp, Duration and FieldMask, floats, extensions) is handed to
protobuf's printer itself, so the output is the same.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

FD = descriptor.FieldDescriptor
_printer = json_format._Printer()  # noqa: SLF001 - the reference behaviour, for the rare cases
_TO_STRING = {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
_INT64 = {FD.CPPTYPE_INT64, FD.CPPTYPE_UINT64}
_SCALAR, _REPEATED, _MAP = 0, 1, 2

Plan = dict[int, tuple[str, Callable[[Any], Any], int, Callable[[Any], str] | None]]
_plans: dict[descriptor.Descriptor, Plan] = {}


def message_to_dict(message: Message) -> Any:
    """The JSON object of ``message`` (what ``json_format.MessageToDict(message)`` returns)."""
    if message.DESCRIPTOR.full_name.startswith("google.protobuf."):
        return json_format.MessageToDict(message)
    try:
        return _message(message)
    except Exception:  # noqa: BLE001 - whatever this cannot do, protobuf's printer does
        return json_format.MessageToDict(message)


def _message(m: Message) -> Any:
    d = m.DESCRIPTOR
    plan = _plans.get(d)
    if plan is None:
        plan = _plans[d] = _plan(d)
    js: dict[str, Any] = {}
    for field, value in m.ListFields():
        entry = plan.get(field.number)
        if entry is None or field.is_extension:
            return _printer._MessageToJsonObject(m)  # noqa: SLF001
        name, conv, kind, key = entry
        if kind == _SCALAR:
            js[name] = conv(value)
        elif kind == _REPEATED:
            js[name] = [conv(v) for v in value]
        else:
            assert key is not None
            js[name] = {key(k): conv(value[k]) for k in value}
    return js


def _bool_key(k: Any) -> str:
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


def _plan(d: descriptor.Descriptor) -> Plan:
    plan: Plan = {}
    for f in d.fields:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            v_field = f.message_type.fields_by_name["value"]
            plan[f.number] = (f.json_name, _converter(v_field), _MAP, _bool_key)
        else:
            plan[f.number] = (f.json_name, _converter(f), _REPEATED if f.is_repeated else _SCALAR, None)
    return plan


def _converter(f: descriptor.FieldDescriptor) -> Callable[[Any], Any]:
    ct = f.cpp_type
    if ct == FD.CPPTYPE_MESSAGE:
        name = f.message_type.full_name
        if name in _TO_STRING:
            return lambda m: m.ToJsonString()
        if name.startswith("google.protobuf."):
            return _printer._MessageToJsonObject  # noqa: SLF001 - Any, Struct, Value, wrappers ...
        return _message
    if ct == FD.CPPTYPE_ENUM:
        # Names as protobuf's printer writes them (it knows the json options); an
        # unknown number goes to the printer (open enums: the number; closed: an error).
        names = {v.number: _printer._FieldToJsonObject(f, v.number) for v in f.enum_type.values}  # noqa: SLF001
        return lambda v: names[v] if v in names else _printer._FieldToJsonObject(f, v)  # noqa: SLF001
    if ct == FD.CPPTYPE_STRING:
        if f.type == FD.TYPE_BYTES:
            return lambda v: base64.b64encode(v).decode("utf-8")
        return str
    if ct == FD.CPPTYPE_BOOL:
        return bool
    if ct in _INT64:
        return str
    if ct in (FD.CPPTYPE_INT32, FD.CPPTYPE_UINT32):
        return int
    return lambda v: _printer._FieldToJsonObject(f, v)  # noqa: SLF001 - floats: NaN, Infinity, shortest
