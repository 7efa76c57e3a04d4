"""`python -m permit_application [serve|migrate|import-legacy FILE|seed-demo]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import structlog

from permit_application.bootstrap import MIGRATIONS, build
from permit_application.config import Settings
from permitkit.logging import configure_service_logging
from permitkit.migrations import upgrade
from permitkit.server import serve
from permitkit.settings import SettingsError, environ, run_main

# The identity engineer's demo export (same file the identity service seeds from).
DEMO_EXPORT = (Path(__file__).resolve().parents[2] / "identity" / "permit_identity" / "demo"
               / "legacy_export.json")

log = structlog.get_logger()


def _import(settings: Settings, path: Path) -> int:
    from permit_application import services as svc
    from permit_application.errors import InvalidExport

    try:
        export = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"legacy export not found: {path}") from None
    except json.JSONDecodeError as e:
        raise SettingsError(f"legacy export is not valid JSON: {path}: {e}") from None
    app = build(settings, subscriptions=[], use_routing=False, use_documents=False)
    try:
        counts = svc.import_legacy_records(app.uow_factory(), export=export, check_caller=False)
    except InvalidExport as e:
        print(f"import failed: {e.message} ({e.field or ''})", file=sys.stderr)
        return 1
    finally:
        app.close()
    print(json.dumps({"parties": counts.parties, "vehicles": counts.vehicles, "agents": counts.agents,
                      "applications": counts.applications}, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="permit_application", description="The application service.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve gRPC (default)")
    sub.add_parser("migrate", help="run the Alembic migrations to head and exit")
    imp = sub.add_parser("import-legacy", help="import a legacy PC-system export (JSON)")
    imp.add_argument("file", type=Path)
    sub.add_parser("seed-demo", help="import the demo legacy export (idempotent)")
    args = parser.parse_args(argv)

    settings = Settings.from_env(environ())
    configure_service_logging(settings)
    if args.command == "migrate":
        upgrade(settings.database_url, MIGRATIONS)
        log.info("migrated", url=settings.database_url.split("@")[-1])
        return 0
    if args.command == "import-legacy":
        return _import(settings, args.file)
    if args.command == "seed-demo":
        # Images without the identity sources can point at a copy of the file.
        return _import(settings, Path(environ().get("PERMIT_APPLICATION_DEMO_EXPORT") or DEMO_EXPORT))
    return serve(build(settings))


if __name__ == "__main__":
    run_main(main)
