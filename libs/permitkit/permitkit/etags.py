"""The one etag format (AIP-154): the resource's version as a quoted string,
``"7"``. A client sends back what it read; the check also accepts the bare
version and the weak form (``7``, ``W/"7"``) older clients may hold."""

from __future__ import annotations


def etag_of(version: int) -> str:
    return f'"{version}"'


def etag_matches(given: str, version: int) -> bool:
    """True when ``given`` names ``version``; an empty etag is no condition (True)."""
    if not given:
        return True
    return given.strip().removeprefix("W/").strip('"') == str(version)
