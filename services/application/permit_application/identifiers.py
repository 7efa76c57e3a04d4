"""AP-4 plate numbers and AP-8 resident ID numbers: validation, normalisation, masking."""

from __future__ import annotations

import re
from dataclasses import dataclass

from permitkit.identifiers import has_gb11643_check_char, has_gb11643_shape

# One-character province abbreviations used on Chinese plates (GA 36).
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_SERIAL = "[A-HJ-NP-Z0-9]"  # letters I and O are never used
_ORDINARY = re.compile(rf"^[{PLATE_PROVINCES}][A-Z]{_SERIAL}{{5}}$")
# New-energy plates: small cars D/F + 5 (second char letter or digit), large vehicles 5 digits + D/F.
_NEW_ENERGY = re.compile(rf"^[{PLATE_PROVINCES}][A-Z](?:[DF]{_SERIAL}\d{{4}}|\d{{5}}[DF])$")
_TRAILER = re.compile(rf"^[{PLATE_PROVINCES}][A-Z]{_SERIAL}{{4}}挂$")


@dataclass(frozen=True)
class PlateCheck:
    """The outcome of a plate-number check."""

    valid: bool
    normalized: str
    kind: str = ""  # ORDINARY, NEW_ENERGY, TRAILER
    message: str = ""


def normalize_plate(text: str) -> str:
    """Upper case, no blanks or separators ("冀a·12345 " -> "冀A12345")."""
    return re.sub(r"[\s·.\-]", "", text or "").upper()


def check_plate(text: str) -> PlateCheck:
    """Classify a plate as ordinary, new-energy or trailer (挂), or explain why it is invalid."""
    p = normalize_plate(text)
    if not p:
        return PlateCheck(False, p, message="请输入车牌号码。")
    if p[0] not in PLATE_PROVINCES:
        return PlateCheck(False, p, message="车牌号码应以省份简称开头，如“冀A12345”。")
    if _TRAILER.match(p):
        return PlateCheck(True, p, "TRAILER")
    if len(p) == 8 and _NEW_ENERGY.match(p):
        return PlateCheck(True, p, "NEW_ENERGY")
    if len(p) == 7 and _ORDINARY.match(p):
        return PlateCheck(True, p, "ORDINARY")
    return PlateCheck(False, p, message="车牌号码格式不正确：普通号牌如“冀A12345”，新能源号牌如“冀AD12345”，挂车号牌如“冀A1234挂”。")


def check_id_number(text: str) -> str | None:
    """Validate an 18-digit resident ID number (GB 11643 checksum); None when valid, else a message."""
    s = (text or "").strip().upper()
    if not has_gb11643_shape(s):
        return "身份证号码应为 18 位，最后一位可为数字或 X。"
    month, day = int(s[10:12]), int(s[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return "身份证号码中的出生日期不正确。"
    if not has_gb11643_check_char(s):
        return "身份证号码校验位不正确，请核对。"
    return None


def mask_id_number(s: str) -> str:
    """Keep the first 6 and last 4 characters: "130102********1234"."""
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def is_masked(s: str) -> bool:
    return "*" in (s or "")


def check_phone(text: str) -> str | None:
    """Mainland mobile number (11 digits starting with 1[3-9]); None when valid."""
    if not re.fullmatch(r"1[3-9]\d{9}", (text or "").strip()):
        return "手机号码应为 11 位数字，如 13800138000。"
    return None
