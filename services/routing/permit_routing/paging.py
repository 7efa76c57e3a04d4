"""Paging of routing's lists (AIP-158): page sizes and opaque page tokens.

A token carries the offset of the next page and a digest of that offset and
of the request it pages (the list, its filters, the reference data version),
so a token that was altered, or sent with other filters, is refused instead
of silently paging a different list. The offset is no secret (it only skips
rows of the caller's own list): the digest catches edits, it signs nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from permit_routing import errors

T = TypeVar("T")

_TOKEN_RE = re.compile(r"o:([0-9]{1,9}):[0-9a-f]{16}")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the token of the next one (empty on the last page)."""

    items: list[T]
    next_page_token: str


def page_size(requested: int, *, default: int, maximum: int) -> int:
    """0 means ``default``; more than ``maximum`` is clamped to it; negative is refused."""
    if requested < 0:
        raise errors.InvalidPageSize(field="page_size")
    return min(requested or default, maximum)


def _digest(offset: int, scope: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join((str(offset), *scope)).encode()).hexdigest()[:16]


def encode_token(offset: int, scope: Sequence[str]) -> str:
    """The token of the page starting at ``offset`` of the list named by ``scope``."""
    return base64.urlsafe_b64encode(f"o:{offset}:{_digest(offset, scope)}".encode()).decode().rstrip("=")


def decode_token(token: str, scope: Sequence[str]) -> int:
    """The offset a token of this ``scope`` points at; 0 for no token."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidPageToken(field="page_token") from None
    m = _TOKEN_RE.fullmatch(raw)
    # Re-encoding must give the token back: no other spelling of it is accepted.
    if m is None or encode_token(int(m.group(1)), scope) != token:
        raise errors.InvalidPageToken(field="page_token")
    return int(m.group(1))


def page_of(items: Sequence[T], *, offset: int, size: int, scope: Sequence[str]) -> Page[T]:
    """The page of ``size`` items from ``offset`` of a list held in memory."""
    more = offset + size < len(items)
    return Page(list(items[offset:offset + size]), encode_token(offset + size, scope) if more else "")
