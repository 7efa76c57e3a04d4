"""Renders and stores pending certificate versions after the permit's commit, with retries (CT-1)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from permit_approval.certificate.content import Content
from permit_approval.certificate.models import PermitCertificate
from permit_approval.certificate.peers import CertificateStore, PartyDirectory
from permit_approval.certificate.qr import verify_url
from permit_approval.certificate.render_pdf import render_pdf, render_png
from permit_approval.models import Permit

log = structlog.get_logger()
LEASE = dt.timedelta(minutes=2)
MAX_BACKOFF = dt.timedelta(minutes=5)


def filename(number: str, version: int, ext: str) -> str:
    return f"通行证-{number}-v{version}.{ext}"


class CertificateWorker:
    """A thread that renders and stores certificates that are not stored yet.

    Each version is leased before the slow part (rendering, uploads), so two
    replicas never store one version twice; a failure leaves it for a retry with
    exponential backoff. Identical content renders to identical bytes, which the
    documents service stores once, so a retry after a lost answer changes nothing.
    """

    def __init__(self, session_factory: Callable[[], Session], *, store: CertificateStore,
                 parties: PartyDirectory, verify_base_url: str,
                 clock: Callable[[], dt.datetime], poll_interval: float = 1.0) -> None:
        self._sessions = session_factory
        self._store = store
        self._parties = parties
        self._base = verify_base_url
        self._clock = clock
        self._poll = poll_interval
        self._event = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="certificate-worker",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._event.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake(self) -> None:
        self._event.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                while self.run_once() and not self._stopping.is_set():
                    pass
            except Exception:  # noqa: BLE001 - the loop must survive a database blip
                log.exception("certificate_worker_failed")
            self._event.wait(self._poll)
            self._event.clear()

    def run_once(self, limit: int = 5) -> int:
        """Store up to ``limit`` due versions; how many were stored."""
        now = self._clock()
        with self._sessions() as session:
            ids = list(session.scalars(
                select(PermitCertificate.id).where(PermitCertificate.store_time.is_(None),
                                                   PermitCertificate.next_attempt_time <= now)
                .order_by(PermitCertificate.create_time).limit(limit)))
        return sum(1 for i in ids if self._process(i))

    def _lease(self, cert_id: str, now: dt.datetime) -> tuple[Content, str, str] | None:
        with self._sessions() as session:
            cert = session.scalars(select(PermitCertificate).where(PermitCertificate.id == cert_id)
                                   .with_for_update(skip_locked=True)).first()
            if cert is None or cert.stored or (
                    cert.lease_expire_time is not None and _aware(cert.lease_expire_time) > now):
                return None
            cert.lease_expire_time = now + LEASE
            permit = session.get(Permit, cert.permit_id)
            holder = permit.holder if permit is not None else ""
            result = Content.from_json(cert.content), cert.verification_code, holder
            session.commit()
            return result

    def _process(self, cert_id: str) -> bool:
        now = self._clock()
        leased = self._lease(cert_id, now)
        if leased is None:
            return False
        content, code, holder = leased
        try:
            name = self._parties.display_name(holder)
            url = verify_url(self._base, code)
            pdf = render_pdf(content, applicant_name=name, url=url)
            png = render_png(content, applicant_name=name, url=url)
            pdf_doc = self._store.put(owner=holder, data=pdf, content_type="application/pdf",
                                      filename=filename(content.permit_number, content.version, "pdf"))
            png_doc = self._store.put(owner=holder, data=png, content_type="image/png",
                                      filename=filename(content.permit_number, content.version, "png"))
        except Exception as e:  # noqa: BLE001 - any failure is retried later
            self._failed(cert_id, e)
            return False
        with self._sessions() as session:
            cert = session.get(PermitCertificate, cert_id)
            if cert is not None:
                cert.pdf_document, cert.png_document = pdf_doc, png_doc
                cert.store_time = self._clock()
                cert.lease_expire_time = None
                cert.last_error = ""
                session.commit()
        log.info("certificate_stored", permit_number=content.permit_number,
                 version=content.version, pdf_bytes=len(pdf), png_bytes=len(png))
        return True

    def _failed(self, cert_id: str, error: Exception) -> None:
        now = self._clock()
        with self._sessions() as session:
            cert = session.get(PermitCertificate, cert_id)
            if cert is None:
                return
            cert.attempts += 1
            backoff = min(dt.timedelta(seconds=2 ** min(cert.attempts, 10)), MAX_BACKOFF)
            cert.next_attempt_time = now + backoff
            cert.lease_expire_time = None
            cert.last_error = f"{type(error).__name__}: {error}"[:500]
            session.commit()
            log.warning("certificate_store_failed", certificate=cert_id, attempts=cert.attempts,
                        retry_in_seconds=backoff.total_seconds(), error=cert.last_error)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
