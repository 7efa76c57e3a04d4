"""``python -m permit_documents [serve|migrate|sweep]``: run the documents service."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import structlog

from permit_documents import bootstrap, server, services
from permit_documents.config import Settings
from permitkit.logging import configure_logging
from permitkit.migrations import upgrade
from permitkit.server import serve_until_signal
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
    configure_logging(json=settings.log_json, level=settings.log_level, service="documents")
    if args.command == "migrate":
        upgrade(settings.database_url, MIGRATIONS)
        log.info("migrated", service="documents")
        return 0
    app = bootstrap.build(settings)
    try:
        if args.command == "sweep":
            removed = services.sweep_unreferenced_blobs(
                app.uow_factory(), app.store,
                grace=dt.timedelta(seconds=settings.sweep_grace_seconds))
            print(f"removed {len(removed)} unreferenced blob(s)")
            return 0
        grpc_server, port = server.build(app)
        app.sweeper.start()
        log.info("serving", service="documents", host=settings.grpc_host, port=port,
                 storage="s3" if settings.s3 else "folder")
        serve_until_signal(grpc_server)
        return 0
    finally:
        app.close()


if __name__ == "__main__":
    run_main(main)
