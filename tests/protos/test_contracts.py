"""Contract checks on the compiled descriptors: naming, http annotations, comments, units."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor

from permit_gateway.transcoding import CONTEXTS, load_service_modules

ROOT = Path(__file__).resolve().parents[2]
MODULES = dict(zip(CONTEXTS, load_service_modules(), strict=True))
SERVICES = [(c, s) for c, m in MODULES.items() for s in m.DESCRIPTOR.services_by_name.values()]


def _methods():
    return [(c, s, m) for c, s in SERVICES for m in s.methods]


def test_every_context_has_one_v1_service():
    assert {c for c, _ in SERVICES} == set(CONTEXTS)
    for c, s in SERVICES:
        assert s.full_name.startswith(f"permit.{c}.v1."), s.full_name
        assert s.name.endswith("Service")


@pytest.mark.parametrize(("ctx", "svc", "method"), _methods(), ids=lambda x: getattr(x, "name", x))
def test_every_rpc_has_an_http_annotation(ctx, svc, method):
    opts = method.GetOptions()
    assert opts.HasExtension(annotations_pb2.http), f"{svc.name}.{method.name} has no google.api.http"
    rule = opts.Extensions[annotations_pb2.http]
    assert rule.WhichOneof("pattern") in {"get", "post", "patch", "delete", "put"}


def _all_messages():
    for mod in MODULES.values():
        pkg = mod.DESCRIPTOR.package
        for f in {mod.DESCRIPTOR, *(d for d in mod.DESCRIPTOR.dependencies if d.package == pkg)}:
            stack = list(f.message_types_by_name.values())
            while stack:
                m = stack.pop()
                stack.extend(m.nested_types)
                yield m


def test_quantities_are_integers_with_unit_suffix():
    """Masses in kg and lengths in mm, as integers end to end (AP-3)."""
    ints = {descriptor.FieldDescriptor.TYPE_INT64, descriptor.FieldDescriptor.TYPE_INT32,
            descriptor.FieldDescriptor.TYPE_UINT64, descriptor.FieldDescriptor.TYPE_UINT32}
    floats = {descriptor.FieldDescriptor.TYPE_DOUBLE, descriptor.FieldDescriptor.TYPE_FLOAT}
    checked = 0
    for m in _all_messages():
        for f in m.fields:
            assert f.type not in floats, f"{m.full_name}.{f.name} is a float: use integer kg/mm"
            if re.search(r"_(kg|mm)$", f.name):
                assert f.type in ints, f"{m.full_name}.{f.name} must be an integer"
                checked += 1
    assert checked >= 10


def test_every_rpc_comment_lists_its_errors():
    """House style: each rpc's comment names its error reasons (or says it has none)."""
    missing = []
    for path in sorted((ROOT / "protos").rglob("*_service.proto")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"((?:[ \t]*//[^\n]*\n)+)[ \t]*rpc (\w+)\(", text):
            if "Errors:" not in m.group(1) and "errors:" not in m.group(1).lower():
                missing.append(f"{path.name}:{m.group(2)}")
        uncommented = re.findall(r"\n\n[ \t]*rpc (\w+)\(", text)
        missing.extend(f"{path.name}:{n} (no comment)" for n in uncommented)
    assert not missing, missing


def test_no_proto_imports_another_context():
    """A context speaks its own messages and the shared types; of another context it may
    only use what that context publishes for others: its integration events (events.proto),
    e.g. approval showing officers the application as submitted (RV-2)."""
    for path in (ROOT / "protos/permit").rglob("*.proto"):
        ctx = path.parts[path.parts.index("permit") + 1]
        for imp in re.findall(r'^import "([^"]+)";', path.read_text(encoding="utf-8"), re.M):
            if imp.startswith("permit/"):
                assert imp.split("/")[1] in (ctx, "type", "events") or imp.endswith("/events.proto"), \
                    f"{path} imports {imp}"


def _behaviors(field) -> set[int]:
    from google.api import field_behavior_pb2

    return set(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


def _resource_modules():
    import importlib

    return [importlib.import_module(f"permit.{c}.v1.{c}_pb2") for c in CONTEXTS]


def test_every_named_resource_declares_its_type_and_pattern():
    """Resources in <ctx>.proto carry google.api.resource, and their name is the IDENTIFIER."""
    from google.api import field_behavior_pb2, resource_pb2

    found = 0
    for mod in _resource_modules():
        for msg in mod.DESCRIPTOR.message_types_by_name.values():
            res = msg.GetOptions().Extensions[resource_pb2.resource]
            if not res.type:
                continue
            found += 1
            assert res.type.endswith(f"/{msg.name}") and res.pattern, msg.full_name
            assert field_behavior_pb2.IDENTIFIER in _behaviors(msg.fields_by_name["name"]), msg.full_name
            top = res.pattern[0].split("/")[0]
            assert top[0].islower(), res.pattern
    assert found >= 10


def test_request_names_are_required_and_output_only_fields_are_marked():
    """A request's resource name is REQUIRED; a field documented "Output only" is OUTPUT_ONLY;
    a resource's create/update times are OUTPUT_ONLY (AIP-203)."""
    from google.api import field_behavior_pb2 as fb

    for mod in MODULES.values():
        for msg in mod.DESCRIPTOR.message_types_by_name.values():
            if msg.name.endswith("Request") and "name" in msg.fields_by_name:
                assert fb.REQUIRED in _behaviors(msg.fields_by_name["name"]), msg.full_name
    for path in sorted((ROOT / "protos/permit").glob("*/v1/*.proto")):
        if path.name.endswith("_service.proto"):
            continue
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"//[^\n]*[Oo]utput only[^\n]*\n\s*(?:repeated\s+)?[\w.]+ (\w+) = \d+([^;]*);", text):
            assert "OUTPUT_ONLY" in m.group(2) or "IDENTIFIER" in m.group(2), f"{path.name}: {m.group(1)}"
    for mod in _resource_modules():
        for msg in mod.DESCRIPTOR.message_types_by_name.values():
            for name in ("create_time", "update_time"):
                if name in msg.fields_by_name:
                    assert fb.OUTPUT_ONLY in _behaviors(msg.fields_by_name[name]), f"{msg.full_name}.{name}"
