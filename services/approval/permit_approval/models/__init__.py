"""Typed ORM entities of the approval context with their rules, one module per aggregate:

- ``base``: declarative base, outbox, states, the facts transitions record;
- ``case``: the case with its reviews, audit trail and vehicle changes;
- ``permit``: the permit and its extensions;
- ``submission``: the application as submitted, one row per submission;
- ``numbering``: permit numbers and the working calendar's administrator years;
- ``queue``: the number of cases in each work queue.
"""

from __future__ import annotations

from permit_approval.models.base import (  # noqa: F401
    INBOX,
    OPEN_CASE_STATES,
    OUTBOX,
    SHANGHAI,
    Actor,
    Base,
    CaseState,
    ChangeState,
    Decision,
    EventKind,
    OutgoingEvent,
    PermitState,
    ReviewState,
    local_date,
    new_id,
    normalise_route,
    route_part,
)
from permit_approval.models.case import (  # noqa: F401
    SEARCH_NUMBER,
    SEARCH_PLATES,
    VEHICLE_SPEC_KEYS,
    Case,
    CaseAudit,
    Review,
    VehicleChange,
    dedupe,
    validate_submission,
)
from permit_approval.models.numbering import (  # noqa: F401
    CalendarYear,
    PermitSequence,
)
from permit_approval.models.permit import (  # noqa: F401
    MULTI_TRIP_MONTHS,
    Extension,
    Permit,
    add_months,
    multi_trip_last_day,
)
from permit_approval.models.queue import (  # noqa: F401
    QueueKind,
    WorkQueueCount,
)
from permit_approval.models.submission import (  # noqa: F401
    CaseSubmission,
    FieldChange,
    changes_between,
)

# isort: split
# The certificate tables hang off Permit (Permit.certificates); registered with the metadata here.
from permit_approval.certificate import models as _certificate_models  # noqa: E402, F401
