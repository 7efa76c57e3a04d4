"""Reading the PC system's export (ID-3).

File format (JSON, UTF-8), shared with the application service's own
`import-legacy`, which keeps vehicles, agents and applications:

    {"accounts": [{"legacy_id": "L1001", "kind": "ENTERPRISE" | "PERSON",
                   "name": "...", "uscc": "..." | "id_number": "...",
                   "province": "130000", "vehicles": [...], "agents": [...],
                   "applications": [...], ...enterprise info...}]}

Identity keeps the account, its enterprise info (every key except vehicles,
agents and applications) and, for an enterprise, the ID numbers of its legal
representative and agents (only to hint them to sign in as the legal person,
ID-4). The party of an account is named `parties/{legacy_id}`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from permit_identity.services import LegacyAccountInput, LegacySyncRecord
from permitkit.errors import InvalidArgument

APPLICATION_KEYS = ("vehicles", "agents", "applications")


def _accounts(data: Any) -> list[Any]:
    accounts = data.get("accounts") if isinstance(data, dict) else None
    if not isinstance(accounts, list):
        raise InvalidArgument("导入文件缺少 accounts 列表。", reason="EXPORT_FORMAT_INVALID",
                              field="accounts")
    return accounts


def _account(raw: dict[str, Any]) -> LegacyAccountInput:
    persons: list[tuple[str, str]] = []
    rep = raw.get("legal_representative")
    if isinstance(rep, dict) and rep.get("id_number"):
        persons.append((str(rep["id_number"]), "legal_representative"))
    for agent in raw.get("agents") or []:
        if isinstance(agent, dict) and agent.get("id_number"):
            persons.append((str(agent["id_number"]), "agent"))
    info = {k: v for k, v in raw.items()
            if k not in APPLICATION_KEYS and not k.startswith("_")
            and k not in ("legacy_id", "kind", "name", "uscc", "id_number", "province")}
    return LegacyAccountInput(
        legacy_id=str(raw.get("legacy_id", "") or "").strip(), kind=str(raw.get("kind", "") or "").upper(),
        name=str(raw.get("name", "") or ""), uscc=str(raw.get("uscc", "") or ""),
        id_number=str(raw.get("id_number", "") or ""), province=str(raw.get("province", "") or ""),
        associated_id_numbers=persons, enterprise_info=info)


def parse_sync_records(data: Any) -> list[LegacySyncRecord]:
    """The accounts of an export for the sync (PC-3): one record each, a malformed
    one carrying its error instead of failing the whole export."""
    out = []
    for i, raw in enumerate(_accounts(data)):
        if not isinstance(raw, dict):
            out.append(LegacySyncRecord(f"accounts[{i}]", f"accounts[{i}]", error=InvalidArgument(
                "账户记录格式错误。", reason="EXPORT_FORMAT_INVALID", field=f"accounts[{i}]")))
            continue
        a = _account(raw)
        out.append(LegacySyncRecord(f"accounts/{a.legacy_id}" if a.legacy_id else f"accounts[{i}]",
                                    str(raw.get("_source") or f"accounts[{i}]"), account=a))
    return out


def parse_export(data: dict[str, Any]) -> list[LegacyAccountInput]:
    """The accounts of an export document, as import inputs."""
    out = []
    for i, raw in enumerate(_accounts(data)):
        if not isinstance(raw, dict):
            raise InvalidArgument("账户记录格式错误。", reason="EXPORT_FORMAT_INVALID",
                                  field=f"accounts[{i}]")
        out.append(_account(raw))
    return out


def read_export(path: str | Path) -> list[LegacyAccountInput]:
    """Parse an export file."""
    with open(path, encoding="utf-8") as f:
        return parse_export(json.load(f))


DEMO_EXPORT = Path(__file__).parent / "demo" / "legacy_export.json"
