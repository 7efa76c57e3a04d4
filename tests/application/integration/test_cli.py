"""`python -m permit_application migrate | import-legacy | seed-demo` and bad settings
(the schema checks of every service: tests/test_migrations.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.application.conftest import DEMO_EXPORT

pytestmark = pytest.mark.integration


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "permit_application", *args], capture_output=True, text=True,
                          env={**os.environ, "PERMIT_LOG_JSON": "1", **env}, timeout=120)


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = [tuple(r) for r in conn.execute(text(sql)).all()]
    engine.dispose()
    return out


def test_migrate_then_import_a_legacy_export_ID_3(make_database: Callable[[str], str], tmp_path: Path) -> None:
    url = make_database("application")
    env = {"PERMIT_APPLICATION_DATABASE_URL": url}
    assert run("migrate", **env).returncode == 0
    export = tmp_path / "export.json"
    export.write_text(json.dumps(DEMO_EXPORT, ensure_ascii=False), encoding="utf-8")
    r = run("import-legacy", str(export), **env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"parties": 1, "vehicles": 2, "agents": 1,
                                                            "applications": 0}
    assert rows(url, "SELECT party, plate_number, source FROM fleet_vehicle ORDER BY plate_number") == [
        ("parties/L1001", "冀A12345", "FLEET"), ("parties/L1001", "冀B6789挂", "FLEET")]


def test_seed_demo_is_idempotent(make_database: Callable[[str], str]) -> None:
    url = make_database("application")
    env = {"PERMIT_APPLICATION_DATABASE_URL": url}
    assert run("migrate", **env).returncode == 0
    for _ in range(2):
        r = run("seed-demo", **env)
        assert r.returncode == 0, r.stderr
    assert rows(url, "SELECT count(*) FROM fleet_vehicle") == [(2,)]
    assert rows(url, "SELECT party, agent_name FROM fleet_agent") == [("parties/L1001", "李四")]


def test_a_bad_export_is_refused_with_the_record_named(make_database: Callable[[str], str], tmp_path: Path) -> None:
    url = make_database("application")
    env = {"PERMIT_APPLICATION_DATABASE_URL": url}
    assert run("migrate", **env).returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accounts": [{"legacy_id": "L1", "vehicles": [{"plate": "ABC"}]}]}), encoding="utf-8")
    r = run("import-legacy", str(bad), **env)
    assert r.returncode == 1 and "accounts[L1].vehicles[0].plate_number" in r.stderr
    assert rows(url, "SELECT count(*) FROM fleet_vehicle") == [(0,)]


@pytest.mark.parametrize(("env", "needle"), [
    ({"PERMIT_APPLICATION_DATABASE_URL": "postgresql://x/y"}, "PERMIT_APPLICATION_DATABASE_URL"),
    ({"PERMIT_APPLICATION_GRPC_PORT": "http"}, "PERMIT_APPLICATION_GRPC_PORT"),
    ({"APPROVAL_SERVICE_ADDR": "nowhere"}, "APPROVAL_SERVICE_ADDR"),
])
def test_a_bad_setting_stops_the_service_with_one_clear_line(env: dict[str, str], needle: str) -> None:
    r = run("serve", **env)
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr
