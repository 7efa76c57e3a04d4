"""Message templates: Chinese texts kept as data (templates.toml), rendered per event."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

AUDIENCES = ("applicant", "officers")


@dataclass(frozen=True)
class Template:
    kind: str
    audience: str
    title: str
    body: str


@dataclass(frozen=True)
class Rendered:
    kind: str
    title: str
    body: str


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@cache
def load_templates() -> dict[str, Template]:
    """Every kind's template; a malformed file fails at start, not at the first event."""
    raw = tomllib.loads(resources.files("permit_notifications").joinpath("templates.toml").read_text("utf-8"))
    out: dict[str, Template] = {}
    for kind, t in raw.items():
        if t.get("audience") not in AUDIENCES:
            raise ValueError(f"template {kind}: audience must be one of {AUDIENCES}")
        for part in ("title", "body"):
            if not isinstance(t.get(part), str) or not t[part]:
                raise ValueError(f"template {kind}: {part} missing")
            # Only simple {name} placeholders: no attribute or index access.
            for _, name, spec, conv in string.Formatter().parse(t[part]):
                if name is not None and (not name.isidentifier() or spec or conv):
                    raise ValueError(f"template {kind}: bad placeholder {name!r}")
        out[kind] = Template(kind, t["audience"], t["title"], t["body"])
    return out


def render(kind: str, params: Mapping[str, str]) -> Rendered:
    """The title and body of ``kind`` with ``params`` filled in (missing ones empty)."""
    t = load_templates()[kind]
    values = _Blank({k: str(v) for k, v in params.items()})
    body = t.body.format_map(values)
    # A sentence whose optional tail is empty must not end in "。。" or "：。".
    body = body.replace("：。", "。").replace("。。", "。").strip()
    return Rendered(kind, t.title.format_map(values), body)
