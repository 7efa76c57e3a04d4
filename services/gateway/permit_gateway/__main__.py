"""``python -m permit_gateway``: serve the HTTP gateway with uvicorn."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

import uvicorn

from permit_gateway.app import create_app
from permit_gateway.config import Settings
from permitkit.logging import configure_logging
from permitkit.settings import env_bool, env_str, run_main


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
    configure_logging(json=env_bool(env, "PERMIT_LOG_JSON", True), level=env_str(env, "PERMIT_LOG_LEVEL", "INFO"),
                      service="gateway")
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                            access_log=False, timeout_graceful_shutdown=5)
    _Server(config).run()
    return 0


if __name__ == "__main__":
    run_main(main)
