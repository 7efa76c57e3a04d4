"""Offset paging of list RPCs (AIP-158): page sizes and opaque page tokens.

A token carries the offset of the next page and a checksum of that offset and
of a ``scope`` the caller names: the list, its filter values, the party whose
list it is. A token that was edited, or sent back with other filters or by
another party, is refused (INVALID_PAGE_TOKEN) instead of silently paging a
different list. The offset is no secret (it only skips rows of a list the
caller may read anyway): the checksum catches edits and reuse, it signs nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from permitkit.errors import InvalidArgument

T = TypeVar("T")

MAX_OFFSET = 999_999_999
"""The largest offset a token may carry: a forged huge offset never reaches a database."""

_MAX_TOKEN_LENGTH = 64  # a real token is under 40 characters
_SCOPE_SEPARATOR = "\x1f"
_TOKEN_RE = re.compile(r"o:(0|[1-9][0-9]{0,8}):([0-9a-f]{16})")


class InvalidPageSize(InvalidArgument):
    reason = "INVALID_PAGE_SIZE"
    message = "每页条数无效。"


class InvalidPageToken(InvalidArgument):
    reason = "INVALID_PAGE_TOKEN"
    message = "分页标记无效，请从第一页重新查询。"


def scope_of(*parts: str) -> str:
    """One scope string from the list's name and filter values, kept apart by a
    separator that does not occur in them, so ("a", "bc") and ("ab", "c") differ."""
    return _SCOPE_SEPARATOR.join(parts)


def checked_page_size(requested: int, *, default: int, maximum: int, refuse_negative: bool = False) -> int:
    """0 means ``default``; more than ``maximum`` is capped to it. A negative size is
    refused (INVALID_PAGE_SIZE) with ``refuse_negative``, else it means ``default``."""
    if requested < 0 and refuse_negative:
        raise InvalidPageSize(field="page_size")
    return default if requested <= 0 else min(requested, maximum)


def _checksum(offset: int, scope: str) -> str:
    return hashlib.sha256(f"{offset}{_SCOPE_SEPARATOR}{scope}".encode()).hexdigest()[:16]


def encode_token(offset: int, scope: str) -> str:
    """The token of the page starting at ``offset`` of the list named by ``scope``."""
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset out of range: {offset}")
    raw = f"o:{offset}:{_checksum(offset, scope)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, scope: str) -> int:
    """The offset a token of this ``scope`` points at; 0 for no token.

    Anything but a token this module handed out for this scope is refused:
    re-encoding the offset must give the very same token back.
    """
    if not token:
        return 0
    if len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidPageToken(field="page_token")
    try:
        raw = base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeError):
        raise InvalidPageToken(field="page_token") from None
    m = _TOKEN_RE.fullmatch(raw)
    if m is None or encode_token(int(m.group(1)), scope) != token:
        raise InvalidPageToken(field="page_token")
    return int(m.group(1))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the token of the next (empty on the last page);
    ``total`` only where the list is counted."""

    items: list[T]
    next_page_token: str
    total: int | None = None


@dataclass(frozen=True)
class PageRequest:
    """Where a page starts, how many items it holds and which list it pages."""

    offset: int
    size: int
    scope: str

    @classmethod
    def of(cls, *, page_size: int, page_token: str, scope: str, default: int, maximum: int,
           refuse_negative: bool = False) -> PageRequest:
        """The page a request asks for; a bad size or token raises InvalidArgument."""
        size = checked_page_size(page_size, default=default, maximum=maximum,
                                 refuse_negative=refuse_negative)
        return cls(decode_token(page_token, scope), size, scope)

    @property
    def limit(self) -> int:
        """The rows to fetch: one more than the page, to tell whether another follows."""
        return self.size + 1

    def next_token(self, *, more: bool) -> str:
        """The token of the page after this one, empty on the last page."""
        return encode_token(self.offset + self.size, self.scope) if more else ""

    def cut(self, rows: Sequence[T]) -> Page[T]:
        """The page from rows fetched from ``offset`` with ``limit``; the extra row says
        that another page follows, without counting the whole list."""
        return Page(list(rows[:self.size]), self.next_token(more=len(rows) > self.size))

    def counted(self, rows: Sequence[T], total: int) -> Page[T]:
        """The page from rows fetched from ``offset`` with ``size``, of a list of ``total``."""
        return Page(list(rows), self.next_token(more=self.offset + self.size < total), total)

    def window(self, items: Sequence[T]) -> Page[T]:
        """The page of a whole list held in memory."""
        return self.cut(items[self.offset:self.offset + self.limit])
