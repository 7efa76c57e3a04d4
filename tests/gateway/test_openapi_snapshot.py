"""The web pages' API types are generated from web/openapi.json: it must be the document
the gateway serves today (UI-1). Refresh with ``make openapi-snapshot``."""

from __future__ import annotations

import json
from pathlib import Path

from dump_openapi import render

SNAPSHOT = Path(__file__).resolve().parents[2] / "web" / "openapi.json"


def test_the_web_pages_openapi_snapshot_is_the_gateways_current_document_UI_1() -> None:
    current = json.loads(render())
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert committed == current, "web/openapi.json is stale: run `make openapi-snapshot` and commit it"
