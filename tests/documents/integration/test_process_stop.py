"""``python -m permit_documents`` stops cleanly on SIGTERM while its peers' health watches come and go.

Approval's and identity's relays watch the documents service's health
(permitkit.health_watch): their watches close and open again whenever a peer
restarts, and the graceful stop sends NOT_SERVING to every watcher. The process
must end by itself with exit code 0, no thread left behind (run_main would name
it on stderr), in the server's grace period plus a little.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from permit.documents.v1 import documents_service_pb2_grpc
from permitkit.testing import free_port, wait_for_port
from tests.documents import corpus
from tests.documents.integration.conftest import DocumentsClient, new_party

pytestmark = pytest.mark.integration


def test_stop_during_health_watch_churn_and_uploads_exits_cleanly(documents_db_url: str, tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERMIT_DOCUMENTS_")}
    env.update({"PERMIT_DOCUMENTS_DATABASE_URL": documents_db_url, "PERMIT_DATA_DIR": str(tmp_path),
                "PERMIT_DOCUMENTS_GRPC_PORT": str(port), "PERMIT_LOG_LEVEL": "WARNING",
                "PERMIT_DOCUMENTS_LINK_SECRET": "test-link-secret-0123456789"})
    proc = subprocess.Popen([sys.executable, "-m", "permit_documents"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    rounds: list[int] = []
    uploads: list[str] = []

    def churn() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while not stop.is_set():
                call = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)
                try:
                    next(call)
                    rounds.append(1)
                except grpc.RpcError:
                    pass
                finally:
                    call.cancel()

    def upload() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            client = DocumentsClient(documents_service_pb2_grpc.DocumentServiceStub(ch), None, None)  # type: ignore[arg-type]
            party, n = new_party(), 0
            while not stop.is_set():
                n += 1
                try:
                    uploads.append(client.upload(party, corpus.jpeg(color=(n % 256, 7, 7))).name)
                except grpc.RpcError:
                    pass  # refused once the server is stopping

    try:
        wait_for_port("127.0.0.1", port, timeout=60, proc=proc)  # type: ignore[arg-type]
        threads = [threading.Thread(target=churn, daemon=True) for _ in range(6)]
        threads.append(threading.Thread(target=upload, daemon=True))
        for t in threads:
            t.start()
        time.sleep(2.0)
        proc.send_signal(signal.SIGTERM)  # while watches still open and close
        started = time.monotonic()
        code = proc.wait(timeout=30)
        took = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(10)
        stderr = proc.stderr.read() if proc.stderr else ""
        assert code == 0, stderr[-2000:]
        assert "still running" not in stderr, stderr[-2000:]
        assert took < 12.0, f"stop took {took:.1f} s"  # grace 5 s, then the server ends its calls
        assert len(rounds) >= 20 and uploads, (len(rounds), len(uploads))
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
