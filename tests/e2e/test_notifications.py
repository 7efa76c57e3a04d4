"""Messages over HTTP against the started system: the carrier's inbox and webhook,
the officers' inbox, exactly once, and nothing lost while notifications is down
(MS-1, MS-2, MS-3)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from permit_notifications.channels import verify
from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.forms import OFFICER_OF
from tests.e2e.test_manual_3_progress import accepted, hand_filled, issued, submitted

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@dataclass
class Receiver:
    url: str = ""
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def for_number(self, number: str) -> list[tuple[dict[str, str], bytes, dict[str, object]]]:
        out = []
        for headers, body in list(self.posts):
            data = json.loads(body)
            if data.get("applicationNumber") == number:
                out.append((headers, body, data))
        return out


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            rec.posts.append(({k: v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/permit-events"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def webhook(api_as, receiver: Receiver) -> Iterator[dict]:
    carrier = api_as("carrier")
    hook = carrier.post("/v1/webhooks", {"url": receiver.url, "displayName": "调度系统"})
    assert hook["secret"].startswith("whsec_") and hook["name"].startswith("webhooks/")
    try:
        yield hook
    finally:
        carrier.call("DELETE", f"/v1/{hook['name']}")


def messages(api, number: str, kind: str | None = None) -> list[dict]:
    out = api.get("/v1/messages", params={"pageSize": 100}).get("messages", [])
    return [m for m in out if m.get("applicationNumber") == number and (kind is None or m["kind"] == kind)]


def one_message(api, number: str, kind: str) -> dict:
    found = j.wait_for(lambda: messages(api, number, f"MESSAGE_KIND_{kind}"), f"{kind} message of {number}")
    time.sleep(0.3)  # a duplicate would arrive right behind the first
    again = messages(api, number, f"MESSAGE_KIND_{kind}")
    assert len(again) == 1, again
    return found[0]


def one_post(receiver: Receiver, hook: dict, number: str, kind: str) -> dict:
    j.wait_for(lambda: [p for p in receiver.for_number(number) if p[2]["kind"] == kind],
               f"webhook POST {kind} of {number}")
    time.sleep(0.3)
    posts = [p for p in receiver.for_number(number) if p[2]["kind"] == kind]
    assert len(posts) == 1, posts
    headers, raw, data = posts[0]
    assert verify(hook["secret"], headers, raw), "the signature must verify with the webhook's secret"
    assert not verify("whsec_wrong", headers, raw)
    return data


def test_a_return_for_correction_reaches_the_inbox_and_the_webhook_once_MS_1_MS_3(api_as, receiver, webhook):
    """MS-1, MS-3: one message with the reason, one signed POST; the officer of the origin got
    the new case (MS-2); another party sees nothing of it."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = submitted(carrier, hand_filled(carrier, start_in=61))
    number = app["number"]
    new_case = one_message(hebei, number, "NEW_CASE")
    assert new_case["link"].startswith("cases/") and new_case["province"] == "130000"
    case = j.case_of(hebei, app["name"])
    hebei.post(f"/v1/{case['name']}:return", {"reason": "请补充货物照片"})
    msg = one_message(carrier, number, "RETURNED")
    assert "请补充货物照片" in msg["body"] and msg["title"] == "申请已退回补正"
    assert msg["link"] == app["name"] and not msg.get("read", False)
    post = one_post(receiver, webhook, number, "RETURNED")
    assert "请补充货物照片" in post["body"] and post["link"] == app["name"]
    assert messages(api_as("person"), number) == []
    assert messages(api_as("shandong-review"), number) == []
    log = carrier.get(f"/v1/{webhook['name']}/deliveries")["deliveries"]
    assert any(d["state"] == "DELIVERY_STATE_DELIVERED" and d["lastStatusCode"] == 200 for d in log)
    # Reading it clears one from the badge, for this user only.
    before = carrier.get("/v1/messages:unreadCount").get("unreadCount", 0)
    carrier.post(f"/v1/{msg['name']}:markRead", {})
    assert carrier.get("/v1/messages:unreadCount").get("unreadCount", 0) == before - 1
    f.refused(api_as("person").http.post(f"/v1/{msg['name']}:markRead", json={}), 404, "MESSAGE_NOT_FOUND")


def test_an_issued_permit_and_a_denial_are_told_once_each_MS_1_MS_3(api_as, receiver, webhook):
    """MS-1, MS-3: 已发证 and 不予许可 reach the inbox and the webhook; route provinces got their new cases (MS-2)."""
    carrier = api_as("carrier")
    app = hand_filled(carrier, start_in=64)
    permit = issued(api_as, app)
    number = app["number"]
    msg = one_message(carrier, number, "PERMIT_ISSUED")
    assert permit["number"] in msg["body"]
    assert one_post(receiver, webhook, number, "PERMIT_ISSUED")["kind"] == "PERMIT_ISSUED"
    one_message(api_as("shandong-review"), number, "NEW_CASE")
    one_message(api_as("carrier"), number, "ACCEPTED")

    denied_app = submitted(carrier, hand_filled(carrier, start_in=67))
    case = accepted(api_as, denied_app)
    shandong = api_as("shandong-review")
    r = shandong.http.post(f"/v1/{case['name']}/reviews/370000:decide",
                           json={"decision": "DECISION_DENY", "reason": "该时段道路施工"})
    assert r.status_code == 200, r.text
    msg = one_message(carrier, denied_app["number"], "DENIED")
    assert "该时段道路施工" in msg["body"]
    assert "该时段道路施工" in str(one_post(receiver, webhook, denied_app["number"], "DENIED")["body"])


def test_events_that_happen_while_notifications_is_down_arrive_once_when_it_is_back_MS_1(stack, api_as):
    """MS-1, MS-2: notifications stopped, three events happen (submitted -> new case, accepted,
    returned by a route province); started again, it delivers the three messages once each."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = hand_filled(carrier, start_in=70)
    stack.stop_service("notifications")
    try:
        submitted(carrier, app)
        case = j.accept(hebei, j.case_of(hebei, app["name"]))
        r = api_as("jiangsu-review").http.post(f"/v1/{case['name']}/reviews/320000:decide",
                                               json={"decision": "DECISION_RETURN", "reason": "请补充护送方案"})
        assert r.status_code == 200, r.text
        j.wait_for(lambda: carrier.get(f"/v1/{app['name']}")["state"] == "STATE_RETURNED", "退回补正")
        down = carrier.http.get("/v1/messages:unreadCount")
        assert down.status_code == 503 and "\u4e00" <= down.json()["error"]["message"][0] <= "\u9fff"
    finally:
        stack.start_service("notifications")
    # The gateway reconnects to the restarted service on its own (its channel's backoff).
    j.wait_for(lambda: carrier.http.get("/v1/messages:unreadCount").status_code == 200,
               "the gateway reaching notifications again", timeout=60)
    number = app["number"]
    one_message(hebei, number, "NEW_CASE")
    one_message(carrier, number, "ACCEPTED")
    assert "请补充护送方案" in one_message(carrier, number, "RETURNED")["body"]


def test_officers_see_their_provinces_messages_only_MS_2(api_as):
    """MS-2: a case opened in 河北 is in 河北's inbox, never in 北京's."""
    carrier = api_as("carrier")
    app = submitted(carrier, hand_filled(carrier, start_in=73))
    one_message(api_as("hebei-accept"), app["number"], "NEW_CASE")
    assert messages(api_as("beijing-review"), app["number"]) == []
    assert set(OFFICER_OF) >= {"370000"}
