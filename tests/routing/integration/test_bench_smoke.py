"""The routing benchmark (``make bench``) still runs: a tiny history, a few calls (AP-7b, AP-7c)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_routing.py"


@pytest.mark.integration
def test_bench_reports_throughput_and_latency(make_database: Callable[[str], str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_routing", BENCH)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up
    try:
        spec.loader.exec_module(bench)
    finally:
        del sys.modules[spec.name]
    results = bench.run(size=2_000, applicants=20, texts=200, queries=50,
                        database_url=make_database("routing_bench"), configure_logs=False)
    assert set(results) == {"recognition_routes_per_s", "recognition_grpc_routes_per_s",
                            "recommend_p50_ms", "recommend_p99_ms"}
    assert all(v > 0 for v in results.values())
    out = capsys.readouterr().out
    assert "routes/s" in out and "p99" in out and "100% with a recommendation" in out
