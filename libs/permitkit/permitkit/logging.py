"""structlog JSON logging with the request id in every line; stdlib logs go the same way."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

from permitkit.context import current_request_id
from permitkit.settings import ServiceSettings


def _add_request_id(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    rid = current_request_id()
    if rid and "request_id" not in event_dict:
        event_dict["request_id"] = rid
    return event_dict


def configure_logging(*, json: bool = True, level: str = "INFO", service: str | None = None,
                      stream: TextIO | None = None) -> None:
    """Configure structlog and stdlib logging once per process."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if service:
        shared.insert(0, lambda _l, _m, ed: {**ed, "service": service})
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        # A line below the level is dropped before any processor runs (stdlib's check).
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.processors.format_exc_info,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


get_logger = structlog.get_logger


def configure_service_logging(settings: ServiceSettings) -> None:
    """Logging of a service as its validated settings ask (JSON or console, level)."""
    configure_logging(json=settings.log_json, level=settings.log_level, service=settings.context)
