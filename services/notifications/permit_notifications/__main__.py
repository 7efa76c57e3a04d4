"""``python -m permit_notifications [serve|migrate]``: run the notifications service or its migrations."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import structlog

from permitkit.logging import configure_logging
from permitkit.migrations import upgrade
from permitkit.server import serve_until_signal
from permitkit.settings import run_main

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

log = structlog.get_logger("permit_notifications")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m permit_notifications",
                                     description="The notifications service (inboxes, webhooks, reminders).")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate"),
                        help="serve (default): run the gRPC server; migrate: upgrade the database to head")
    args = parser.parse_args()

    from permit_notifications.config import Settings

    settings = Settings.from_env(os.environ)
    configure_logging(json=settings.log_json, level=settings.log_level, service="notifications")
    if args.command == "migrate":
        upgrade(settings.database_url, MIGRATIONS)
        log.info("migrated", database=settings.database_url.rpartition("@")[2])
        return 0

    from permit_notifications.bootstrap import build
    from permit_notifications.server import make_server

    app = build(settings)
    server, port = make_server(app)
    app.start()
    log.info("notifications_serving", host=settings.grpc_host, port=port)
    serve_until_signal(server, on_stop=app.close)
    return 0


if __name__ == "__main__":
    run_main(main)
