"""Reading the PC system's export (PC-3): CSV and XLSX rows into the export document,
with the file, sheet and line of every record, and rows that cannot be placed refused
by line (unit: the reader alone, no services)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from permit_sync import readers


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_rows_keep_their_line_numbers_across_a_quoted_line_break_PC_3(tmp_path: Path) -> None:
    p = _write(tmp_path / "export.csv",
               "record_type,legacy_id,name,kind,uscc,address,account,plate,axles\n"
               'account,L1,"河北某某\n运输公司",企业,91130100MA0DPQ7R8A,石家庄,,,\n'
               "vehicle,,,,,,L1,冀A12345,3\n"
               "\n"
               "vehicle,,,,,,L9,冀A54321,3\n")
    export = readers.read(p)
    [acc] = export.document["accounts"]
    assert (acc["legacy_id"], acc["kind"], acc["_source"]) == ("L1", "ENTERPRISE", "export.csv 第 2 行")
    assert acc["name"] == "河北某某\n运输公司"
    assert [(v["plate"], v["axles"], v["_source"]) for v in acc["vehicles"]] == [("冀A12345", "3", "export.csv 第 4 行")]
    assert [(r.source, r.reason) for r in export.rejected] == [("export.csv 第 6 行", "ACCOUNT_UNKNOWN")]


def test_one_csv_file_per_record_type_with_chinese_headers_in_gb18030_PC_3(tmp_path: Path) -> None:
    accounts = _write(tmp_path / "账户.csv", "原账户编号,名称,主体类型,身份证号码\nL2,王五,个人,130102199003075218\n",
                      "gb18030")
    apps = _write(tmp_path / "applications.csv",
                  "所属账户,申请编号,状态,车辆,路线,有效期起,多次通行,货物名称,货物重量(kg)\n"
                  "L2,A1,已发证,冀A12345；冀B6789挂,\"130000:G4,G1811;370000:G2\",2026-12-01,是,风电机舱,20000\n")
    export = readers.read_many([accounts, apps])
    [acc] = export.document["accounts"]
    assert (acc["kind"], acc["id_number"]) == ("PERSON", "130102199003075218")
    [app] = acc["applications"]
    assert app["vehicles"] == ["冀A12345", "冀B6789挂"]
    assert app["passage"]["route"] == [{"province": "130000", "roads": ["G4", "G1811"]},
                                       {"province": "370000", "roads": ["G2"]}]
    assert app["passage"]["multi_trip"] is True and app["permit_start_date"] == "2026-12-01"
    assert app["cargo"] == {"name": "风电机舱", "weight_kg": "20000"}
    assert app["_source"] == "applications.csv 第 2 行"


def test_xlsx_sheets_by_title_with_numbers_and_dates_as_cells_PC_3(tmp_path: Path) -> None:
    import openpyxl
    book = openpyxl.Workbook()
    book.active.title = "账户"
    book.active.append(["legacy_id", "kind", "name", "uscc"])
    book.active.append(["L3", "ENTERPRISE", "某公司", "91130100MA0DPQ7R8A"])
    v = book.create_sheet("车辆")
    v.append(["account", "plate", "curb_mass_kg"])
    v.append(["L3", "冀A12345", 8800.0])
    v.append([None, None, None])
    v.append(["L3", None, None])
    a = book.create_sheet("申请")
    a.append(["account", "number", "permit_end_date"])
    a.append(["L3", "A9", dt.datetime(2026, 12, 31)])
    notes = book.create_sheet("说明")
    notes.append(["说明"])
    notes.append(["本文件由电脑端系统导出"])
    path = tmp_path / "export.xlsx"
    book.save(path)

    export = readers.read(path)
    [acc] = export.document["accounts"]
    first, second = acc["vehicles"]
    assert (first["plate"], first["curb_mass_kg"], first["_source"]) == ("冀A12345", 8800, "export.xlsx 工作表 车辆 第 2 行")
    assert second == {"_source": "export.xlsx 工作表 车辆 第 4 行"}  # blank row 3 skipped; the services refuse row 4
    assert acc["applications"][0]["permit_end_date"] == "2026-12-31"
    assert [(r.source, r.reason) for r in export.rejected] == [("export.xlsx 工作表 说明 第 2 行",
                                                                "RECORD_TYPE_INVALID")]


def test_an_unreadable_file_is_refused_as_a_whole_PC_3(tmp_path: Path) -> None:
    with pytest.raises(readers.ExportUnreadable, match="不支持"):
        readers.read(_write(tmp_path / "export.txt", "x"))
    with pytest.raises(readers.ExportUnreadable, match="JSON"):
        readers.read(_write(tmp_path / "export.json", "{"))
    with pytest.raises(readers.ExportUnreadable, match="XLSX"):
        readers.read(_write(tmp_path / "export.xlsx", "not a zip"))
