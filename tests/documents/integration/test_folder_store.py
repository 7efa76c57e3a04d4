"""The embedded folder store (zero-setup default): same rules, token download links."""

from __future__ import annotations

import hashlib
import urllib.parse
from pathlib import Path

import grpc
import pytest

from permitkit.errors import ErrorDetails
from tests.documents import corpus
from tests.documents.integration.conftest import DocumentsClient, new_party

pytestmark = pytest.mark.integration


def _token(url: str) -> tuple[str, str]:
    parsed = urllib.parse.urlsplit(url)
    name = parsed.path.removeprefix("/v1/").removesuffix(":download")
    return name, urllib.parse.parse_qs(parsed.query)["token"][0]


def test_upload_lands_in_the_data_folder_AP_4(folder_client: DocumentsClient, tmp_path: Path):
    party = new_party()
    doc = folder_client.upload(party, corpus.jpeg(exif=True))
    blob = tmp_path / "var" / "documents" / party.party / doc.sha256
    assert blob.is_file() and hashlib.sha256(blob.read_bytes()).hexdigest() == doc.sha256
    assert b"PhoneMaker" not in blob.read_bytes()


def test_download_link_is_a_signed_gateway_path_that_download_document_accepts(folder_client: DocumentsClient):
    party = new_party()
    data = corpus.pdf()
    doc = folder_client.upload(party, data, kind="TRANSPORT_PLAN", filename="运输计划.pdf")
    link = folder_client.url(party, doc.name)
    assert link.url.startswith(f"/v1/{doc.name}:download?token=")
    name, token = _token(link.url)
    # The link works without any principal (a browser following it) ...
    got, content = folder_client.download(None, name, token=token)
    assert got.name == doc.name and content == data
    # ... but not for another document.
    other = folder_client.upload(party, corpus.png(), filename="b.png")
    with pytest.raises(grpc.RpcError) as info:
        folder_client.download(None, other.name, token=token)
    assert ErrorDetails.from_rpc_error(info.value).reason == "DOWNLOAD_TOKEN_INVALID"


def test_oversize_file_leaves_nothing_in_the_folder_AP_9(folder_client: DocumentsClient, tmp_path: Path):
    party = new_party()
    with pytest.raises(grpc.RpcError) as info:
        folder_client.upload(party, corpus.png_of_exact_size(1_048_577), filename="a.png")
    assert ErrorDetails.from_rpc_error(info.value).reason == "FILE_TOO_LARGE"
    assert not (tmp_path / "var" / "documents" / party.party).exists()


def test_sweeper_removes_orphans_and_stale_temp_files_from_the_folder(folder_client: DocumentsClient, tmp_path: Path):
    import datetime as dt

    from permit_documents import services
    from permitkit.db import utcnow

    party = new_party()
    kept = folder_client.upload(party, corpus.jpeg())
    folder = tmp_path / "var" / "documents" / party.party
    (folder / ("f" * 64)).write_bytes(b"orphan")
    (folder / ".upload-crashed").write_bytes(b"half")
    app = folder_client.app
    removed = services.sweep_unreferenced_blobs(app.uow_factory(), app.store, grace=dt.timedelta(hours=1),
                                                now=utcnow() + dt.timedelta(hours=2))
    assert sorted(removed) == sorted([f"{party.party}/{'f' * 64}", f"{party.party}/.upload-crashed"])
    assert [p.name for p in folder.iterdir()] == [kept.sha256]
