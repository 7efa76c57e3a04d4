"""The use cases of the application context, one module per section of the manual:

- ``access``: ports and caller checks;
- ``drafts``: 二 the new application's steps;
- ``schedule``: the AP-6 duplicate check;
- ``submission``: 二 submitting;
- ``progress``: 三 progress and management;
- ``fleet``: vehicle and agent suggestions and the PC side's upkeep (PC-1);
- ``review_events``: the approval context's facts;
- ``legacy_import``: the PC system's export.

Each use case takes the unit of work first, then keyword-only primitives and the
caller's principal; it returns models or raises domain errors. This module
gathers them for the transport layer.
"""

from __future__ import annotations

from permit_application.access import (  # noqa: F401
    MATERIAL_DOCUMENT_KINDS,
    MAX_OVERLAPPING,
    NOTICE_SECONDS,
    NUMBER_PREFIX,
    SHANGHAI,
    DocumentChecker,
    DocumentRef,
    RouteCheck,
    RouteValidator,
    UnitOfWork,
    app_id_of,
    document_refs,
    local_route_check,
    own_application,
    party_of,
    require_applicant,
    require_reader,
    require_service,
    today_of,
)
from permit_application.drafts import (  # noqa: F401
    StepInput,
    apply_steps,
    classify_application,
    create_application,
    delete_application,
    get_required_materials,
    materials_for,
    materials_of,
    new_number,
    reclassify,
    rules_at,
    update_application,
)
from permit_application.errors import InvalidEvent  # noqa: F401
from permit_application.fleet import (  # noqa: F401
    create_fleet_agent,
    create_fleet_vehicle,
    get_vehicle,
    list_fleet_agents,
    list_fleet_vehicles,
    retire_fleet_agent,
    retire_fleet_vehicle,
    suggest_agents,
    suggest_vehicles,
    update_fleet_agent,
    update_fleet_vehicle,
    validate_plate_number,
)
from permit_application.legacy_import import (  # noqa: F401
    ImportCounts,
    import_legacy_records,
    sync_legacy_records,
)
from permit_application.models import ReviewEvent, ReviewKind  # noqa: F401
from permit_application.progress import (  # noqa: F401
    clone_application,
    get_application,
    list_applications,
    list_state_changes,
    search_applications,
    withdraw_application,
)
from permit_application.review_events import (  # noqa: F401
    give_back_hold,
    note_event,
    record_review_event,
)
from permit_application.schedule import (  # noqa: F401
    Conflict,
    check_vehicle_schedule,
    conflict_error,
    conflict_message,
    find_conflicts,
    raise_conflicts,
)
from permit_application.submission import (  # noqa: F401
    submit_application,
)
