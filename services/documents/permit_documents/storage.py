"""Blob storage port and its two adapters: S3 API (MinIO) and a local folder.

Both raise ``StorageUnavailable`` when the store cannot be reached, and
``BlobMissing`` when a key is absent.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError

from permit_documents.errors import (
    STORAGE_UNAVAILABLE_DOWNLOAD,
    STORAGE_UNAVAILABLE_UPLOAD,
    StorageUnavailable,
)

log = structlog.get_logger(__name__)


class BlobMissing(Exception):
    """The key is not in the store."""


@dataclass(frozen=True)
class BlobInfo:
    """One stored object as a listing shows it."""

    key: str
    size: int
    last_modified: dt.datetime


class BlobStore(Protocol):
    """Where document content lives."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` at ``key`` (overwrites an identical key)."""

    def get(self, key: str) -> bytes:
        """The content at ``key``; BlobMissing if absent."""

    def delete(self, key: str) -> None:
        """Remove ``key``; absent keys are ignored."""

    def list(self) -> Iterator[BlobInfo]:
        """Every stored object."""

    def presign_get(self, key: str, *, expires: dt.timedelta, filename: str,
                    content_type: str) -> str | None:
        """A URL that downloads ``key`` until it expires, or None when the store cannot sign."""


_UNAVAILABLE_ERRORS = (urllib3.exceptions.HTTPError, OSError, ServerError, InvalidResponseError)


class S3BlobStore:
    """Objects in one bucket of an S3-API server (MinIO in production) via the minio client."""

    def __init__(self, *, endpoint: str, access_key: str, secret_key: str, bucket: str,
                 secure: bool = False, region: str = "us-east-1",
                 public_endpoint: str | None = None, public_secure: bool | None = None,
                 connect_timeout: float = 2.0, read_timeout: float = 10.0) -> None:
        self.bucket = bucket
        # Short timeouts and a single retry: an outage must surface as
        # UNAVAILABLE within seconds, not after urllib3's default backoff.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=urllib3.Retry(total=1, backoff_factor=0.1, status_forcelist=(502, 503, 504)),
            maxsize=16,
        )
        self._client = Minio(endpoint, access_key=access_key, secret_key=secret_key,
                             secure=secure, region=region, http_client=http)
        # Presigned links are signed for the host the phone will use (the public
        # endpoint): the signature covers the Host header. With a region set the
        # client signs offline, without asking the server for the bucket location.
        self._signer = Minio(public_endpoint or endpoint, access_key=access_key,
                             secret_key=secret_key,
                             secure=secure if public_secure is None else public_secure, region=region)
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        if not self._client.bucket_exists(self.bucket):
            try:
                self._client.make_bucket(self.bucket)
                log.info("bucket_created", bucket=self.bucket)
            except S3Error as e:
                if e.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._bucket_ready = True

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing (called at start; failures are retried on use)."""
        try:
            self._ensure_bucket()
        except S3Error as e:
            raise StorageUnavailable(metadata={"s3_code": e.code or ""}) from e
        except _UNAVAILABLE_ERRORS as e:
            raise StorageUnavailable() from e

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            try:
                self._ensure_bucket()
                self._client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                                        content_type=content_type)
            except S3Error as e:
                if e.code != "NoSuchBucket":
                    raise
                self._bucket_ready = False  # the bucket went away (a wiped server): make it again
                self._ensure_bucket()
                self._client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                                        content_type=content_type)
        except S3Error as e:
            log.error("s3_put_failed", key=key, s3_code=e.code)
            raise StorageUnavailable(STORAGE_UNAVAILABLE_UPLOAD, metadata={"s3_code": e.code or ""}) from e
        except _UNAVAILABLE_ERRORS as e:
            log.warning("s3_unreachable", op="put", error=type(e).__name__)
            raise StorageUnavailable(STORAGE_UNAVAILABLE_UPLOAD) from e

    def get(self, key: str) -> bytes:
        try:
            resp = self._client.get_object(self.bucket, key)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()
        except S3Error as e:
            if e.code in ("NoSuchKey", "NoSuchBucket"):
                raise BlobMissing(key) from e
            raise StorageUnavailable(STORAGE_UNAVAILABLE_DOWNLOAD, metadata={"s3_code": e.code or ""}) from e
        except _UNAVAILABLE_ERRORS as e:
            log.warning("s3_unreachable", op="get", error=type(e).__name__)
            raise StorageUnavailable(STORAGE_UNAVAILABLE_DOWNLOAD) from e

    def delete(self, key: str) -> None:
        try:
            self._client.remove_object(self.bucket, key)
        except S3Error as e:
            if e.code in ("NoSuchKey", "NoSuchBucket"):
                return
            raise StorageUnavailable(metadata={"s3_code": e.code or ""}) from e
        except _UNAVAILABLE_ERRORS as e:
            raise StorageUnavailable() from e

    def list(self) -> Iterator[BlobInfo]:
        try:
            for obj in self._client.list_objects(self.bucket, recursive=True):
                if obj.object_name is None or obj.last_modified is None:
                    continue
                yield BlobInfo(obj.object_name, obj.size or 0, obj.last_modified)
        except S3Error as e:
            if e.code == "NoSuchBucket":
                return
            raise StorageUnavailable(metadata={"s3_code": e.code or ""}) from e
        except _UNAVAILABLE_ERRORS as e:
            raise StorageUnavailable() from e

    def presign_get(self, key: str, *, expires: dt.timedelta, filename: str,
                    content_type: str) -> str | None:
        headers: dict[str, str | list[str] | tuple[str]] = {
            "response-content-type": content_type,
            "response-content-disposition": content_disposition(filename),
        }
        return self._signer.presigned_get_object(self.bucket, key, expires=expires,
                                                 response_headers=headers)


class FolderBlobStore:
    """Objects as files under a folder: the zero-setup default (``$PERMIT_DATA_DIR/documents``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
            raise ValueError(f"unsafe blob key {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: a crash never leaves a half-written blob under the key.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            log.error("folder_store_write_failed", error=type(e).__name__)
            raise StorageUnavailable(STORAGE_UNAVAILABLE_UPLOAD) from e

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as e:
            raise BlobMissing(key) from e
        except OSError as e:
            raise StorageUnavailable(STORAGE_UNAVAILABLE_DOWNLOAD) from e

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self) -> Iterator[BlobInfo]:
        if not self.root.exists():
            return
        # Leftover ".upload-*" temp files of crashed writes are listed too, so
        # the sweeper removes them once they are past the grace period.
        for path in self.root.rglob("*"):
            if path.is_file():
                st = path.stat()
                yield BlobInfo(path.relative_to(self.root).as_posix(), st.st_size,
                               dt.datetime.fromtimestamp(st.st_mtime, dt.UTC))

    def presign_get(self, key: str, *, expires: dt.timedelta, filename: str,
                    content_type: str) -> str | None:
        return None


def content_disposition(filename: str) -> str:
    """``attachment`` with the UTF-8 file name (RFC 6266 / 5987), safe for Chinese names."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                         for c in filename) or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(filename)}"
