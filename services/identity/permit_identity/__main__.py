"""`python -m permit_identity [serve|migrate|mint-ticket|import-legacy|create-officer|seed-demo|rotate-key]`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from permitkit.settings import SettingsError, env_str, run_main

if TYPE_CHECKING:
    from permit_identity.bootstrap import App
    from permit_identity.config import Settings

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

DEMO_OFFICERS = (
    ("hebei-accept", "张三", "130000", ("officer.accept", "officer.review", "officer.licence")),
    ("shandong-review", "鲁审核", "370000", ("officer.review",)),
    ("jiangsu-review", "苏审核", "320000", ("officer.review",)),
    ("beijing-review", "京审核", "110000", ("officer.review",)),
    ("tianjin-review", "津审核", "120000", ("officer.review",)),
    ("ministry-admin", "部级管理员", "110000", ("admin",)),
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m permit_identity", description=__doc__)
    sub = p.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve gRPC (default)")
    sub.add_parser("migrate", help="run the Alembic migrations to head and exit")

    m = sub.add_parser("mint-ticket", help="print a development platform ticket")
    m.add_argument("--channel", required=True, choices=["APP", "ALIPAY", "WECHAT", "STAFF"])
    m.add_argument("--user-type", default="PERSON", choices=["PERSON", "LEGAL"])
    m.add_argument("--uid", default="")
    m.add_argument("--name", default="")
    m.add_argument("--uscc", default=None)
    m.add_argument("--id-number", "--idn", dest="id_number", default=None)
    m.add_argument("--officer", default=None, help="officer login (STAFF)")
    m.add_argument("--ttl-seconds", type=int, default=600)
    m.add_argument("--source", default=None,
                   help="account origin; MOT_PORTAL simulates an old ministry-portal account (ID-2)")

    i = sub.add_parser("import-legacy", help="import the PC system's export (JSON)")
    i.add_argument("file")

    o = sub.add_parser("create-officer", help="provision an officer account (ID-6)")
    o.add_argument("--login", required=True)
    o.add_argument("--name", required=True)
    o.add_argument("--province", required=True)
    o.add_argument("--roles", required=True, help="comma list: officer.accept,officer.review,...")
    o.add_argument("--update", action="store_true", help="update the officer if it exists")

    sd = sub.add_parser("seed-demo", help="import the demo export and create demo officers (idempotent)")
    sd.add_argument("--officers-only", action="store_true",
                    help="only the demo officers (the demo export then goes through `python -m permit_sync`)")

    r = sub.add_parser("rotate-key", help="publish a new signing key")
    r.add_argument("--activate-after-seconds", type=int, default=None)

    return p


def _app() -> App:
    from permit_identity.bootstrap import build
    from permit_identity.config import Settings

    return build(Settings.from_env(os.environ))


def _configure_logging(settings: Settings) -> None:
    from permitkit.logging import configure_service_logging

    configure_service_logging(settings)


def serve() -> int:
    from sqlalchemy.exc import DBAPIError

    from permit_identity import services
    from permit_identity.bootstrap import build
    from permit_identity.config import Settings
    from permitkit.server import serve as serve_app

    settings = Settings.from_env(os.environ)
    settings.check_serving()
    app = build(settings)
    _configure_logging(app.settings)
    try:
        with app.uow() as uow:
            services.encrypt_stored_keys(uow, policy=app.policy)
            services.ensure_signing_key(uow, now=app.clock(), policy=app.policy)
            uow.commit()
    except DBAPIError as e:
        app.close()
        raise SettingsError("the identity database is not reachable or not migrated "
                            f"(run `python -m permit_identity migrate`): {type(e.orig).__name__}") from None
    return serve_app(app)


def migrate() -> int:
    from permit_identity.config import Settings
    from permitkit.migrations import upgrade

    settings = Settings.from_env(os.environ)
    _configure_logging(settings)
    upgrade(settings.database_url, MIGRATIONS)
    return 0


def mint_ticket(args: argparse.Namespace) -> int:
    from permit_identity.tickets import DEFAULT_DEV_TICKET_KEY, mint_dev_ticket

    key = env_str(os.environ, "PERMIT_IDENTITY_DEV_TICKET_KEY", DEFAULT_DEV_TICKET_KEY)
    if args.channel == "STAFF" and not args.officer:
        raise SettingsError("--officer is required for --channel STAFF")
    if args.channel != "STAFF" and not args.uid:
        raise SettingsError("--uid is required for user channels")
    print(mint_dev_ticket(key, channel=args.channel, user_type=args.user_type, uid=args.uid,
                          name=args.name, uscc=args.uscc, id_number=args.id_number,
                          officer=args.officer, source=args.source,
                          ttl=dt.timedelta(seconds=args.ttl_seconds)))
    return 0


def _report(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _run_use_case(fn: Callable[..., T], **kwargs: Any) -> T:
    """Run a use case as the operator; a domain error prints one line and exits 1."""
    from permitkit.errors import PermitError

    try:
        return fn(**kwargs)
    except PermitError as e:
        print(f"error: {e.reason}: {e.message}" + (f" ({e.field})" if e.field else ""), file=sys.stderr)
        raise SystemExit(1) from None


def import_legacy(path: str) -> int:
    from permit_identity import legacy, services

    app = _app()
    _configure_logging(app.settings)
    accounts = _run_use_case(legacy.read_export, path=path)
    result = _run_use_case(services.import_legacy_accounts, uow=app.uow(),
                           principal=services.OPERATOR, now=app.clock(), accounts=accounts)
    _report({"created": result.created, "updated": result.updated, "parties": result.parties})
    return 0


def create_officer(args: argparse.Namespace) -> int:
    from permit_identity import services

    app = _app()
    _configure_logging(app.settings)
    officer = _run_use_case(services.create_officer, uow=app.uow(), principal=services.OPERATOR,
                            login=args.login, display_name=args.name, province=args.province,
                            roles=[r.strip() for r in args.roles.split(",") if r.strip()],
                            exist_ok=args.update)
    _report({"officer": officer.name, "province": officer.province, "roles": officer.roles})
    return 0


def seed_demo(officers_only: bool = False) -> int:
    from permit_identity import legacy, services

    app = _app()
    _configure_logging(app.settings)
    parties: list[str] = []
    if not officers_only:
        parties = _run_use_case(services.import_legacy_accounts, uow=app.uow(),
                                principal=services.OPERATOR, now=app.clock(),
                                accounts=legacy.read_export(legacy.DEMO_EXPORT)).parties
    officers = []
    for login, name, province, roles in DEMO_OFFICERS:
        o = _run_use_case(services.create_officer, uow=app.uow(), principal=services.OPERATOR,
                          login=login, display_name=name, province=province, roles=list(roles),
                          exist_ok=True)
        officers.append(o.name)
    _report({"parties": parties, "officers": officers})
    return 0


def rotate_key(args: argparse.Namespace) -> int:
    from permit_identity import services

    app = _app()
    _configure_logging(app.settings)
    after = (dt.timedelta(seconds=args.activate_after_seconds)
             if args.activate_after_seconds is not None else None)
    key = _run_use_case(services.rotate_signing_key, uow=app.uow(), principal=services.OPERATOR,
                        now=app.clock(), policy=app.policy, activate_after=after)
    _report({"key_id": key.key_id, "activate_time": key.activate_time.isoformat()})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cmd = args.command or "serve"
    if cmd == "serve":
        return serve()
    if cmd == "migrate":
        return migrate()
    if cmd == "mint-ticket":
        return mint_ticket(args)
    if cmd == "import-legacy":
        return import_legacy(args.file)
    if cmd == "create-officer":
        return create_officer(args)
    if cmd == "seed-demo":
        return seed_demo(args.officers_only)
    if cmd == "rotate-key":
        return rotate_key(args)
    raise SettingsError(f"unknown command {cmd}")


if __name__ == "__main__":
    run_main(main)
