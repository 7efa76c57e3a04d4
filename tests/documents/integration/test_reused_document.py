"""A file a carrier reuses for many applications costs the same to use the 300th time as the first.

Each application that uses a document grants its reviewing provinces access
(AP-9, RV-1): a transport plan a carrier attaches to every application gains
a grant per application and province. Uploading it again (deduplicated), the
owner's and the services' reads, a new grant and an officer's read must not
load every grant the document has (the soak saw the documents process grow with
them: each request allocated more as the list grew).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from tests.documents import corpus
from tests.documents.integration.conftest import SERVICE, DocumentsClient, new_party, officer

pytestmark = pytest.mark.integration

GRANTS = 300


@contextmanager
def grant_rows_read(client: DocumentsClient) -> Iterator[list[int]]:
    """Rows the documents service reads from document_grant while the block runs."""
    engine = client.app.engine
    assert engine is not None
    rows: list[int] = []

    def after(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM document_grant" in statement:
            rows.append(cursor.rowcount)

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield rows
    finally:
        event.remove(engine, "after_cursor_execute", after)


def test_reused_document_uses_load_only_the_grants_they_look_at_AP_9(folder_client: DocumentsClient):
    owner = new_party()
    plan = corpus.png(text={"Title": "运输计划"})
    doc = folder_client.upload(owner, plan, kind="TRANSPORT_PLAN", filename="运输计划.png")
    # 300 earlier applications used it, each reviewed by Hebei and Jiangsu.
    engine = folder_client.app.engine
    assert engine is not None
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO document_grant (document_id, application, province, create_time) "
                          "SELECT :doc, 'applications/DJ' || n, p, now() "
                          "FROM generate_series(1, :n) AS n, (VALUES ('130000'), ('320000')) AS v(p)"),
                     {"doc": doc.name.removeprefix("documents/"), "n": GRANTS})

    with grant_rows_read(folder_client) as rows:
        again = folder_client.upload(owner, plan, kind="TRANSPORT_PLAN", filename="运输计划.png")
        assert again.name == doc.name  # deduplicated
        assert folder_client.get(owner, doc.name).name == doc.name
        assert folder_client.get(SERVICE, doc.name).name == doc.name
    assert rows == [], "upload and the owner's and a service's reads load no grants"

    with grant_rows_read(folder_client) as rows:
        resp = folder_client.grant(SERVICE, "applications/DJ9999", ["130000", "320000"], [doc.name],
                                   owner=owner.party or "")
        assert resp.applied is True
    assert sum(rows) == 0, f"a new application's grant compares with its own grants only: {rows}"

    with grant_rows_read(folder_client) as rows:
        assert folder_client.get(officer("130000"), doc.name).name == doc.name
    assert sum(rows) == 1, f"one of Hebei's grants answers it: {rows}"
    with grant_rows_read(folder_client) as rows:
        with pytest.raises(Exception):  # noqa: B017 - not found for a province not reviewing it
            folder_client.get(officer("110000"), doc.name)
    assert sum(rows) == 0, rows

    # The same grant again (a redelivered event without its id) adds nothing.
    folder_client.grant(SERVICE, "applications/DJ9999", ["130000"], [doc.name], owner=owner.party or "")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM document_grant WHERE document_id = :d"),
                            {"d": doc.name.removeprefix("documents/")}).scalar() == 2 * GRANTS + 2
