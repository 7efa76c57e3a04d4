"""Sending an export to its owner services, one internal call each, and the report."""

from __future__ import annotations

import copy
import json
import os
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc

from permit_sync.readers import Export, Rejected

RESULTS = ("IMPORTED", "UPDATED", "UNCHANGED", "FLAGGED", "REFUSED")
RESULT_LABELS = {"IMPORTED": "新导入", "UPDATED": "已更新", "UNCHANGED": "无变化", "FLAGGED": "已标记（导出中已无）",
                 "REFUSED": "已拒绝"}
KINDS = ("accounts", "vehicles", "agents", "applications", "permits")
KIND_LABELS = {"accounts": "账户", "vehicles": "车辆", "agents": "经办人", "applications": "申请",
               "permits": "许可证", "rows": "行"}
DEFAULT_ADDRS = {"identity": "127.0.0.1:50051", "application": "127.0.0.1:50052", "approval": "127.0.0.1:50055"}
SUBJECT = "services/legacy-sync"


@dataclass(frozen=True)
class Line:
    """One record of the report."""

    record: str
    source: str
    result: str
    reason: str = ""
    message: str = ""
    field: str = ""
    service: str = ""

    @property
    def kind(self) -> str:
        parts = self.record.split("/")
        if len(parts) >= 3 and parts[2] in KINDS:
            return parts[2]
        return "accounts" if self.record.startswith("accounts") else "rows"


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for x in self.lines:
            out.setdefault(x.kind, dict.fromkeys(RESULTS, 0))[x.result] += 1
        return out

    def total(self, result: str) -> int:
        return sum(1 for x in self.lines if x.result == result)

    @property
    def changed_nothing(self) -> bool:
        return all(x.result == "UNCHANGED" for x in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {"totals": {r: self.total(r) for r in RESULTS}, "counts": self.counts(),
                "records": [{k: v for k, v in asdict(x).items() if v} | {"kind": x.kind} for x in self.lines]}

    def text(self) -> str:
        """The operator's report, in Chinese."""
        out = ["电脑端数据同步报告", ""]
        counts = self.counts()
        out.append(_pad("类别", 8) + "".join(_pad(RESULT_LABELS[r], 22 if r == "FLAGGED" else 10)
                                             for r in RESULTS))
        widths = [22 if r == "FLAGGED" else 10 for r in RESULTS]
        for kind in (*KINDS, "rows"):
            if kind in counts:
                out.append(_pad(KIND_LABELS[kind], 8) + "".join(_pad(str(counts[kind][r]), w)
                                                                for r, w in zip(RESULTS, widths, strict=True)))
        out.append(_pad("合计", 8) + "".join(_pad(str(self.total(r)), w) for r, w in zip(RESULTS, widths, strict=True)))
        for result in ("REFUSED", "FLAGGED", "UPDATED", "IMPORTED"):
            rows = [x for x in self.lines if x.result == result]
            if not rows:
                continue
            out += ["", f"{RESULT_LABELS[result]}（{len(rows)}）："]
            for x in rows:
                why = f" — {x.reason}：{x.message}" if x.reason or x.message else ""
                where = f"（字段 {x.field}）" if x.field else ""
                out.append(f"  {x.source or '-'}  {x.record or '-'}{why}{where}")
        if self.changed_nothing:
            out += ["", "与上次导入相比没有任何变化。"]
        return "\n".join(out)


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
    return text + " " * max(1, width - used)


def _lines(response: Any, service: str) -> list[Line]:
    from permit.type.v1 import types_pb2

    return [Line(o.record, o.source, types_pb2.LegacySyncResult.Name(o.result).removeprefix("LEGACY_SYNC_RESULT_"),
                 o.reason, o.message, o.field, service) for o in response.outcomes]


Caller = Callable[[str, bytes], Any]


def grpc_callers(addrs: Mapping[str, str], *, timeout: float = 300.0) -> tuple[dict[str, Caller], Callable[[], None]]:
    """One caller per owner service over real gRPC, as the service principal."""
    from permit.application.v1 import application_internal_pb2 as app_pb
    from permit.application.v1 import application_internal_pb2_grpc as app_grpc
    from permit.approval.v1 import approval_internal_pb2 as apr_pb
    from permit.approval.v1 import approval_internal_pb2_grpc as apr_grpc
    from permit.identity.v1 import identity_internal_pb2 as id_pb
    from permit.identity.v1 import identity_internal_pb2_grpc as id_grpc
    from permitkit.client import call_metadata, make_channel
    from permitkit.context import Principal

    principal = Principal(subject=SUBJECT, roles=frozenset({"service"}))
    channels = {name: make_channel(addrs[name]) for name in ("identity", "application", "approval")}
    identity = id_grpc.IdentityInternalServiceStub(channels["identity"])
    application = app_grpc.ApplicationInternalServiceStub(channels["application"])
    approval = apr_grpc.ApprovalInternalServiceStub(channels["approval"])

    def call(method: Any, request: Any) -> Any:
        return method(request, timeout=timeout, metadata=call_metadata(principal), wait_for_ready=True)

    callers: dict[str, Caller] = {
        "identity": lambda _n, doc: call(identity.SyncLegacyAccounts, id_pb.SyncLegacyAccountsRequest(export_json=doc)),
        "application": lambda _n, doc: call(application.SyncLegacyRecords,
                                            app_pb.SyncLegacyRecordsRequest(export_json=doc)),
        "approval": lambda _n, doc: call(approval.ImportLegacyPermits,
                                         apr_pb.ImportLegacyPermitsRequest(export_json=doc)),
    }

    def close() -> None:
        for c in channels.values():
            c.close()

    return callers, close


def addresses(env: Mapping[str, str] | None = None, **given: str | None) -> dict[str, str]:
    env = os.environ if env is None else env
    return {name: given.get(name) or env.get(f"{name.upper()}_SERVICE_ADDR") or default
            for name, default in DEFAULT_ADDRS.items()}


def _dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def run(export: Export, callers: Mapping[str, Caller]) -> Report:
    """Identity first (the accounts), then the application service for what the
    accepted accounts keep, then approval for their issued permits. A refused
    account's records are refused with it (and not flagged); a refused application
    gets no permit."""
    report = Report([_rejected(r) for r in export.rejected])
    doc = export.document
    identity = _lines(callers["identity"]("identity", _dump(doc)), "identity")
    report.lines += identity
    refused_accounts = {x.record for x in identity if x.result == "REFUSED"}
    kept, held = [], []
    for i, a in enumerate(doc["accounts"]):
        lid = str(a.get("legacy_id") or "").strip() if isinstance(a, dict) else ""
        name = f"accounts/{lid}" if lid else f"accounts[{i}]"
        if name in refused_accounts:
            if lid:
                held.append(f"{name}/")
            report.lines += _refused_with_account(a, name)
            continue
        kept.append(a)
    second = {**doc, "accounts": kept, "_held": held}
    application = _lines(callers["application"]("application", _dump(second)), "application")
    report.lines += application
    refused_apps = {x.record for x in application if x.result == "REFUSED" and "/applications/" in x.record}
    third = copy.deepcopy(second)
    for a in third["accounts"]:
        lid = str(a.get("legacy_id") or "").strip()
        keep = []
        for i, p in enumerate(a.get("applications") or []):
            number = _number(p, lid, i)
            if f"accounts/{lid}/applications/{number}" in refused_apps:
                third["_held"].append(f"accounts/{lid}/permits/{number}")
            else:
                keep.append(p)
        a["applications"] = keep
    report.lines += _lines(callers["approval"]("approval", _dump(third)), "approval")
    return report


def _number(p: Any, lid: str, i: int) -> str:
    if not isinstance(p, dict):
        return f"[{i}]"
    return str(p.get("number") or p.get("application_number") or f"LEGACY{lid}{i + 1:04d}")


def _rejected(r: Rejected) -> Line:
    return Line(r.record, r.source, "REFUSED", r.reason, r.message, r.field, "reader")


def _refused_with_account(a: Any, name: str) -> list[Line]:
    if not isinstance(a, dict):
        return []
    out = []
    for key in ("vehicles", "agents", "applications"):
        for i, r in enumerate(a.get(key) or []):
            src = str(r.get("_source") or "") if isinstance(r, dict) else ""
            out.append(Line(f"{name}/{key}[{i}]", src, "REFUSED", "ACCOUNT_REFUSED",
                            "所属账户未能导入，此记录随之未导入。", "account"))
    return out


def describe_rpc_error(e: grpc.RpcError) -> str:
    code = e.code() if hasattr(e, "code") else None
    detail = e.details() if hasattr(e, "details") else str(e)
    return f"{code.name if code else 'ERROR'}: {detail}"
