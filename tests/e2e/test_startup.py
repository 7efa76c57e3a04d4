"""Each service is its own process: a bad setting stops it at start with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from permitkit.settings import CONTEXTS

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("ctx", [*CONTEXTS, "gateway"])
def test_bad_port_setting_stops_the_process_with_one_line(ctx, tmp_path):
    var = f"PERMIT_{ctx.upper()}_GRPC_PORT" if ctx != "gateway" else "PERMIT_GATEWAY_PORT"
    env = {**os.environ, var: "not-a-port", "PERMIT_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", f"permit_{ctx}"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [f"configuration error: {var} must be an integer, got 'not-a-port'"]


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_database_url_without_psycopg_driver_is_refused(ctx, tmp_path):
    var = f"PERMIT_{ctx.upper()}_DATABASE_URL"
    env = {**os.environ, var: "postgresql://db/x", "PERMIT_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", f"permit_{ctx}"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"configuration error: {var} must use the psycopg driver: postgresql+psycopg://..."]
