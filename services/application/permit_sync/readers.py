"""Reading the PC system's export into the one document every owner service takes:
``{"accounts": [{"legacy_id", "kind", ..., "vehicles": [...], "agents": [...],
"applications": [...]}]}``, each record carrying ``_source`` (where it was read), so
the report can point the operator at the file, sheet and line.

JSON is today's export, as it is. CSV and XLSX are flat: one row per record, the
record's type given by a ``record_type`` column (``account``/``vehicle``/``agent``/
``application``, or 账户/车辆/经办人/申请) or, without that column, by the file's
name or the sheet's title (``accounts``, ``vehicles.csv``, sheet 车辆, ...). Rows of
vehicles, agents and applications name their account in ``account`` (the account's
``legacy_id``). Columns (Chinese headers are accepted too, see ``HEADERS``):

- account: legacy_id, kind (ENTERPRISE/PERSON or 企业/个人), name, uscc, id_number,
  province, legal_representative_name, legal_representative_id_number; any other
  column is kept as enterprise information (address, contact_phone, ...);
- vehicle: account, plate, type, make_model, curb_mass_kg, axles, wheelbase_mm,
  tyres, length_mm, width_mm, height_mm;
- agent: account, name, id_number, phone;
- application: account, number, state (e.g. 已发证), permit_number, permit_class,
  permit_start_date, permit_end_date, vehicles (plates separated by ; or 、),
  origin_province, destination_province, route ("130000:G4京港澳高速,S201;370000:G2"),
  start_date, end_date, multi_trip, cargo_name, cargo_weight_kg, cargo_length_mm,
  cargo_width_mm, cargo_height_mm, empty_load, agent_name, agent_id_number, agent_phone.

A row the reader cannot place (unknown type, no account, an account not in the
export) is refused here with its line; every other row goes on to the services.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TYPES = {
    "account": "account", "accounts": "account", "账户": "account", "账号": "account", "企业": "account",
    "vehicle": "vehicle", "vehicles": "vehicle", "车辆": "vehicle",
    "agent": "agent", "agents": "agent", "经办人": "agent",
    "application": "application", "applications": "application", "申请": "application",
    "permit": "application", "permits": "application", "许可": "application",
}

# Chinese headers the PC system's spreadsheets use, to the export's keys.
HEADERS = {
    "记录类型": "record_type", "类型": "record_type", "原账户编号": "legacy_id", "账户编号": "legacy_id",
    "所属账户": "account", "账户": "account", "主体类型": "kind", "名称": "name", "姓名": "name",
    "统一社会信用代码": "uscc", "身份证号码": "id_number", "身份证号": "id_number", "省份": "province",
    "地址": "address", "联系电话": "contact_phone", "电话": "phone", "手机号码": "phone",
    "法定代表人": "legal_representative_name", "法定代表人身份证号码": "legal_representative_id_number",
    "车牌号码": "plate", "车辆类型": "type", "厂牌型号": "make_model", "整备质量(kg)": "curb_mass_kg",
    "轴数": "axles", "轴距(mm)": "wheelbase_mm", "轮胎数": "tyres", "长(mm)": "length_mm",
    "宽(mm)": "width_mm", "高(mm)": "height_mm", "申请编号": "number", "状态": "state",
    "许可证编号": "permit_number", "许可类别": "permit_class", "有效期起": "permit_start_date",
    "有效期止": "permit_end_date", "车辆": "vehicles", "起运省份": "origin_province",
    "目的省份": "destination_province", "路线": "route", "通行开始日期": "start_date",
    "通行结束日期": "end_date", "多次通行": "multi_trip", "货物名称": "cargo_name",
    "货物重量(kg)": "cargo_weight_kg", "经办人姓名": "agent_name", "经办人身份证号码": "agent_id_number",
    "经办人电话": "agent_phone",
}

KINDS = {"企业": "ENTERPRISE", "法人": "ENTERPRISE", "个人": "PERSON"}
CARGO = {"cargo_name": "name", "cargo_weight_kg": "weight_kg", "cargo_length_mm": "length_mm",
         "cargo_width_mm": "width_mm", "cargo_height_mm": "height_mm", "empty_load": "empty_load"}
PASSAGE = ("origin_province", "destination_province", "start_date", "end_date", "multi_trip")
TRUE = {"1", "true", "yes", "y", "是", "true()"}


class ExportUnreadable(Exception):
    """The file as a whole cannot be read (not one bad row: the whole export)."""


@dataclass
class Rejected:
    """A row the reader refused before any service saw it."""

    source: str
    reason: str
    message: str
    field: str = ""
    record: str = ""


@dataclass
class Export:
    document: dict[str, Any]
    rejected: list[Rejected] = field(default_factory=list)


def _cell(v: Any) -> Any:
    """A spreadsheet cell as the export's JSON would hold it (None for blank)."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def _header(h: Any) -> str:
    text = str(h or "").strip().lstrip("\ufeff")
    return HEADERS.get(text, text.lower())


@dataclass
class Row:
    source: str
    values: dict[str, Any]
    default_type: str = ""


def read(path: str | Path) -> Export:
    """Read an export file (by extension: .json, .csv, .xlsx)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise ExportUnreadable(f"导出文件不存在：{p}")
    if suffix == ".json":
        return read_json(p)
    if suffix == ".csv":
        return from_rows(_csv_rows(p))
    if suffix in (".xlsx", ".xlsm"):
        return from_rows(_xlsx_rows(p))
    raise ExportUnreadable(f"不支持的文件类型：{p.name}（应为 .json、.csv 或 .xlsx）")


def read_many(paths: Iterable[str | Path]) -> Export:
    """Several CSV files of one export (accounts.csv, vehicles.csv, ...), or one file of any kind."""
    paths = [Path(p) for p in paths]
    if len(paths) == 1:
        return read(paths[0])
    if any(p.suffix.lower() == ".json" for p in paths):
        raise ExportUnreadable("JSON 导出文件只能单独导入。")
    rows: list[Row] = []
    for p in paths:
        if not p.is_file():
            raise ExportUnreadable(f"导出文件不存在：{p}")
        rows.extend(_csv_rows(p) if p.suffix.lower() == ".csv" else _xlsx_rows(p))
    return from_rows(rows)


def read_json(p: Path) -> Export:
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportUnreadable(f"{p.name} 不是有效的 JSON：{e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("accounts"), list):
        raise ExportUnreadable(f"{p.name} 缺少 accounts 列表。")
    for i, a in enumerate(doc["accounts"]):
        if not isinstance(a, dict):
            continue
        a.setdefault("_source", f"{p.name} accounts[{i}]")
        for key in ("vehicles", "agents", "applications"):
            for j, r in enumerate(a.get(key) or []):
                if isinstance(r, dict):
                    r.setdefault("_source", f"{p.name} accounts[{i}].{key}[{j}]")
    return Export(doc)


def _csv_rows(p: Path) -> Iterator[Row]:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = p.read_text(encoding="gb18030")  # what spreadsheet programs on Chinese systems save
        except UnicodeDecodeError:
            raise ExportUnreadable(f"{p.name} 的编码无法识别（应为 UTF-8 或 GB18030）。") from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [_header(h) for h in next(reader)]
    except StopIteration:
        raise ExportUnreadable(f"{p.name} 是空文件。") from None
    default = TYPES.get(p.stem.lower(), TYPES.get(p.stem, ""))
    start = reader.line_num + 1
    for values in reader:
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        yield Row(f"{p.name} 第 {line} 行", {h: _cell(v) for h, v in zip(header, values, strict=False) if h},
                  default)


def _xlsx_rows(p: Path) -> Iterator[Row]:
    try:
        import openpyxl
        book = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - a corrupt workbook fails in many ways
        raise ExportUnreadable(f"{p.name} 不是有效的 XLSX 文件：{type(e).__name__}") from None
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            try:
                header = [_header(h) for h in next(rows)]
            except StopIteration:
                continue
            default = TYPES.get(sheet.title.strip().lower(), TYPES.get(sheet.title.strip(), ""))
            for n, values in enumerate(rows, start=2):
                cells = {h: _cell(v) for h, v in zip(header, values, strict=False) if h}
                if all(v is None for v in cells.values()):
                    continue
                yield Row(f"{p.name} 工作表 {sheet.title} 第 {n} 行", cells, default)
    finally:
        book.close()


def _split(text: Any, seps: str = r"[;；,，、/\s]+") -> list[str]:
    return [x for x in re.split(seps, str(text or "")) if x]


def _route(text: Any) -> list[dict[str, Any]]:
    """"130000:G4京港澳高速,S201;370000:G2" -> route rows."""
    rows = []
    for part in _split(text, r"[;；\n]+"):
        province, _, roads = part.partition(":") if ":" in part else part.partition("：")
        rows.append({"province": province.strip(), "roads": _split(roads, r"[,，、]+")})
    return rows


def _account(v: dict[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {"_source": source, "vehicles": [], "agents": [], "applications": []}
    rep = {"name": v.pop("legal_representative_name", None),
           "id_number": v.pop("legal_representative_id_number", None)}
    for k, x in v.items():
        if x is not None and k not in ("record_type", "account"):
            out[k] = x
    if out.get("kind") in KINDS:
        out["kind"] = KINDS[out["kind"]]
    if any(rep.values()):
        out["legal_representative"] = {k: x for k, x in rep.items() if x}
    return out


def _application(v: dict[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {"_source": source}
    cargo = {CARGO[k]: v[k] for k in CARGO if v.get(k) is not None}
    if "empty_load" in cargo:
        cargo["empty_load"] = str(cargo["empty_load"]).lower() in TRUE
    passage: dict[str, Any] = {k: v[k] for k in PASSAGE if v.get(k) is not None}
    if "multi_trip" in passage:
        passage["multi_trip"] = str(passage["multi_trip"]).lower() in TRUE
    passage["route"] = _route(v.get("route"))
    agent = {k: v[f"agent_{k}"] for k in ("name", "id_number", "phone") if v.get(f"agent_{k}") is not None}
    skip = {"record_type", "account", "route", "vehicles", *CARGO, *PASSAGE, "agent_name", "agent_id_number",
            "agent_phone"}
    out.update({k: x for k, x in v.items() if k not in skip and x is not None})
    out["vehicles"] = _split(v.get("vehicles"))
    out["passage"] = passage
    if cargo:
        out["cargo"] = cargo
    if agent:
        out["agent"] = agent
    return out


def from_rows(rows: Iterable[Row]) -> Export:
    """Flat rows into the export document; a row that cannot be placed is rejected."""
    accounts: dict[str, dict[str, Any]] = {}
    children: list[tuple[str, Row]] = []
    rejected: list[Rejected] = []
    for row in rows:
        v = dict(row.values)
        raw_type = str(v.get("record_type") or row.default_type or "")
        kind = TYPES.get(raw_type.lower(), TYPES.get(raw_type, ""))
        if not kind:
            rejected.append(Rejected(row.source, "RECORD_TYPE_INVALID",
                                     f"记录类型不正确：{raw_type or '（空）'}，应为账户、车辆、经办人或申请。",
                                     "record_type"))
            continue
        if kind == "account":
            lid = str(v.get("legacy_id") or "").strip()
            if lid and lid in accounts:
                rejected.append(Rejected(row.source, "LEGACY_ID_DUPLICATE",
                                         f"原账户编号 {lid} 重复出现，以首次出现的为准。", "legacy_id",
                                         f"accounts/{lid}"))
                continue
            accounts[lid or f"#{len(accounts)}"] = _account(v, row.source)
        else:
            children.append((kind, row))
    for kind, row in children:
        v = dict(row.values)
        lid = str(v.get("account") or v.get("legacy_id") or "").strip()
        acc = accounts.get(lid) if lid else None
        if acc is None:
            rejected.append(Rejected(row.source, "ACCOUNT_UNKNOWN",
                                     f"所属账户 {lid} 不在导出的账户中。" if lid else "缺少所属账户（account）。",
                                     "account"))
            continue
        if kind == "vehicle":
            acc["vehicles"].append({"_source": row.source, **{k: x for k, x in v.items()
                                                               if k not in ("record_type", "account", "legacy_id")
                                                               and x is not None}})
        elif kind == "agent":
            acc["agents"].append({"_source": row.source, **{k: x for k, x in v.items()
                                                             if k not in ("record_type", "account", "legacy_id")
                                                             and x is not None}})
        else:
            acc["applications"].append(_application(v, row.source))
    return Export({"accounts": list(accounts.values())}, rejected)
