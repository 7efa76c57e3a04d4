"""Every requirement maps to at least one RPC that exists in the contracts."""

from __future__ import annotations

import re
from pathlib import Path

from permit_gateway.transcoding import load_service_modules

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _catalogue_ids() -> list[str]:
    text = (DOCS / "requirements.md").read_text(encoding="utf-8")
    return re.findall(r"^\s*- ((?:ID|AP|PQ|RV)-\d+[a-z]?)\b", text, re.M)


def _map() -> dict[str, list[str]]:
    rows = re.findall(r"^\| ((?:ID|AP|PQ|RV)-\d+[a-z]?) \| (.+?) \|$",
                      (DOCS / "requirements-map.md").read_text(encoding="utf-8"), re.M)
    return {rid: [r.strip() for r in rpcs.split(",")] for rid, rpcs in rows}


def test_every_requirement_has_rpcs():
    ids = _catalogue_ids()
    assert len(ids) >= 35
    missing = [i for i in ids if i not in _map()]
    assert not missing, f"requirements without an RPC in docs/requirements-map.md: {missing}"


def test_every_mapped_rpc_exists():
    """Public and internal RPCs (``Service.Method``) and integration events (full message names)."""
    import importlib

    internal = [importlib.import_module(f"permit.{c}.v1.{c}_internal_pb2") for c in ("application", "identity")]
    events = [importlib.import_module(f"permit.{c}.v1.events_pb2") for c in ("application", "approval", "identity")]
    known = {f"{s.name}.{m.name}" for mod in [*load_service_modules(), *internal]
             for s in mod.DESCRIPTOR.services_by_name.values() for m in s.methods}
    known |= {m.full_name for mod in events for m in mod.DESCRIPTOR.message_types_by_name.values()}
    unknown = sorted({r for rpcs in _map().values() for r in rpcs} - known)
    assert not unknown, unknown
