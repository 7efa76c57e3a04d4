"""Settings from the environment, validated at start: a bad one stops the
process with one clear line instead of a traceback."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTEXTS = ("identity", "application", "routing", "documents", "approval", "notifications")
DEFAULT_PORTS = {"identity": 50051, "application": 50052, "routing": 50053,
                 "documents": 50054, "approval": 50055, "notifications": 50056,
                 "gateway": 8080}


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


def env_str(env: Mapping[str, str], name: str, default: str | None = None, *,
            required: bool = False) -> str:
    value = env.get(name)
    if value is None or value == "":
        if required and default is None:
            raise SettingsError(f"{name} is required but not set")
        return default or ""
    return value


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def data_dir(env: Mapping[str, str]) -> Path:
    """Where embedded defaults keep their files (``PERMIT_DATA_DIR``, default ``./var``)."""
    return Path(env_str(env, "PERMIT_DATA_DIR", "var")).resolve()


def env_database_url(env: Mapping[str, str], context: str) -> str:
    """``PERMIT_<CTX>_DATABASE_URL``, or an embedded SQLite file when unset."""
    name = f"PERMIT_{context.upper()}_DATABASE_URL"
    url = env_str(env, name)
    if not url:
        d = data_dir(env)
        d.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{d / (context + '.db')}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        raise SettingsError(f"{name} must use the psycopg driver: postgresql+psycopg://...")
    if not (url.startswith("postgresql+psycopg://") or url.startswith("sqlite://")):
        raise SettingsError(f"{name} must be postgresql+psycopg://... or sqlite:///..., got {url.split(':')[0]}://")
    return url


def env_addr(env: Mapping[str, str], context: str) -> str:
    """``<CTX>_SERVICE_ADDR`` of a peer (default on loopback), checked as host:port."""
    name = f"{context.upper()}_SERVICE_ADDR"
    addr = env_str(env, name, f"127.0.0.1:{DEFAULT_PORTS[context]}")
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise SettingsError(f"{name} must be host:port, got {addr!r}")
    return addr


def env_grpc_bind(env: Mapping[str, str], context: str) -> tuple[str, int]:
    """``PERMIT_<CTX>_GRPC_HOST`` / ``PERMIT_<CTX>_GRPC_PORT``."""
    prefix = f"PERMIT_{context.upper()}_GRPC"
    return (env_str(env, f"{prefix}_HOST", "127.0.0.1"),
            env_int(env, f"{prefix}_PORT", DEFAULT_PORTS[context], minimum=0, maximum=65535))


def env_log_level(env: Mapping[str, str]) -> str:
    """``PERMIT_LOG_LEVEL`` (default ``INFO``), one of LOG_LEVELS, any case."""
    level = env_str(env, "PERMIT_LOG_LEVEL", "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"PERMIT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """What every service reads the same way; each ``permit_<ctx>.config.Settings``
    extends it with its own fields and builds it with ``common_settings``."""

    context: str
    database_url: str
    grpc_host: str
    grpc_port: int
    grpc_workers: int
    log_json: bool
    log_level: str
    metrics_host: str
    metrics_port: int


def common_settings(env: Mapping[str, str], context: str) -> dict[str, Any]:
    """The ServiceSettings fields of ``context``, validated (SettingsError names a bad one):
    ``PERMIT_<CTX>_DATABASE_URL``, ``PERMIT_<CTX>_GRPC_HOST|PORT|WORKERS``,
    ``PERMIT_LOG_JSON``, ``PERMIT_LOG_LEVEL``, ``PERMIT_METRICS_HOST|PORT``."""
    if context not in CONTEXTS:
        raise SettingsError(f"unknown service context {context!r}")
    host, port = env_grpc_bind(env, context)
    return {
        "context": context,
        "database_url": env_database_url(env, context),
        "grpc_host": host,
        "grpc_port": port,
        "grpc_workers": env_int(env, f"PERMIT_{context.upper()}_GRPC_WORKERS", 16, minimum=1, maximum=256),
        "log_json": env_bool(env, "PERMIT_LOG_JSON", True),
        "log_level": env_log_level(env),
        "metrics_host": env_str(env, "PERMIT_METRICS_HOST", "127.0.0.1"),
        "metrics_port": env_int(env, "PERMIT_METRICS_PORT", 0, minimum=0, maximum=65535),
    }


STOP_JOIN_SECONDS = 5.0
"""How long a stopped service waits for its own non-daemon threads before it exits without them."""


def _threads_ended(timeout: float) -> bool:
    """Join the non-daemon threads still running after ``main`` returned, for at most
    ``timeout`` seconds in all. Any left then is named, with its stack, on stderr."""
    deadline = time.monotonic() + timeout
    left = []
    for t in threading.enumerate():
        if t is threading.main_thread() or t.daemon:
            continue
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            left.append(t)
    if not left:
        return True
    frames = sys._current_frames()
    for t in left:
        stack = "".join(traceback.format_stack(frames[t.ident])) if t.ident in frames else "(no frame)\n"
        print(f"warning: thread {t.name!r} still running {timeout:.0f} s after the service stopped; "
              f"exiting without it. Its stack:\n{stack}", file=sys.stderr, end="")
    return False


def run_main(main: Callable[[], int | None]) -> None:
    """Run a CLI entry point; a SettingsError exits 2 with one line on stderr."""
    try:
        code = main()
    except SettingsError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        code = 130
    if not _threads_ended(STOP_JOIN_SECONDS):
        # Interpreter shutdown would join the thread named above for ever and the
        # orchestrator kill the process (-9): exit without it, with the code we have.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 0)
    sys.exit(code or 0)


def environ() -> Mapping[str, str]:
    return os.environ

