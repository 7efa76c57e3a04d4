"""Request bodies read within a size limit, refused before they are read whole."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request


class BodyTooLarge(Exception):
    """The body declares or has sent more than ``limit`` bytes."""

    def __init__(self, limit: int, field: str = "") -> None:
        super().__init__(limit)
        self.limit = limit
        self.field = field


class ClientTooSlow(Exception):
    """The client did not finish sending its body in time."""


def check_declared_length(request: Request, limit: int, field: str = "") -> None:
    """Refuse at once by Content-Length (the server has already checked it is a number)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit, field)


class LimitedBody:
    """The body's chunks as they arrive, counted; a chunked body past the limit is cut off
    (a declared Content-Length is checked up front, see ``check_declared_length``).

    ``waiting`` tells whether the gateway is waiting on the client right now,
    so a deadline that passes then is the client's slowness, not a backend's.
    """

    def __init__(self, request: Request, limit: int, field: str = "") -> None:
        self._request = request
        self._limit = limit
        self._field = field
        self.waiting = False

    async def chunks(self) -> AsyncIterator[bytes]:
        seen = 0
        stream = self._request.stream().__aiter__()
        while True:
            self.waiting = True  # stays set if a deadline cancels the wait
            try:
                chunk = await anext(stream)
            except StopAsyncIteration:
                self.waiting = False
                return
            self.waiting = False
            seen += len(chunk)
            if seen > self._limit:
                raise BodyTooLarge(self._limit, self._field)
            if chunk:
                yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])


def human_size(n: int) -> str:
    """256 KB, 2 MB, 1000 字节: the limit as a carrier reads it."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} 字节"
