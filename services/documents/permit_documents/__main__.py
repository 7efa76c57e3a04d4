"""``python -m permit_documents [serve|migrate|sweep]``: run the documents service."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import structlog

from permit_documents import bootstrap, services
from permit_documents.config import Settings
from permitkit.logging import configure_service_logging
from permitkit.migrations import upgrade
from permitkit.server import serve
from permitkit.settings import environ, run_main

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

log = structlog.get_logger("permit_documents")


def main() -> int:
    parser = argparse.ArgumentParser(prog="permit_documents", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate", "sweep"),
                        help="serve (default): run the gRPC server; migrate: Alembic to head; "
                             "sweep: remove unreferenced blobs once")
    args = parser.parse_args()
    settings = Settings.from_env(environ())
    configure_service_logging(settings)
    if args.command == "migrate":
        upgrade(settings.database_url, MIGRATIONS)
        log.info("migrated", service="documents")
        return 0
    app = bootstrap.build(settings)
    if args.command == "sweep":
        try:
            removed = services.sweep_unreferenced_blobs(
                app.uow_factory(), app.store,
                grace=dt.timedelta(seconds=settings.sweep_grace_seconds))
        finally:
            app.close()
        print(f"removed {len(removed)} unreferenced blob(s)")
        return 0
    log.info("storage", storage="s3" if settings.s3 else "folder")
    return serve(app)


if __name__ == "__main__":
    run_main(main)
