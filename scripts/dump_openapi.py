"""Write the gateway's OpenAPI document (as served at /openapi.json) to a file.

``python scripts/dump_openapi.py web/openapi.json``: the web pages' API types are
generated from this snapshot (``npm --prefix web run gen:api``); a test keeps it current.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

# The day the snapshot's example dates are anchored to: the snapshot changes only with the API.
SNAPSHOT_DAY = dt.date(2026, 12, 6)


def document() -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from permit_gateway.app import create_app
    from permit_gateway.config import Settings

    # No lifespan: nothing connects to the services, only the document is read.
    client = TestClient(create_app(Settings.from_env({}), examples_day=SNAPSHOT_DAY))
    resp = client.get("/openapi.json")
    resp.raise_for_status()
    return resp.json()  # type: ignore[no-any-return]


def render() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "web/openapi.json"
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
