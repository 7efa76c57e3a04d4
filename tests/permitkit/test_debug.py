"""permitkit.debug: an operator's memory snapshots and thread stacks of a running service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from permitkit.debug import compare

SCRIPT = """
import sys, time
from permitkit import debug
debug.install("documents", {"PERMIT_DOCUMENTS_DEBUG_TRACEMALLOC": sys.argv[1]})
kept = []
print("ready", flush=True)
while True:
    kept.append(bytearray(64 * 1024))  # grows between two snapshots
    time.sleep(0.01)
"""


def _wait(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} not written"
        time.sleep(0.05)


def test_snapshots_on_signal_show_what_grew_and_stacks_on_another(tmp_path: Path):
    script = tmp_path / "service.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]  # the "tracemalloc_on" log line, then ready
        assert "tracemalloc_on" in lines[0] and lines[1].strip() == "ready", lines
        os.kill(proc.pid, signal.SIGUSR2)
        first = tmp_path / f"documents-{proc.pid}-1.snapshot"
        _wait(first.with_suffix(".json"))
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGUSR2)
        second = tmp_path / f"documents-{proc.pid}-2.snapshot"
        _wait(second.with_suffix(".json"))
        figures = json.loads(second.with_suffix(".json").read_text())
        assert figures["rss_kib"] > 0 and figures["traced_bytes"] > 0
        assert "MainThread" in figures["threads"]
        report = compare(str(first), str(second), top=3)
        assert "bytearray(64 * 1024)" in report  # the line that allocated the growth, first
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(0.5)
    finally:
        proc.kill()
        _, stderr = proc.communicate(timeout=10)
    assert "Current thread" in stderr or "Thread 0x" in stderr  # faulthandler's stack dump
