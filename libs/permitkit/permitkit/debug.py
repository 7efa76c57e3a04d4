"""Diagnostics an operator switches on for one service: memory snapshots and thread stacks.

- ``SIGUSR1`` (always on): the stack of every thread goes to stderr (:mod:`faulthandler`),
  for a process that seems stuck.
- ``PERMIT_<CONTEXT>_DEBUG_TRACEMALLOC=<dir>`` (off by default; it slows every allocation):
  :mod:`tracemalloc` traces the process from the start of serving, and each ``SIGUSR2``
  writes ``<dir>/<context>-<pid>-<n>.snapshot`` (a :class:`tracemalloc.Snapshot`) and
  ``<dir>/<context>-<pid>-<n>.json`` (resident memory, what tracemalloc holds, and glibc's
  heap figures). Two snapshots compared (``python -m permitkit.debug A B``) tell live
  Python objects that grew from memory the allocator keeps but nobody uses.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import faulthandler
import json
import os
import signal
import sys
import threading
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("permitkit.debug")

_FRAMES = 25


def install(context: str, env: Mapping[str, str]) -> Path | None:
    """Called by the server once per process (main thread); returns the snapshot folder if on."""
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    folder = env.get(f"PERMIT_{context.upper()}_DEBUG_TRACEMALLOC", "")
    if not folder:
        return None
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(_FRAMES)
    count = [0]

    def on_signal(_signum: int, _frame: Any) -> None:
        count[0] += 1
        # Off the signal handler: a snapshot of a busy process takes a moment.
        threading.Thread(target=write_snapshot, args=(out, context, count[0]), daemon=True,
                         name="tracemalloc-snapshot").start()

    signal.signal(signal.SIGUSR2, on_signal)
    log.warning("tracemalloc_on", context=context, folder=str(out))
    return out


def write_snapshot(folder: Path, context: str, n: int) -> Path:
    stem = folder / f"{context}-{os.getpid()}-{n}"
    snap = tracemalloc.take_snapshot()
    snap.dump(str(stem) + ".snapshot.part")
    os.replace(str(stem) + ".snapshot.part", str(stem) + ".snapshot")
    current, peak = tracemalloc.get_traced_memory()
    figures = {"time": time.time(), "rss_kib": rss_kib(), "traced_bytes": current, "traced_peak_bytes": peak,
               "threads": sorted(t.name for t in threading.enumerate()), **malloc_figures()}
    part = Path(str(stem) + ".json.part")
    part.write_text(json.dumps(figures, indent=1))
    os.replace(part, str(stem) + ".json")
    return stem


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]


def malloc_figures() -> dict[str, int]:
    """glibc's heap: bytes in use by malloc's callers, free bytes it keeps, mmapped blocks."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.mallinfo2
    except (OSError, AttributeError):
        return {}
    fn.restype = _MallInfo2
    info = fn()
    return {"malloc_arena_bytes": info.arena, "malloc_in_use_bytes": info.uordblks,
            "malloc_free_bytes": info.fordblks, "malloc_mmapped_bytes": info.hblkhd}


def compare(first: str, second: str, top: int = 25) -> str:
    """The lines that grew most between two snapshots (``*.snapshot`` paths), with the figures."""
    a = tracemalloc.Snapshot.load(first)
    b = tracemalloc.Snapshot.load(second)
    lines = []
    for path in (first, second):
        meta = Path(path.removesuffix(".snapshot") + ".json")
        if meta.exists():
            lines.append(f"{Path(path).name}: {meta.read_text()}")
    stats = b.compare_to(a, "traceback")
    total = sum(s.size_diff for s in stats)
    lines.append(f"traced growth {total / 1024:+.1f} KiB in {sum(s.count_diff for s in stats):+d} blocks")
    for s in stats[:top]:
        lines.append(f"{s.size_diff / 1024:+9.1f} KiB {s.count_diff:+7d} blocks")
        lines.extend("      " + line for line in s.traceback.format(limit=8))
    return "\n".join(lines)


if __name__ == "__main__":
    print(compare(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 25))
