"""AP-3 quantities: tonnes/metres typed with up to three decimals <-> integer kg/mm."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A decimal number as typed on a phone keyboard: digits, one optional point.
_DECIMAL = re.compile(r"^(?P<sign>[+-]?)(?P<int>\d*)(?:\.(?P<frac>\d*))?$")


@dataclass(frozen=True)
class QuantityError(Exception):
    """Why a typed quantity is refused: a stable reason and a Chinese message."""

    reason: str
    message: str


def parse_thousandths(text: str, *, unit: str) -> int:
    """Parse "12.5" (tonnes or metres) exactly into thousandths (kg or mm).

    Refuses more than three decimals, signs, zero and non-numbers; the caller
    checks the plausible range. ``unit`` is the Chinese unit for messages.
    """
    raw = (text or "").strip().replace("，", ".").replace("。", ".")
    m = _DECIMAL.match(raw)
    if not raw or m is None or (not m.group("int") and not m.group("frac")):
        raise QuantityError("NOT_A_NUMBER", f"请输入数字（单位：{unit}）。")
    if m.group("sign") == "-":
        raise QuantityError("NEGATIVE", "数值不能为负数。")
    frac = m.group("frac") or ""
    if len(frac) > 3:
        raise QuantityError("TOO_MANY_DECIMALS", "最多保留 3 位小数。")
    whole = int(m.group("int") or "0")
    value = whole * 1000 + int((frac + "000")[:3])
    if value == 0:
        raise QuantityError("ZERO", "数值必须大于 0。")
    return value


def format_thousandths(value: int) -> str:
    """12500 -> "12.500" (always three decimals, AP-3)."""
    if value < 0:
        return "-" + format_thousandths(-value)
    return f"{value // 1000}.{value % 1000:03d}"


def check_range(value: int, *, minimum: int, maximum: int, unit: str) -> None:
    """Refuse zero, negative and absurd values (outside [minimum, maximum] thousandths)."""
    if value <= 0:
        raise QuantityError("ZERO" if value == 0 else "NEGATIVE",
                            "数值必须大于 0。" if value == 0 else "数值不能为负数。")
    if value < minimum:
        raise QuantityError("TOO_SMALL", f"数值过小，不应小于 {format_thousandths(minimum)} {unit}。")
    if value > maximum:
        raise QuantityError("TOO_LARGE", f"数值过大，不应超过 {format_thousandths(maximum)} {unit}。")
