"""Province codes (GB/T 2260) that scope officers and parties; a copy of the reference data."""

from __future__ import annotations

# Copied from the GB/T 2260 province list (routing owns the full reference data): identity only needs code -> name.
PROVINCES: dict[str, str] = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省",
    "150000": "内蒙古自治区", "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省",
    "310000": "上海市", "320000": "江苏省", "330000": "浙江省", "340000": "安徽省",
    "350000": "福建省", "360000": "江西省", "370000": "山东省", "410000": "河南省",
    "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省",
    "530000": "云南省", "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省",
    "630000": "青海省", "640000": "宁夏回族自治区", "650000": "新疆维吾尔自治区",
}


def is_province(code: str) -> bool:
    """True for one of the 31 provincial-level division codes."""
    return code in PROVINCES


def province_of_division(division: str) -> str | None:
    """The province of a 6-digit administrative division code (`130102` -> `130000`)."""
    if len(division) < 2 or not division[:2].isdigit():
        return None
    code = division[:2] + "0000"
    return code if code in PROVINCES else None
