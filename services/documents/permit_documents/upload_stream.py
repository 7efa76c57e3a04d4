"""Reading a client-streamed file (a header message, then chunks) for the public upload and
the peer services' store alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from permit_documents import errors
from permit_documents.formats import MAX_UPLOAD_BYTES

H = TypeVar("H")


def read_stream(messages: Iterable[Any], check_header: Callable[[H], None]) -> tuple[H, bytes]:
    """The header and the content of a streamed file.

    The first message must be the header; ``check_header`` refuses it before any byte is
    read when the file cannot be taken anyway. Reading stops as soon as the content
    passes the size limit: nothing has been stored (AP-4/AP-8/AP-9).
    """
    header: H | None = None
    content = bytearray()
    for msg in messages:
        which = msg.WhichOneof("payload")
        if header is None:
            if which != "header":
                raise errors.UploadHeaderMissing(field="header")
            header = msg.header
            check_header(header)
            continue
        if which == "header":
            raise errors.UploadHeaderMissing(field="header")
        content += msg.chunk
        if len(content) > MAX_UPLOAD_BYTES:
            raise errors.FileTooLarge(field="chunk", metadata={"limit_bytes": str(MAX_UPLOAD_BYTES)})
    if header is None:
        raise errors.UploadHeaderMissing(field="header")
    return header, bytes(content)
