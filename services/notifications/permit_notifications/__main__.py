"""``python -m permit_notifications [serve|migrate]``: run the notifications service or its migrations."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import structlog

from permitkit.logging import configure_service_logging
from permitkit.migrations import upgrade
from permitkit.server import serve
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
    configure_service_logging(settings)
    if args.command == "migrate":
        upgrade(settings.database_url, MIGRATIONS)
        log.info("migrated", database=settings.database_url.rpartition("@")[2])
        return 0

    from permit_notifications.bootstrap import build

    return serve(build(settings))


if __name__ == "__main__":
    run_main(main)
