"""Reference data owned by routing: provinces, their links and national expressways."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")

# Words people put around a province name in route text ("河北段：", "途经河北境内：").
_PROVINCE_PREFIXES = ("", "途经", "经过", "进入", "经", "过", "入")
_PROVINCE_SUFFIXES = ("", "境内段", "境内", "省内", "路段", "路线", "线路", "段", "境")
# The words that may follow a province name, longest first.
NAME_SUFFIXES = tuple(sorted((x for x in _PROVINCE_SUFFIXES if x), key=len, reverse=True))


class Link(StrEnum):
    """How two provinces connect."""

    LAND = "land"
    FERRY = "ferry"


@dataclass(frozen=True)
class Province:
    """A provincial-level division (GB/T 2260)."""

    code: str
    name: str
    short: str
    aliases: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the recogniser accepts for this province."""
        return (self.name, self.short, *self.aliases)


@dataclass(frozen=True)
class Expressway:
    """A national expressway, e.g. G4 京港澳高速."""

    code: str
    name: str
    from_city: str
    to_city: str
    kind: str
    # Short names and former names people write (成渝环线高速 for 成渝地区环线高速).
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the recogniser takes for this expressway."""
        return (self.name, *self.aliases)

    @property
    def display_name(self) -> str:
        """The one spelling routes use for this road: code + name (``G4京港澳高速``)."""
        return f"{self.code}{self.name}"

    @property
    def base_name(self) -> str:
        """The name without its ``高速`` suffix (``京港澳``)."""
        return self.name.removesuffix("高速")


@dataclass(frozen=True)
class RoadName:
    """A road name as the service keeps it: normalised where the expressway is known."""

    text: str
    expressway: Expressway | None = None
    # The typed text named a code and a different expressway's name ("G4京沪高速").
    mismatch: Expressway | None = None


_CODE_RE = re.compile(r"^(G\d{1,4})(.*)$")
_NAME_THEN_CODE_RE = re.compile(r"^(.+?)[(\[]?(G\d{1,4})[)\]]?$")
_LEADING_LETTER_CODE_RE = re.compile(r"^([a-z])(\d)")
_SPACES_RE = re.compile(r"\s+")
_ROUTE_NUMBER_RE = re.compile(r"^[GSXYCZ]\d{1,4}$")
_BORDER_RE = re.compile(r"^(.{2,16}?)(?:省界|交界|界)(?:主线收费站|收费站|主线站|站|处)?$")


def clean_text(text: str) -> str:
    """NFKC (full-width to half-width), whitespace collapsed and trimmed."""
    return _SPACES_RE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


@dataclass
class ReferenceData:
    """Provinces, adjacency and expressways, with the lookups recognition needs."""

    version: str
    provinces: tuple[Province, ...]
    links: dict[frozenset[str], Link]
    expressways: tuple[Expressway, ...]
    _by_code: dict[str, Province] = field(init=False, repr=False)
    _by_name: dict[str, Province] = field(init=False, repr=False)
    _expressway_by_code: dict[str, Expressway] = field(init=False, repr=False)
    _expressway_by_name: dict[str, Expressway] = field(init=False, repr=False)
    max_name_length: int = field(init=False)

    def __post_init__(self) -> None:
        self._by_code = {p.code: p for p in self.provinces}
        self._by_name = {}
        for p in self.provinces:
            for n in p.names:
                other = self._by_name.setdefault(n, p)
                if other is not p:
                    raise ValueError(f"province name {n!r} is ambiguous: {other.code} and {p.code}")
        self.max_name_length = max(len(n) for n in self._by_name)
        self._expressway_by_code = {e.code: e for e in self.expressways}
        self._expressway_by_name = {}
        for e in self.expressways:
            for name in e.names:
                for n in (name, name + "公路"):
                    other = self._expressway_by_name.setdefault(n, e)
                    if other is not e:
                        raise ValueError(f"expressway name {n!r} is ambiguous: {other.code} and {e.code}")

    # -- provinces ---------------------------------------------------------

    def province(self, code: str) -> Province | None:
        return self._by_code.get(code)

    def is_province(self, code: str) -> bool:
        return code in self._by_code

    def province_named(self, name: str) -> Province | None:
        """The province a typed name denotes (full name, short name, alias), or None.

        Whitespace inside the name and the words around it (``途经``, ``段``,
        ``境内``) are ignored.
        """
        compact = "".join(unicodedata.normalize("NFKC", name).split())
        found = self._by_name.get(compact)
        if found is not None:
            return found
        for prefix in _PROVINCE_PREFIXES:
            if not compact.startswith(prefix):
                continue
            for suffix in _PROVINCE_SUFFIXES:
                core = compact[len(prefix): len(compact) - len(suffix)]
                if core and compact.endswith(suffix):
                    found = self._by_name.get(core)
                    if found is not None:
                        return found
        return None

    def suggest_province(self, name: str) -> Province | None:
        """The one province whose name differs from ``name`` by one character (a typo), or None."""
        compact = "".join(unicodedata.normalize("NFKC", name).split())
        if len(compact) < 2:
            return None
        found = {p.code: p for n, p in self._by_name.items()
                 if len(n) == len(compact) and sum(a != b for a, b in zip(n, compact, strict=True)) == 1}
        return next(iter(found.values())) if len(found) == 1 else None

    def is_province_name(self, name: str) -> bool:
        return name in self._by_name

    def province_names(self) -> Iterable[str]:
        return self._by_name.keys()

    def link(self, a: str, b: str) -> Link | None:
        """How provinces ``a`` and ``b`` (codes) connect, or None when they do not."""
        return self.links.get(frozenset((a, b)))

    def neighbours(self, code: str, kind: Link) -> list[str]:
        out = [next(iter(pair - {code})) for pair, k in self.links.items() if k is kind and code in pair]
        return sorted(out)

    def border_crossing(self, typed: str) -> tuple[Province, Province] | None:
        """The two provinces of a border-crossing name (``冀豫界``, ``河北河南省界收费站``)."""
        compact = "".join(unicodedata.normalize("NFKC", typed).split())
        m = _BORDER_RE.match(compact)
        if not m:
            return None
        both = m.group(1)
        for cut in range(1, len(both)):
            a, b = self._by_name.get(both[:cut]), self._by_name.get(both[cut:])
            if a is not None and b is not None and a is not b:
                return a, b
        return None

    # -- roads -------------------------------------------------------------

    def expressway(self, code: str) -> Expressway | None:
        return self._expressway_by_code.get(code)

    def road_words(self, typed: str) -> list[RoadName] | None:
        """``G4 G45`` / ``G4 S201``: several roads written with spaces only, or None.

        Only when every word is a known expressway or a route number, so a
        road name that merely contains a space is never cut.
        """
        words = clean_text(typed).split(" ")
        if len(words) < 2:
            return None
        names = [self.normalise_road(w) for w in words]
        if all(n.expressway is not None or _ROUTE_NUMBER_RE.match(n.text) for n in names):
            return names
        return None

    def normalise_road(self, typed: str) -> RoadName:
        """One spelling per known expressway: ``G4``, ``G4京港澳高速``, ``京港澳高速`` ->
        ``G4京港澳高速``. Other roads are kept as typed (NFKC, spaces collapsed, a
        leading route letter upper-cased: ``s201`` -> ``S201``)."""
        # A road name never ends with a full stop: it ended the sentence ("G45大广高速.").
        text = clean_text(typed).rstrip(". ")
        text = _LEADING_LETTER_CODE_RE.sub(lambda m: m.group(1).upper() + m.group(2), text)
        compact = text.replace(" ", "")
        m = _CODE_RE.match(compact)
        if m:
            code, rest = m.group(1), m.group(2).strip("()[]")
            e = self._expressway_by_code.get(code)
            if e is not None:
                if rest in ("", "高速", "高速公路", e.base_name) or self._expressway_by_name.get(rest) is e:
                    return RoadName(e.display_name, e)
                named = self._expressway_by_name.get(rest)
                if named is not None:
                    return RoadName(text, None, mismatch=named)
            return RoadName(text)
        e = self._expressway_by_name.get(compact)
        if e is not None:
            return RoadName(e.display_name, e)
        m = _NAME_THEN_CODE_RE.match(compact)
        if m:
            name, code = m.group(1), m.group(2)
            e = self._expressway_by_code.get(code)
            named = self._expressway_by_name.get(name) or (
                e if e is not None and name == e.base_name else None)
            if e is not None and named is e:
                return RoadName(e.display_name, e)
            if e is not None and named is not None:
                return RoadName(text, None, mismatch=named)
        return RoadName(text)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def load_reference_data(directory: Path = DATA_DIR) -> ReferenceData:
    """Read the versioned data files once (at start); raises ValueError on bad data."""
    version = (directory / "VERSION").read_text(encoding="utf-8").strip()
    provinces = tuple(
        Province(code=r["code"], name=r["name"], short=r["short"],
                 aliases=tuple(a for a in r["aliases"].split("|") if a))
        for r in _read_csv(directory / "provinces.csv")
    )
    # The adjacency file names provinces by short name or alias (黔, 滇).
    by_name = {n: p.code for p in provinces for n in p.names}
    links: dict[frozenset[str], Link] = {}
    for r in _read_csv(directory / "province_adjacency.csv"):
        try:
            pair = frozenset((by_name[r["a"]], by_name[r["b"]]))
        except KeyError as e:
            raise ValueError(f"province_adjacency.csv names an unknown province {e}") from None
        links[pair] = Link(r["link"])
    expressways = tuple(
        Expressway(code=r["code"], name=r["name"], from_city=r["from"], to_city=r["to"], kind=r["kind"],
                   aliases=tuple(a for a in r.get("aliases", "").split("|") if a))
        for r in _read_csv(directory / "expressways.csv")
    )
    return ReferenceData(version=version, provinces=provinces, links=links, expressways=expressways)
