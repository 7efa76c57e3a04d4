"""What an applicant may do with an application now: the manual's 操作列 by status.

One table, read by clients through ``Application.allowed_actions`` so none of them
hard-codes the state machine; each action's own use case (here or in the approval
context) refuses it in every other state.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from permit_application.models import VALID_PERMIT_STATES, Application, State


class Action(StrEnum):
    EDIT = "EDIT"  # UpdateApplication (PQ-4)
    SUBMIT = "SUBMIT"  # SubmitApplication (AP-10)
    DELETE = "DELETE"  # DeleteApplication (PQ-4)
    WITHDRAW = "WITHDRAW"  # WithdrawApplication (PQ-5, PQ-8)
    CORRECT = "CORRECT"  # SubmitApplication with the corrected steps (PQ-6)
    RESPOND_TO_ADJUSTMENT = "RESPOND_TO_ADJUSTMENT"  # RespondToAdjustment (PQ-7)
    CHANGE_VEHICLE = "CHANGE_VEHICLE"  # RequestVehicleChange (PQ-10)
    EXTEND = "EXTEND"  # RequestExtension (PQ-11)
    ABOLISH = "ABOLISH"  # AbolishPermit (PQ-9)
    CLONE = "CLONE"  # CloneApplication, 再来一件 (PQ-3)


# The manual's 操作列: what each status offers before the details below narrow it.
BY_STATE: dict[State, tuple[Action, ...]] = {
    State.DRAFT: (Action.EDIT, Action.SUBMIT, Action.DELETE, Action.CLONE),
    State.SUBMITTED: (Action.WITHDRAW, Action.CLONE),
    State.PROCESSING: (Action.WITHDRAW, Action.RESPOND_TO_ADJUSTMENT, Action.CHANGE_VEHICLE, Action.CLONE),
    State.RETURNED: (Action.CORRECT, Action.CLONE),
    State.ISSUED: (Action.EXTEND, Action.ABOLISH, Action.CLONE),
    State.DENIED: (Action.CLONE,),
    State.WITHDRAWN: (Action.CLONE,),
}


def allowed_actions(app: Application, today: dt.date) -> list[Action]:
    """The actions the applicant may take on ``app`` on ``today``, in the table's order."""
    out = []
    for action in BY_STATE.get(app.status, ()):
        if action == Action.RESPOND_TO_ADJUSTMENT and not any(
                p.decision == "ROUTE_ADJUSTMENT" for p in app.progress):
            continue  # only while a province's suggested route waits for an answer
        if action in (Action.EXTEND, Action.ABOLISH) and app.permit_state_on(today) not in VALID_PERMIT_STATES:
            continue  # an abolished or expired permit is over
        out.append(action)
    return out
