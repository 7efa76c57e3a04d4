"""permitkit.logging: lines below the configured level cost no processing."""

from __future__ import annotations

import io
import json
import logging

import structlog

import permitkit.logging as plog


def test_a_line_below_the_level_is_dropped_before_any_processor_runs(monkeypatch) -> None:
    asked: list[int] = []

    def request_id() -> str:
        asked.append(1)
        return "req-1"

    monkeypatch.setattr(plog, "current_request_id", request_id)
    out = io.StringIO()
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        plog.configure_logging(json=True, level="WARNING", service="test", stream=out)
        log = structlog.get_logger("permitkit.test")
        log.info("rpc", method="/x")
        assert asked == [] and out.getvalue() == ""
        log.warning("slow", ms=1200)
        line = json.loads(out.getvalue())
        assert asked == [1]
        assert line["event"] == "slow" and line["request_id"] == "req-1" and line["service"] == "test"
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)
