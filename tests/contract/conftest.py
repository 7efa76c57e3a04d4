"""The contract tests run each consuming service for real (its database, its gRPC server with
the EventSinkService) with the fixtures of that service's own integration tests."""

from tests.application.integration.conftest import make_harness  # noqa: F401
from tests.approval.conftest import approval_db, clock, fake_application, running  # noqa: F401
from tests.documents.integration.conftest import (  # noqa: F401
    documents_db_url,
    folder_client,
    make_documents_client,
)
from tests.routing.integration.conftest import routing_addr, routing_app, routing_channel, routing_db  # noqa: F401
