"""Fixtures of the identity tests: a movable clock, an app on SQLite or PostgreSQL,
a real gRPC server on port 0, and helpers acting as the gateway would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from permit.documents.v1 import documents_service_pb2_grpc
from permit.events.v1 import event_sink_pb2_grpc
from permit.identity.v1 import identity_internal_pb2_grpc as igrpc
from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from permit.identity.v1 import identity_service_pb2_grpc as sgrpc
from permit_identity import services, tokens
from permit_identity.bootstrap import App, build
from permit_identity.config import Settings
from permit_identity.tickets import DEFAULT_DEV_TICKET_KEY, mint_dev_ticket
from permitkit.client import call_metadata
from permitkit.context import Principal
from permitkit.migrations import upgrade
from tests.identity.fakes import FakeDocumentService, FakeDocumentSink

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "identity" / "migrations"

# A fixed instant on a working day (Tuesday 2026-12-01 10:00 Beijing time).
START = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)

ENTERPRISE_USCC = "91130100MA0DPQ7R8A"     # legacy L1001 (demo export)
ENTERPRISE_AGENT_IDN = "130102198507151232"  # agent of L1001
LEGACY_PERSON_IDN = "130102199003075218"   # legacy L2001
NEW_PERSON_IDN = "37010219880611302X"      # no legacy account (Shandong)
NEW_USCC = "91370100MA3C5LQ011"            # no legacy account (Shandong)


@dataclass
class Clock:
    """The service clock, moved by tests (no sleeping)."""

    now: dt.datetime = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


def settings_for(url: str, **env: str) -> Settings:
    # The tests sign personas in with development tickets: switched on explicitly (SI-2).
    return Settings.from_env({"PERMIT_IDENTITY_DATABASE_URL": url, "PERMIT_LOG_JSON": "0",
                              "PERMIT_IDENTITY_DEV_SIGN_IN": "1", **env})


@dataclass
class Harness:
    """A running identity service and ways to call it as users, officers and peers."""

    app: App
    clock: Clock
    stub: sgrpc.IdentityServiceStub
    channel: grpc.Channel
    extra: dict[str, Any] = field(default_factory=dict)

    def ticket(self, channel: str, **kw: Any) -> str:
        return mint_dev_ticket(DEFAULT_DEV_TICKET_KEY, channel=channel, now=self.clock.now, **kw)

    @property
    def internal(self) -> igrpc.IdentityInternalServiceStub:
        """IdentityInternalService on the same server (peers and operators only)."""
        return igrpc.IdentityInternalServiceStub(self.channel)

    def sign_in(self, channel: str, **kw: Any) -> pb.Session:
        ch = pb.Channel.Value(f"CHANNEL_{channel}")
        return self.stub.SignIn(spb.SignInRequest(channel=ch, ticket=self.ticket(channel, **kw)))

    def sign_in_legal(self, uid: str = "app-legal-1", uscc: str = ENTERPRISE_USCC,
                      name: str = "河北冀运大件物流有限公司") -> pb.Session:
        return self.sign_in("APP", user_type="LEGAL", uid=uid, name=name, uscc=uscc)

    def sign_in_person(self, channel: str = "APP", uid: str = "p-1",
                       idn: str = NEW_PERSON_IDN, name: str = "张某", **kw: Any) -> pb.Session:
        return self.sign_in(channel, user_type="PERSON", uid=uid, name=name, id_number=idn, **kw)

    def sign_in_officer(self, login: str) -> pb.Session:
        return self.sign_in("STAFF", officer=login)

    def public_keys(self) -> dict[str, str]:
        keys = self.stub.ListPublicKeys(spb.ListPublicKeysRequest()).keys
        return {k.key_id: k.public_key_pem for k in keys}

    def claims(self, session: pb.Session) -> dict[str, Any]:
        return tokens.verify_access_token(session.access_token, self.public_keys(), now=self.clock.now)

    def md(self, session: pb.Session) -> list[tuple[str, str]]:
        """Metadata the gateway forwards after verifying the access token."""
        c = self.claims(session)
        p = Principal(subject=c["sub"], party=c.get("party"), roles=frozenset(c["roles"]),
                      province=c.get("prov"), onboarding=c.get("onb"))
        return call_metadata(p)

    @property
    def calendar(self) -> Calendar:
        return self.extra["calendar"]  # type: ignore[no-any-return]

    @property
    def documents(self) -> FakeDocumentService:
        return self.extra["documents"]  # type: ignore[no-any-return]

    def service_md(self) -> list[tuple[str, str]]:
        return call_metadata(Principal(subject="services/test", roles=frozenset({"service"})))


def seed(app: App) -> None:
    from permit_identity import legacy

    uow = app.uow
    services.import_legacy_accounts(uow(), principal=services.OPERATOR, now=app.clock(),
                                    accounts=legacy.read_export(legacy.DEMO_EXPORT))
    for login, name, province, roles in (
        ("hebei-accept", "张三", "130000", ["officer.accept", "officer.review", "officer.licence"]),
        ("shandong-licence", "鲁审", "370000", ["officer.licence", "officer.review"]),
        ("jiangsu-review", "苏审", "320000", ["officer.review"]),
        ("ministry-admin", "管理员", "110000", ["admin"]),
    ):
        services.create_officer(uow(), principal=services.OPERATOR, login=login, display_name=name,
                                province=province, roles=roles)


def start(app: App, clock: Clock) -> tuple[grpc.Server, Harness]:
    from permitkit.server import build_server

    server, port = build_server(app, host="127.0.0.1", port=0)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return server, Harness(app=app, clock=clock, stub=sgrpc.IdentityServiceStub(channel), channel=channel)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def documents_fake() -> Iterator[tuple[FakeDocumentService, int]]:
    """A stand-in documents service on a free port."""
    from permitkit.server import grpc_server as build_grpc

    fake = FakeDocumentService()
    server, port = build_grpc(domain="permit.documents", services=[
        (documents_service_pb2_grpc.add_DocumentServiceServicer_to_server, fake,
         "permit.documents.v1.DocumentService"),
        (event_sink_pb2_grpc.add_EventSinkServiceServicer_to_server, FakeDocumentSink(fake),
         "permit.events.v1.EventSinkService")], port=0)
    server.start()
    yield fake, port
    server.stop(0)


@dataclass
class Calendar:
    """Approval's real CalendarService on a migrated SQLite database: identity's
    licence due dates are counted by approval's calendar (ID-5, RV-4)."""

    port: int
    uow: Callable[[], Any]

    def load_year(self, year: int, holidays: list[dt.date], workdays: list[dt.date]) -> None:
        """What an administrator does through ``PATCH /v1/workingCalendars/{year}``."""
        from permit_approval import services as approval

        approval.update_working_calendar(
            self.uow(), principal=Principal(subject="officers/admin", roles=frozenset({"admin"})),
            name=f"workingCalendars/{year}", holidays=holidays, workdays=workdays, now=START)


@pytest.fixture
def approval_calendar(tmp_path: Path) -> Iterator[Calendar]:
    from permit_approval.calendar_api import calendar_service_spec
    from permit_approval.unit_of_work import ApprovalUnitOfWork
    from permitkit.db import make_engine, make_session_factory
    from permitkit.server import grpc_server

    url = f"sqlite:///{tmp_path / 'approval.db'}"
    upgrade(url, Path(__file__).resolve().parents[2] / "services" / "approval" / "migrations")
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def uow() -> ApprovalUnitOfWork:
        return ApprovalUnitOfWork(sessions)

    server, port = grpc_server(domain="permit.approval", services=[calendar_service_spec(uow)], port=0)
    server.start()
    yield Calendar(port, uow)
    server.stop(0)
    engine.dispose()


@pytest.fixture
def make_harness(tmp_path: Path, clock: Clock, documents_fake: tuple[FakeDocumentService, int],
                 approval_calendar: Calendar) -> Iterator[Callable[..., Harness]]:
    """``make_harness(url=None, **env)``: migrate, seed, serve; SQLite file unless a URL is given.

    Licence images are not checked against the documents service unless
    ``PERMIT_IDENTITY_VERIFY_DOCUMENTS="1"`` is passed."""
    started: list[tuple[grpc.Server, Harness]] = []
    fake, docs_port = documents_fake

    def make(url: str | None = None, **env: str) -> Harness:
        url = url or f"sqlite:///{tmp_path / f'identity-{len(started)}.db'}"
        upgrade(url, MIGRATIONS)
        env = {"DOCUMENTS_SERVICE_ADDR": f"127.0.0.1:{docs_port}",
               "APPROVAL_SERVICE_ADDR": f"127.0.0.1:{approval_calendar.port}",
               "PERMIT_IDENTITY_VERIFY_DOCUMENTS": "0", **env}
        app = build(settings_for(url, **env), clock=clock)
        seed(app)
        server, h = start(app, clock)
        h.extra["documents"] = fake
        h.extra["calendar"] = approval_calendar
        started.append((server, h))
        return h

    yield make
    for server, h in started:
        h.channel.close()
        server.stop(0)
        h.app.close()


@pytest.fixture
def sqlite_harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()


@pytest.fixture
def pg_harness(make_harness: Callable[..., Harness], make_database: Callable[[str], str]) -> Harness:
    return make_harness(make_database("identity"))


def error_of(e: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    from permitkit.errors import ErrorDetails

    d = ErrorDetails.from_rpc_error(e)
    return d.code, d.reason


@pytest.fixture(params=["postgresql", "sqlite"])
def harness(request: pytest.FixtureRequest, make_harness: Callable[..., Harness]) -> Harness:
    """The service on PostgreSQL (production, CI) and on the embedded SQLite default."""
    if request.param == "postgresql":
        make_database = request.getfixturevalue("make_database")
        return make_harness(make_database("identity"))
    return make_harness()
