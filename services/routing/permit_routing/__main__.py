"""``python -m permit_routing [serve|migrate]``: run the routing service or its migrations."""

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

log = structlog.get_logger("permit_routing")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m permit_routing",
                                     description="The routing service (provinces, routes, history).")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate"),
                        help="serve (default): run the gRPC server; migrate: upgrade the database to head")
    args = parser.parse_args()

    from permit_routing.config import Settings

    settings = Settings.from_env(os.environ)
    configure_service_logging(settings)
    if args.command == "migrate":
        upgrade(settings.database_url, MIGRATIONS)
        log.info("migrated", database=settings.database_url.rpartition("@")[2])
        return 0

    from permit_routing.bootstrap import build

    app = build(settings)
    log.info("reference_data", data_version=app.ref.version)
    return serve(app)


if __name__ == "__main__":
    run_main(main)
