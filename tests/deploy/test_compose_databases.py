"""The compose stack's databases, for real: deploy/postgres/init-databases.sql
runs on a private PostgreSQL cluster (as the postgres image runs it), then
each service's `python -m permit_<ctx> migrate` runs as that service's own
role with the compose file's URL, and no role can open another's database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import yaml

from permitkit.testing import ThrowawayPostgres

from . import checks

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster() -> Iterator[int]:
    """A private cluster: the init script creates cluster-wide roles, which
    must not touch the shared server."""
    pg = ThrowawayPostgres()
    pg.start()
    try:
        yield pg.port
    finally:
        pg.stop()


@pytest.fixture(scope="module")
def initialised(cluster: int) -> int:
    sql = (checks.DEPLOY / "postgres" / "init-databases.sql").read_text(encoding="utf-8")
    # psql, as the image's entrypoint runs *.sql files (statement by statement,
    # outside a transaction: CREATE DATABASE cannot run inside one).
    out = subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(cluster),
                          "-U", "postgres", "-d", "postgres", "-q", "-f", "-"],
                         input=sql, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return cluster


def compose_url(compose: dict[str, Any], ctx: str, port: int) -> str:
    url = checks.env_of(compose["services"][ctx])[f"PERMIT_{ctx.upper()}_DATABASE_URL"]
    assert "@postgres:5432/" in url
    return url.replace("@postgres:5432/", f"@127.0.0.1:{port}/")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(checks.COMPOSE_FILE.read_text(encoding="utf-8"))


def test_every_service_migrates_its_database_as_its_own_role(initialised: int, compose: dict[str, Any]) -> None:
    """What `<ctx>-migrate` does in the stack: not as a superuser, so a
    migration needing more than database ownership fails here."""
    procs = {}
    for ctx in checks.CONTEXTS:
        env = {**checks.env_of(compose["services"][f"{ctx}-migrate"]),
               f"PERMIT_{ctx.upper()}_DATABASE_URL": compose_url(compose, ctx, initialised),
               "PATH": os.environ["PATH"], "PERMIT_LOG_JSON": "0"}
        procs[ctx] = subprocess.Popen([sys.executable, "-m", f"permit_{ctx}", "migrate"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    failures = {}
    for ctx, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        if proc.returncode != 0:
            failures[ctx] = out[-2000:]
    assert failures == {}
    for ctx in checks.CONTEXTS:
        dsn = compose_url(compose, ctx, initialised).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as conn:
            owner, tables = conn.execute(
                "SELECT current_user, count(*) FROM pg_tables WHERE schemaname = 'public' "
                "AND tableowner = current_user GROUP BY current_user").fetchone() or (None, 0)
        assert owner == ctx and tables > 1, f"{ctx}: migrations created no tables owned by {ctx}"


@pytest.mark.parametrize("ctx", checks.CONTEXTS)
def test_a_service_role_cannot_open_another_service_database(initialised: int, ctx: str) -> None:
    other = checks.CONTEXTS[(checks.CONTEXTS.index(ctx) + 1) % len(checks.CONTEXTS)]
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(f"postgresql://{ctx}@127.0.0.1:{initialised}/{other}").close()
    psycopg.connect(f"postgresql://{ctx}@127.0.0.1:{initialised}/{ctx}").close()
