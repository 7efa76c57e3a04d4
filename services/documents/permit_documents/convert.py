"""Pure conversions between protobuf messages and the documents model."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from permit.documents.v1 import documents_pb2
from permit_documents.formats import Format
from permit_documents.models import Document, DocumentKind


def kind_from_proto(value: int) -> DocumentKind | None:
    """Proto enum value -> DocumentKind (None for UNSPECIFIED or unknown values)."""
    try:
        full = documents_pb2.DocumentKind.Name(value)  # type: ignore[arg-type]
    except ValueError:
        return None
    short = full.removeprefix("DOCUMENT_KIND_")
    return DocumentKind[short] if short in DocumentKind.__members__ else None


def kind_to_proto(kind: DocumentKind) -> documents_pb2.DocumentKind.ValueType:
    return documents_pb2.DocumentKind.Value(f"DOCUMENT_KIND_{kind.name}")


def format_to_proto(fmt: Format) -> documents_pb2.DocumentFormat.ValueType:
    return documents_pb2.DocumentFormat.Value(f"DOCUMENT_FORMAT_{fmt.name}")


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def document_to_proto(doc: Document) -> documents_pb2.Document:
    return documents_pb2.Document(
        name=doc.name,
        owner=doc.owner,
        kind=kind_to_proto(doc.document_kind),
        filename=doc.filename,
        content_type=doc.content_type,
        size_bytes=doc.size_bytes,
        sha256=doc.sha256,
        create_time=timestamp(doc.create_time),
        format=format_to_proto(doc.document_format),
    )
