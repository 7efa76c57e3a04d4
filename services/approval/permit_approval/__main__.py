"""Entry point: ``python -m permit_approval [serve|migrate]`` (serve is the default)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import structlog

from permit_approval.bootstrap import build
from permit_approval.certificate.fonts import FontMissing, find_font
from permit_approval.config import Settings
from permit_approval.server import build_server
from permitkit.logging import configure_logging
from permitkit.migrations import upgrade
from permitkit.server import serve_until_signal
from permitkit.settings import run_main

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

log = structlog.get_logger()


def main() -> int:
    parser = argparse.ArgumentParser(prog="permit_approval")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    settings = Settings.from_env(os.environ)
    configure_logging(json=settings.log_json, level=settings.log_level, service="approval")
    if args.command == "migrate":
        upgrade(settings.database_url, MIGRATIONS)
        log.info("migrated", database=settings.database_url.split("@")[-1])
        return 0
    try:
        find_font()  # CT-1: certificates must show Chinese, not empty boxes
    except FontMissing as e:
        log.error("certificate_font_missing", error=str(e))
        print(f"permit_approval: {e}", file=sys.stderr)
        return 1
    app = build(settings)
    try:
        server, port = build_server(app)
    except OSError as e:
        log.error("bind_failed", error=str(e))
        app.close()
        return 1
    app.relay.start()
    if app.certificate_worker is not None:
        app.certificate_worker.start()
    log.info("serving", host=settings.grpc_host, port=port)
    try:
        serve_until_signal(server, on_stop=app.relay.stop)
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    run_main(main)
