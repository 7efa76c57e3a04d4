"""Notifications integration fixtures: a migrated PostgreSQL database, a real gRPC
server and a webhook receiver on loopback."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc
import pytest

from permit_notifications.__main__ import MIGRATIONS
from permit_notifications.bootstrap import App, build
from permit_notifications.config import Settings
from permitkit.migrations import upgrade
from permitkit.server import build_server


@pytest.fixture(scope="module")
def notifications_db(make_database: Callable[[str], str]) -> str:
    url = make_database("notifications")
    upgrade(url, MIGRATIONS)
    return url


@pytest.fixture(scope="module")
def app(notifications_db: str) -> Iterator[App]:
    settings = Settings.from_env({"PERMIT_NOTIFICATIONS_DATABASE_URL": notifications_db, "PERMIT_LOG_JSON": "0",
                                  "PERMIT_NOTIFICATIONS_WEBHOOK_ALLOW_HTTP_LOOPBACK": "1",
                                  "PERMIT_NOTIFICATIONS_DELIVERY_BASE_DELAY": "0.05",
                                  "PERMIT_NOTIFICATIONS_DELIVERY_MAX_ATTEMPTS": "3"})
    a = build(settings)
    a.start()
    yield a
    a.close()


@pytest.fixture(scope="module")
def channel(app: App) -> Iterator[grpc.Channel]:
    server, port = build_server(app, host="127.0.0.1", port=0)
    server.start()
    ch = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield ch
    finally:
        ch.close()
        server.stop(0)


@dataclass
class Receiver:
    """A webhook receiver: records each POST; answers ``status`` (a list, consumed in order)."""

    url: str = ""
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(b) for _, b in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            rec.posts.append(({k: v for k, v in self.headers.items()}, body))
            status = rec.statuses.pop(0) if rec.statuses else 204
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/permits/hook"
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
