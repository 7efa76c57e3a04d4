"""multipart/form-data uploads relayed to a client-streaming RPC as the bytes arrive.

The body is push-parsed (python-multipart) straight off the socket: the header
fields must come before the file part (or as query parameters), the header
message goes out as soon as the file part starts, and every piece of the file
goes on to the gRPC stream when it arrives, so the gateway never holds more
than a chunk of an upload whatever its size.

Only the file's last ``TAIL`` bytes wait until the whole body is known to be
well formed. A refused upload is cancelled, and grpc's synchronous servers can
see a cancellation as the normal end of the stream (the pending read ends
empty before the cancellation is noticed): the service then never holds the
complete file, so its check of the content's structure refuses the remains
rather than storing a file the phone was told was refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from fastapi import Request
from google.protobuf import descriptor
from google.protobuf.message import Message
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from permit_gateway.bodies import LimitedBody

FD = descriptor.FieldDescriptor
CHUNK = 64 * 1024
TAIL = 4096
FILE_FIELD = "file"
# AP-4/8/9: the largest file a carrier may upload (the documents service enforces it;
# the gateway relays a little more for the multipart framing).
FILE_LIMIT_BYTES = 1024 * 1024
# Form fields before the file: a few short values (kind, filename, content type).
MAX_FIELDS = 16
MAX_FIELD_BYTES = 4096


class UploadRefused(Exception):
    """A multipart body that cannot become an upload; names the offending field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Field:
    name: str
    value: str


@dataclass
class FileStart:
    name: str
    filename: str
    content_type: str


@dataclass
class FileData:
    data: bytes


Event = Field | FileStart | FileData


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _PartCollector:
    """python-multipart callbacks -> a list of events, drained after every write."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.ended = False
        self.fields = 0
        self._headers: dict[str, bytes] = {}
        self._hname = bytearray()
        self._hvalue = bytearray()
        self._field: tuple[str, bytearray] | None = None
        self._in_file = False

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
                "on_part_end": self.part_end, "on_end": self.end}

    def part_begin(self) -> None:
        self._headers, self._field, self._in_file = {}, None, False

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def header_end(self) -> None:
        self._headers[bytes(self._hname).decode("latin-1").lower()] = bytes(self._hvalue)
        self._hname, self._hvalue = bytearray(), bytearray()

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        name = _decode(options.get(b"name", b""))
        if b"filename" in options:
            self._in_file = True
            content_type = _decode(self._headers.get("content-type", b"")).strip()
            self.events.append(FileStart(name, _decode(options[b"filename"]), content_type))
        else:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise UploadRefused("上传参数过多。", name)
            self._field = (name, bytearray())

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.events.append(FileData(data[start:end]))
        elif self._field is not None:
            name, value = self._field
            value += data[start:end]
            if len(value) > MAX_FIELD_BYTES:
                raise UploadRefused(f"参数 {name} 过长。", name)

    def part_end(self) -> None:
        if self._field is not None:
            name, value = self._field
            try:
                self.events.append(Field(name, value.decode("utf-8")))
            except UnicodeDecodeError:
                raise UploadRefused(f"参数 {name} 不是有效的 UTF-8 文本。", name) from None

    def end(self) -> None:
        self.ended = True


def _boundary(request: Request) -> bytes:
    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary", b"")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadRefused("请以 multipart/form-data 格式上传文件。", FILE_FIELD)
    return boundary


async def parse(chunks: AsyncIterator[bytes], boundary: bytes) -> AsyncIterator[Event]:
    """The body's parts as events, in the order they arrive; file data as it arrives."""
    collector = _PartCollector()
    try:
        parser = MultipartParser(boundary, collector.callbacks())
    except FormParserError:
        raise UploadRefused("上传内容格式有误。", FILE_FIELD) from None
    async for chunk in chunks:
        try:
            parser.write(chunk)
        except FormParserError:
            raise UploadRefused("上传内容格式有误。", FILE_FIELD) from None
        events, collector.events = collector.events, []
        for event in _coalesce(events):
            yield event
    if not collector.ended:
        raise UploadRefused("上传内容不完整，请重新上传。", FILE_FIELD)


def _coalesce(events: Iterable[Event]) -> Iterable[Event]:
    """Adjacent file pieces of one write as one."""
    pending = bytearray()
    for event in events:
        if isinstance(event, FileData):
            pending += event.data
            continue
        if pending:
            yield FileData(bytes(pending))
            pending = bytearray()
        yield event
    if pending:
        yield FileData(bytes(pending))


HeaderBuilder = Callable[[list[tuple[str, str]], FileStart], Message]


async def relay(request: Request, body: LimitedBody, call: Callable[[], Any], header_message: HeaderBuilder,
                chunk_message: Callable[[bytes], Message]) -> Message:
    """Parse the upload and stream it into ``call()`` (a stream-unary call made when the file starts).

    ``header_message`` turns the header fields (query parameters, then the form
    fields before the file) and the file part into the first message. A field
    after the file, a second file, a file under another name or no file at all
    is refused; the call is then cancelled before the file's tail went out.
    """
    fields: list[tuple[str, str]] = list(request.query_params.multi_items())
    stream: Any = None
    held = bytearray()  # the file's last bytes, sent once the body has ended well
    try:
        async for event in parse(body.chunks(), _boundary(request)):
            if isinstance(event, Field):
                if stream is not None:
                    raise UploadRefused(f"参数 {event.name} 应放在文件之前。", event.name)
                fields.append((event.name, event.value))
            elif isinstance(event, FileStart):
                if stream is not None:
                    raise UploadRefused("一次只能上传一个文件。", event.name or FILE_FIELD)
                if event.name != FILE_FIELD:
                    raise UploadRefused(f"文件应放在 {FILE_FIELD} 字段中。", event.name or FILE_FIELD)
                header = header_message(fields, event)
                stream = call()
                await _write(stream, header)
            else:
                held += event.data
                if len(held) > TAIL:
                    await _write_chunks(stream, held[:-TAIL], chunk_message)
                    del held[:-TAIL]
        if stream is None:
            raise UploadRefused("请选择要上传的文件。", FILE_FIELD)
        await _write_chunks(stream, held, chunk_message)
        await stream.done_writing()
        return await stream  # type: ignore[no-any-return]
    except BaseException:
        if stream is not None:
            stream.cancel()
        raise


async def _write_chunks(stream: Any, data: bytearray, chunk_message: Callable[[bytes], Message]) -> None:
    for i in range(0, len(data), CHUNK):
        await _write(stream, chunk_message(bytes(data[i:i + CHUNK])))


async def _write(stream: Any, message: Message) -> None:
    """One message on; if the service has ended the call meanwhile, its own status.

    A write that races the service's answer fails with grpc's local "internal
    error" in place of the service's status (e.g. NOT_APPLICANT right after the
    header); awaiting the call yields the status the service really sent.
    """
    try:
        await stream.write(message)
    except (asyncio.InvalidStateError, grpc.RpcError):
        await stream  # raises the service's refusal (e.g. FILE_TOO_LARGE)
        raise RuntimeError("the service answered an upload before its end") from None
