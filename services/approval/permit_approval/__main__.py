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
from permitkit.logging import configure_service_logging
from permitkit.migrations import upgrade
from permitkit.server import serve
from permitkit.settings import run_main

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

log = structlog.get_logger()


def main() -> int:
    parser = argparse.ArgumentParser(prog="permit_approval")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    settings = Settings.from_env(os.environ)
    configure_service_logging(settings)
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
    return serve(build(settings))


if __name__ == "__main__":
    run_main(main)
