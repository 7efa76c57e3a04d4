"""Templates as data and the webhook signature (MS-1, MS-3)."""

from __future__ import annotations

import time

import pytest

from permit_notifications import channels, templates
from permit_notifications.handlers import check_templates


def test_every_kind_has_a_chinese_template_MS_1() -> None:
    check_templates()
    for t in templates.load_templates().values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in t.title + t.body), t.kind


def test_render_fills_the_reason_and_leaves_no_placeholder_MS_1() -> None:
    out = templates.render("RETURNED", {"number": "DJ2026120600001", "reason": "车辆照片不清晰"})
    assert "DJ2026120600001" in out.body and "车辆照片不清晰" in out.body
    assert "{" not in out.body and "补正只能提交" in out.body


def test_missing_optional_part_leaves_no_dangling_punctuation() -> None:
    out = templates.render("PERMIT_ABOLISHED", {"number": "DJ1", "permit_number": "冀001", "reason": ""})
    assert "。。" not in out.body and out.body.endswith("。")


def test_signature_verifies_and_detects_tampering_MS_3() -> None:
    body = b'{"kind":"RETURNED"}'
    ts = str(int(time.time()))
    headers = {channels.TIMESTAMP_HEADER: ts, channels.SIGNATURE_HEADER: channels.sign("s3cret", ts, body)}
    assert channels.verify("s3cret", headers, body)
    assert not channels.verify("other", headers, body)
    assert not channels.verify("s3cret", headers, body + b" ")


def test_old_timestamp_is_refused_MS_3() -> None:
    body = b"{}"
    ts = str(int(time.time()) - 3600)
    headers = {channels.TIMESTAMP_HEADER: ts, channels.SIGNATURE_HEADER: channels.sign("k", ts, body)}
    assert not channels.verify("k", headers, body)


@pytest.mark.parametrize("url,reason", [
    ("ftp://example.com/x", "WEBHOOK_URL_INVALID"),
    ("http://example.com/hook", "WEBHOOK_URL_NOT_HTTPS"),
    ("https://user:pw@example.com/hook", "WEBHOOK_URL_INVALID"),
    ("http://127.0.0.1:9/hook", "WEBHOOK_URL_NOT_HTTPS"),
])
def test_webhook_url_must_be_https_MS_3(url: str, reason: str) -> None:
    from permit_notifications.services import check_webhook_url
    from permitkit.errors import PermitError

    with pytest.raises(PermitError) as e:
        check_webhook_url(url, allow_http_loopback=False)
    assert e.value.reason == reason and e.value.field == "webhook.url"


def test_loopback_http_only_when_allowed() -> None:
    from permit_notifications.services import check_webhook_url

    assert check_webhook_url("http://127.0.0.1:9/hook", allow_http_loopback=True) == "http://127.0.0.1:9/hook"
    assert check_webhook_url("https://erp.example.com/permits", allow_http_loopback=False)
