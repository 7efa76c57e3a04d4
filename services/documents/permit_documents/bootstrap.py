"""Composition root of the documents service: the only place that builds things."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import structlog
from sqlalchemy.engine import Engine

from permit.documents.v1 import documents_service_pb2_grpc
from permit_documents import event_handlers, services
from permit_documents.config import Settings
from permit_documents.errors import DOMAIN
from permit_documents.grpc_api import SERVICE_NAME, DocumentServicer
from permit_documents.internal_api import DocumentInternalServicer, internal_service_spec
from permit_documents.links import LinkSigner
from permit_documents.storage import BlobStore, FolderBlobStore, S3BlobStore
from permit_documents.unit_of_work import DocumentsUnitOfWork
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.errors import PermitError
from permitkit.events import EventSink
from permitkit.server import ServiceSpec

log = structlog.get_logger(__name__)


def build_store(settings: Settings) -> BlobStore:
    """MinIO/S3 when an endpoint is configured, else the local folder store."""
    if settings.s3 is None:
        settings.folder.mkdir(parents=True, exist_ok=True)
        return FolderBlobStore(settings.folder)
    s3 = settings.s3
    store = S3BlobStore(endpoint=s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key,
                        bucket=s3.bucket, secure=s3.secure, region=s3.region,
                        public_endpoint=s3.public_endpoint, public_secure=s3.public_secure)
    try:
        store.ensure_bucket()
    except PermitError:
        # Storage down at start must not stop the service: uploads answer
        # UNAVAILABLE and the bucket is created on the first successful put.
        log.warning("s3_not_ready_at_start", endpoint=s3.endpoint, bucket=s3.bucket)
    return store


@dataclass
class Sweeper:
    """Runs the unreferenced-blob sweep every ``interval`` seconds in a daemon thread."""

    run_once: Callable[[], list[str]]
    interval: float
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="blob-sweeper", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the next round retries; log and go on
                log.exception("blob_sweep_failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass
class App:
    """The built service: servicer plus what the process manages around it."""

    domain: ClassVar[str] = DOMAIN

    settings: Settings
    engine: Engine | None
    uow_factory: Callable[[], DocumentsUnitOfWork]
    store: BlobStore
    servicer: DocumentServicer
    sweeper: Sweeper
    sink: EventSink
    internal: DocumentInternalServicer

    def grpc_services(self) -> Sequence[ServiceSpec]:
        return [(documents_service_pb2_grpc.add_DocumentServiceServicer_to_server, self.servicer,
                 SERVICE_NAME), internal_service_spec(self.internal), self.sink.service_spec()]

    def start(self) -> None:
        self.sweeper.start()

    def close(self) -> None:
        self.sweeper.stop()
        if self.engine is not None:
            self.engine.dispose()


def build(
    settings: Settings,
    *,
    uow_factory: Callable[[], DocumentsUnitOfWork] | None = None,
    store: BlobStore | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> App:
    """Wire the service from settings; tests may pass their own UoW factory, store and clock."""
    engine: Engine | None = None
    if uow_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)

        def uow_factory() -> DocumentsUnitOfWork:
            return DocumentsUnitOfWork(session_factory)

    factory = uow_factory
    blob_store = store if store is not None else build_store(settings)
    signer = LinkSigner(settings.link_secret)
    servicer = DocumentServicer(uow_factory=factory, store=blob_store, signer=signer,
                                link_ttl=dt.timedelta(seconds=settings.link_ttl_seconds), clock=clock)
    grace = dt.timedelta(seconds=settings.sweep_grace_seconds)
    sweeper = Sweeper(
        run_once=lambda: services.sweep_unreferenced_blobs(factory(), blob_store, grace=grace, now=clock()),
        interval=settings.sweep_interval_seconds,
    )
    return App(settings=settings, engine=engine, uow_factory=factory, store=blob_store,
               servicer=servicer, sweeper=sweeper, sink=event_handlers.sink(factory),
               internal=DocumentInternalServicer(uow_factory=factory, store=blob_store))
