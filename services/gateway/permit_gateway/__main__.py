"""``python -m permit_gateway``: serve the HTTP gateway with uvicorn."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from permit_gateway.app import create_app
from permit_gateway.config import Settings
from permitkit.logging import configure_logging
from permitkit.server import settle_heap
from permitkit.settings import env_bool, env_log_level, run_main


class _Server(uvicorn.Server):
    """Drains on SIGTERM/SIGINT and then exits 0 (uvicorn would re-raise the signal)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle_exit)
        yield


def main() -> int:
    env = os.environ
    settings = Settings.from_env(env)
    configure_logging(json=env_bool(env, "PERMIT_LOG_JSON", True), level=env_log_level(env), service="gateway")
    app = create_app(settings)
    settle_heap()
    _Server(server_config(app, settings)).run()
    return 0


def server_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """How uvicorn serves the gateway (the tests serve it the same way).

    uvicorn's own proxy-header handling is off: the gateway decides which
    X-Forwarded-For hop is the client (PERMIT_GATEWAY_TRUSTED_PROXIES), and
    uvicorn would otherwise rewrite the peer address from loopback callers.
    """
    return uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                          proxy_headers=False, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    run_main(main)
