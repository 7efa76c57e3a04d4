"""Calendar dates as typed on a phone: say what is wrong with an impossible one."""

from __future__ import annotations

import calendar
import datetime as dt

from google.type import date_pb2

from permit_application.errors import InvalidField
from permitkit.errors import FieldViolation

_LABELS = {"start_date": "通行起始日期", "end_date": "通行截止日期"}


def date_problem(year: int, month: int, day: int) -> str:
    """Why (year, month, day) is no calendar date, in Chinese; "" when it is one."""
    if not 1 <= year <= 9999:
        return "年份不正确。"
    if not 1 <= month <= 12:
        return "月份应为1至12。"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        if day > last and month == 2 and day <= 29:
            return f"{year}年2月没有{day}日（该年2月只有{last}天）。"
        if day > last:
            return f"{month}月没有{day}日（{month}月只有{last}天）。"
        return f"日应为1至{last}。"
    return ""


def checked_date(d: date_pb2.Date, field: str) -> dt.date | None:
    """The date of a set ``google.type.Date``; an impossible one (2月30日, month 13) is
    refused naming what is wrong, instead of being taken as "not chosen"."""
    if not (d.year or d.month or d.day):
        return None
    problem = date_problem(d.year, d.month, d.day)
    if problem:
        label = _LABELS.get(field.rsplit(".", 1)[-1], "日期")
        raise InvalidField(f"{label}有误：{problem}", violations=[
            FieldViolation(field, f"{label}有误：{problem}", "DATE_INVALID")])
    return dt.date(d.year, d.month, d.day)
