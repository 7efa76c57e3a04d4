"""The permit notice (许可须知) and the server's receipt for showing it (AP-1).

The notice is served with a receipt the server signs with its own clock's time and
the party it was shown to. "我要申请" takes the receipt, never the phone's clock: a
back-dated ``notice_shown_time`` cannot shorten the 5 seconds, and a phone whose
clock runs ahead is not blocked.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from permit_application.errors import NoticeNotRead, NoticeReceiptInvalid

NOTICE_SECONDS = 5  # AP-1: the permit notice is read for at least 5 seconds
RECEIPT_VALID = dt.timedelta(hours=24)  # then the notice is shown again

NOTICE_TITLE = "许可须知"
NOTICE_TEXT = (
    "一、本服务用于办理跨省大件运输车辆通行许可（并联许可）。申请人应如实填报货物、车辆、车货总体、"
    "通行路线与日期、经办人等信息，并对所填信息和所附材料的真实性负责。\n"
    "二、提交后由起运地省份受理，途经各省份并联审批；全部同意后由起运地省份发放许可证。"
    "审批期间可查询进度，按要求补正材料或回应路线调整建议。\n"
    "三、同一车辆在同一通行期内最多可持有两件时间重叠的申请；已发证许可可申请车辆变更、延期或废止。\n"
    "四、运输时应随车携带许可证，按许可的车辆、路线和时间通行，遵守交通安全规定和护送要求。\n"
    "五、隐瞒有关情况或提供虚假材料申请的，不予受理或不予许可；以欺骗等不正当手段取得许可的，依法撤销许可并承担相应法律责任。"
)


@dataclass(frozen=True)
class Notice:
    """The notice as served: its text, the receipt and the server time it was issued."""

    title: str
    text: str
    receipt: str
    issue_time: dt.datetime
    read_seconds: int = NOTICE_SECONDS


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class NoticeSigner:
    """Signs and checks receipts; replicas that share ``key`` accept each other's."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _mac(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest()[:18])

    def serve(self, *, party: str, now: dt.datetime) -> Notice:
        """The notice with a receipt of ``now`` (the server's clock) for ``party``."""
        payload = json.dumps({"p": party, "t": int(now.timestamp() * 1000)}, separators=(",", ":")).encode()
        return Notice(NOTICE_TITLE, NOTICE_TEXT, f"{_b64(payload)}.{self._mac(payload)}", now)

    def shown_time(self, receipt: str, *, party: str) -> dt.datetime:
        """When the server served the notice to ``party``; NOTICE_RECEIPT_INVALID when the
        receipt is not one of ours or was served to another party."""
        try:
            body, mac = receipt.strip().split(".")
            payload = _unb64(body)
            if not hmac.compare_digest(mac, self._mac(payload)):
                raise ValueError("bad signature")
            data = json.loads(payload)
            if data["p"] != party:
                raise ValueError("another party")
            return dt.datetime.fromtimestamp(int(data["t"]) / 1000, tz=dt.UTC)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            raise NoticeReceiptInvalid(field="notice_receipt") from None


def check_read(shown: dt.datetime, now: dt.datetime) -> None:
    """AP-1 by the server's clock: the receipt is at least 5 s and at most a day old."""
    age = (now - shown).total_seconds()
    if age < NOTICE_SECONDS:
        raise NoticeNotRead(field="notice_receipt", metadata={
            "required_seconds": str(NOTICE_SECONDS), "shown_seconds": f"{max(age, 0):.1f}"})
    if now - shown > RECEIPT_VALID:
        raise NoticeNotRead("许可须知已过期，请重新阅读许可须知后再开始填报。", field="notice_receipt",
                            metadata={"required_seconds": str(NOTICE_SECONDS)})
