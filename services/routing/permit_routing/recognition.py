"""Route text recognition (AP-7b): pasted ``省份名称：道路-道路；`` text -> editable rows.

Real pasted text is messy, so the recogniser is lenient where the meaning is
clear and reports everything else with its line and column, beside the rows
that did parse. It never raises on any input.

What it accepts:
- full- and half-width colons and semicolons; ``。`` ends a province like ``；``;
- the dash variants people type between roads (``- － — – ‐ ~ → ->`` and
  ``、 , ，``); a run of long dashes (``——``, ``~~``) is one separator;
- stray spaces (incl. U+3000 and zero-width), blank lines, Windows / old Mac
  line endings, a missing last semicolon;
- several provinces on one line (separated by ``；``, ``，``, ``、`` or a space);
- a line broken after (or before) a road separator continues the same row;
- list numbering in front of a line (``1、`` ``1.`` ``(1)`` ``①`` ``一、``): this is
  why ``、`` is a road separator only after the colon;
- every province name, short name and alias, optionally followed by
  ``段``/``境内``; a missing colon when the line starts with a province name;
- every expressway's name and the short names of the reference data
  (``成渝环线高速`` is G93 成渝地区环线高速).

A road holding a character no road name has (an emoji, a symbol) is kept as typed
with a note at that character's line and column.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from permit_routing.reference import NAME_SUFFIXES, ReferenceData
from permit_routing.routes import Problem, Row

NEWLINES = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")
COLONS = frozenset(":：︰∶﹕")
SEMICOLONS = frozenset(";；﹔。")
# Long dashes people double (——, ~~): a run of the same one is one separator.
COLLAPSING_DASHES = frozenset("—―─━~～〜〰")
# ">" alone is an arrow too ("G4>G5"), so no road name ever holds one.
SEPARATORS = frozenset("-－‐‑‒–−﹣⁃→⟶➔➝⇒⇨➡>＞、,，﹐﹑") | COLLAPSING_DASHES
_LIST_PUNCTUATION = frozenset("、,，﹐﹑")
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")

MAX_PROBLEMS = 200

# No road name holds a symbol, an emoji or a control character (Unicode categories
# S*, C*, and the emoji variation selectors): such a character is noted where it is.
_ODD_CATEGORIES = frozenset({"So", "Sm", "Sc", "Sk", "Co", "Cn", "Cc", "Cs", "Cf"})
_ODD_MARKS = frozenset("\ufe0e\ufe0f\u20e3")


def _odd(ch: str) -> bool:
    return ch in _ODD_MARKS or unicodedata.category(ch) in _ODD_CATEGORIES or 0x1F000 <= ord(ch) <= 0x1FAFF

# Headings people paste above the rows; alone before a colon they carry nothing.
HEADER_WORDS = frozenset({"路线", "通行路线", "行驶路线", "线路", "路径", "途经路线", "途经省份", "通行线路"})

_ENUMERATION_RE = re.compile(
    r"^(?:\(?\d{1,3}\)|\d{1,3}[.、)]|[①-⑳⑴-⒇⒈-⒛]|[一二三四五六七八九十]{1,3}[、.]|\([一二三四五六七八九十]{1,3}\))"
)

# Token kinds.
_COLON, _SEMI, _SEP, _SPACE, _TEXT = "c", ";", "s", "w", "x"


@dataclass(slots=True)
class _Tok:
    kind: str
    ch: str  # the character, full-width ASCII folded to half-width
    line: int
    col: int
    raw: str  # the character as typed


def _half_width(ch: str) -> str:
    o = ord(ch)
    if 0xFF01 <= o <= 0xFF5E:
        return chr(o - 0xFEE0)
    if o == 0x3000:
        return " "
    return ch


def _kind(ch: str) -> str:
    if ch in COLONS:
        return _COLON
    if ch in SEMICOLONS:
        return _SEMI
    if ch in SEPARATORS:
        return _SEP
    if ch.isspace() or ch in ZERO_WIDTH:
        return _SPACE
    return _TEXT


@functools.lru_cache(maxsize=4096)
def _classify(raw: str) -> tuple[str, str]:
    return _half_width(raw), _kind(raw)


def _split_lines(text: str) -> list[list[tuple[str, int]]]:
    """Lines of (char, 1-based column); \\r\\n counts as one line break."""
    lines: list[list[tuple[str, int]]] = []
    cur: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in NEWLINES:
            lines.append(cur)
            cur = []
            if ch == "\r" and i + 1 < n and text[i + 1] == "\n":
                i += 1
        else:
            cur.append((ch, len(cur) + 1))
        i += 1
    lines.append(cur)
    return lines


def _tokenise(line_no: int, chars: list[tuple[str, int]]) -> list[_Tok]:
    toks: list[_Tok] = []
    for raw, col in chars:
        ch, kind = _classify(raw)
        tok = _Tok(kind, ch, line_no, col, raw)
        prev = toks[-1] if toks else None
        if prev is not None:
            if ch == ">" and prev.kind == _SEP:
                # An arrow (->, -->, —>): one separator; its extra characters are blanks.
                tok.kind = _SPACE
                j = len(toks) - 1
                while j > 0 and toks[j - 1].kind == _SEP:
                    toks[j].kind = _SPACE
                    j -= 1
            elif ch == ">" and prev.ch == "=" and prev.kind == _TEXT:
                prev.kind = _SPACE  # "=>": the ">" is the separator
            elif raw in COLLAPSING_DASHES and prev.raw == raw and prev.kind in (_SEP, _SPACE):
                tok.kind = _SPACE
        toks.append(tok)
    return toks


def _last_significant(toks: list[_Tok]) -> _Tok | None:
    return next((t for t in reversed(toks) if t.kind != _SPACE), None)


def _segments(text: str) -> list[list[_Tok]]:
    """Split the text into one token list per province entry."""
    segments: list[list[_Tok]] = []
    buf: list[_Tok] = []
    for line_no, chars in enumerate(_split_lines(text), start=1):
        toks = _tokenise(line_no, chars)
        first = next((t for t in toks if t.kind != _SPACE), None)
        last = _last_significant(buf)
        if last is None:
            buf = []
        elif last.kind == _SEP or (first is not None and first.kind == _SEP):
            # A line broken at a road separator continues the same row.
            buf.append(_Tok(_SPACE, " ", line_no, 0, "\n"))
        else:
            segments.append(buf)
            buf = []
        for t in toks:
            if t.kind == _SEMI:
                if _last_significant(buf) is not None:
                    segments.append(buf)
                buf = []
            else:
                buf.append(t)
    if _last_significant(buf) is not None:
        segments.append(buf)
    return segments


def _strip(toks: list[_Tok]) -> list[_Tok]:
    i, j = 0, len(toks)
    while i < j and toks[i].kind == _SPACE:
        i += 1
    while j > i and toks[j - 1].kind == _SPACE:
        j -= 1
    return toks[i:j]


def _text(toks: Iterable[_Tok]) -> str:
    return "".join(" " if t.kind == _SPACE else t.ch for t in toks).strip()


def _raw(toks: Iterable[_Tok], limit: int = 20) -> str:
    s = "".join(t.raw for t in toks if t.raw != "\n").strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _at(t: _Tok) -> str:
    return f"第{t.line}行第{t.col}列"


class _Recogniser:
    def __init__(self, ref: ReferenceData) -> None:
        self.ref = ref
        self.rows: list[Row] = []
        self.problems: list[Problem] = []

    def problem(self, at: _Tok, reason: str, message: str) -> None:
        self.problems.append(Problem(line=at.line, column=at.col, reason=reason,
                                     message=f"{_at(at)}：{message}"))

    def segment(self, seg: list[_Tok]) -> None:
        seg = _strip(seg)
        m = _ENUMERATION_RE.match("".join(t.ch for t in seg))
        if m and _strip(seg[m.end():]):  # a number alone is reported like any other text
            seg = _strip(seg[m.end():])
        if not seg:
            return
        colons = [i for i, t in enumerate(seg) if t.kind == _COLON]
        if not colons:
            self.without_colon(seg)
            return
        start = 0
        for k in range(1, len(colons)):
            split = self.split_before_province(seg, colons[k - 1], colons[k])
            roads = _strip(seg[colons[k - 1] + 1: split])
            if roads and roads[-1].kind == _SEP:
                roads = roads[:-1]  # the separator between two provinces on one line
            self.entry(seg[start: colons[k - 1]], seg[colons[k - 1]], roads)
            start = split
        self.entry(seg[start: colons[-1]], seg[colons[-1]], seg[colons[-1] + 1:])

    def split_before_province(self, seg: list[_Tok], prev_colon: int, colon: int) -> int:
        """Where the province before ``colon`` starts (the end of the previous roads)."""
        end = colon
        while end > prev_colon + 1 and seg[end - 1].kind == _SPACE:
            end -= 1
        i = end
        while i > prev_colon + 1 and seg[i - 1].kind not in (_SPACE, _SEP):
            i -= 1
        token = "".join(t.ch for t in seg[i:end])
        if not token or self.ref.province_named(token) is not None:
            return i
        for length in range(min(self.ref.max_name_length, len(token) - 1), 0, -1):
            if self.ref.is_province_name(token[-length:]):
                return end - length  # "G4河南：" written without a separator
        return i

    def without_colon(self, seg: list[_Tok]) -> None:
        compact = [(i, t) for i, t in enumerate(seg) if t.kind != _SPACE]
        names = "".join(t.ch for _, t in compact)
        alone = self.ref.province_named(names)
        if alone is not None:  # a province name alone on its line ("豫")
            self.problem(seg[0], "PROVINCE_WITHOUT_ROADS",
                         f"省份“{alone.name}”后缺少冒号和道路，请按“省份名称：道路-道路；”填写。")
            self.rows.append(Row(alone.code, ()))
            return
        # Two characters at least: a one-character short name would swallow the
        # first character of a road ("京港澳高速" is not 京 + 港澳高速).
        for length in range(min(self.ref.max_name_length, len(names)), 1, -1):
            if not self.ref.is_province_name(names[:length]):
                continue
            province = self.ref.province_named(names[:length])
            assert province is not None
            typed = names[:length]
            # "江苏省段 G2": the 段/境内 after the name belongs to the province, not the road.
            suffix = next((x for x in NAME_SUFFIXES if names[length:].startswith(x)), "")
            length += len(suffix)
            last = compact[length - 1][0]
            rest = _strip(seg[last + 1:])
            while rest and rest[0].kind == _SEP:  # "河北-G4": the dash stood for the colon
                rest = _strip(rest[1:])
            if not rest:  # only separators after the name ("河北--")
                self.problem(seg[last], "PROVINCE_WITHOUT_ROADS",
                             f"省份“{province.name}”后缺少冒号和道路，请按“省份名称：道路-道路；”填写。")
                self.rows.append(Row(province.code, ()))
                return
            self.problem(rest[0], "MISSING_COLON",
                         f"省份“{typed}”后缺少冒号，已按{province.name}识别，请核对。")
            roads = self.roads(rest)
            self.rows.append(Row(province.code, roads))
            return
        self.problem(seg[0], "MISSING_COLON",
                     f"“{_raw(seg)}”缺少冒号，无法识别省份。请按“省份名称：道路-道路；”的格式填写。")

    def entry(self, province_toks: list[_Tok], colon: _Tok, road_toks: list[_Tok]) -> None:
        province_toks = _strip(province_toks)
        if not province_toks:
            self.problem(colon, "MISSING_PROVINCE", "冒号前缺少省份名称。")
            return
        name = "".join(t.ch for t in province_toks if t.kind != _SPACE)
        province = self.ref.province_named(name)
        if province is None and name in HEADER_WORDS and not _strip(road_toks):
            return  # a heading ("通行路线：") above the rows, with nothing of its own
        if province is None:
            guess = self.ref.suggest_province(name)
            hint = f"，是否为“{guess.name}”？" if guess else "，请填写省份全称或简称，如“河北省”“河北”“冀”。"
            self.problem(province_toks[0], "UNKNOWN_PROVINCE", f"无法识别省份“{_raw(province_toks)}”{hint}")
            return
        roads = self.roads(road_toks)
        if not roads:
            self.problem(colon, "PROVINCE_WITHOUT_ROADS", f"省份“{province.name}”后没有填写道路。")
        self.rows.append(Row(province.code, roads))

    def roads(self, toks: list[_Tok]) -> tuple[str, ...]:
        pieces: list[list[_Tok]] = [[]]
        seps: list[_Tok] = []
        for t in toks:
            if t.kind == _SEP:
                seps.append(t)
                pieces.append([])
            else:
                pieces[-1].append(t)
        if all(not _strip(p) for p in pieces):
            return ()
        if len(pieces) > 1 and not _strip(pieces[-1]) and seps[-1].ch in _LIST_PUNCTUATION:
            # "G4、G5，" : a trailing comma ends the list; a trailing dash is reported.
            pieces.pop()
            seps.pop()
        out: list[str] = []
        for i, piece in enumerate(pieces):
            piece = _strip(piece)
            if not piece:
                sep = seps[min(i, len(seps) - 1)]
                self.problem(sep, "EMPTY_ROAD", f"连字符“{sep.raw}”前后缺少道路名称。")
                continue
            typed = _text(piece)
            odd = next((t for t in piece if t.kind != _SPACE and _odd(t.raw)), None)
            if odd is not None:
                self.problem(odd, "ROAD_NAME_ODD_CHARACTER",
                             f"道路“{_raw(piece)}”中含有道路名称不会有的字符“{odd.raw}”，请核对。")
            border = self.ref.border_crossing(typed)
            if border is not None:
                # The manual: border crossings are not written; keep the route clean, say so.
                self.problem(piece[0], "BORDER_CROSSING_NOT_NEEDED",
                             f"省界名称“{_raw(piece)}”无需填写，已忽略。")
                continue
            road = self.ref.normalise_road(typed)
            if road.mismatch is not None:
                self.problem(piece[0], "ROAD_CODE_NAME_MISMATCH",
                             f"道路“{_raw(piece)}”的编号与名称不一致（{road.mismatch.name}是"
                             f"{road.mismatch.code}），已按原文保留，请核对。")
            words = self.ref.road_words(typed) if road.expressway is None and road.mismatch is None else None
            if words is not None:
                out.extend(w.text for w in words)
            elif road.text:
                out.append(road.text)
            else:  # only punctuation ("G4-.")
                self.problem(piece[0], "EMPTY_ROAD", f"“{_raw(piece)}”不是道路名称。")
        return tuple(out)


@dataclass(frozen=True)
class Recognition:
    """What recognition found: the rows that parsed and every problem, in text order."""

    rows: tuple[Row, ...]
    problems: tuple[Problem, ...]


def parse_route_text(ref: ReferenceData, text: str) -> Recognition:
    """Recognise route rows in pasted text (AP-7b). Never raises on any input."""
    rec = _Recogniser(ref)
    segments = _segments(text)
    for seg in segments:
        rec.segment(seg)
    if not rec.rows and not rec.problems:  # nothing at all, or only a heading
        rec.problems.append(Problem(line=1, column=1, reason="ROUTE_TEXT_EMPTY",
                                    message="未输入路线。请按“省份名称：道路-道路；”的格式填写，每个省份一行。"))
    problems = sorted(rec.problems, key=lambda p: (p.line, p.column))
    if len(problems) > MAX_PROBLEMS:
        # Keep the answer small (gRPC's 4 MB) and readable; the rest start here.
        rest = problems[MAX_PROBLEMS]
        problems = [*problems[:MAX_PROBLEMS], Problem(
            line=rest.line, column=rest.column, reason="TOO_MANY_PROBLEMS",
            message=f"第{rest.line}行第{rest.column}列起还有{len(problems) - MAX_PROBLEMS}处问题未列出，"
                    "请先修改以上问题后重新识别。")]
    return Recognition(rows=tuple(rec.rows), problems=tuple(problems))


def render_route_text(ref: ReferenceData, rows: Iterable[Row]) -> str:
    """Rows as text in the manual's format, one province per line (the inverse of parsing)."""
    lines = []
    for row in rows:
        p = ref.province(row.province)
        lines.append(f"{p.name if p else row.province}：{'-'.join(row.roads)}；")
    return "\n".join(lines)
