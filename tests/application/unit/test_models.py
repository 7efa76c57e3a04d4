"""The status machine (PQ-1): every allowed transition, every refused one, and the
applicant's actions per status (PQ-4, PQ-5, PQ-6, PQ-8)."""

from __future__ import annotations

import pytest

from permit_application.models import STATE_LABELS, TRANSITIONS, Application, State
from permitkit.errors import PermitError
from tests.application.conftest import NOW

ALLOWED = {
    (State.DRAFT, State.SUBMITTED),
    (State.SUBMITTED, State.PROCESSING), (State.SUBMITTED, State.RETURNED), (State.SUBMITTED, State.DENIED),
    (State.SUBMITTED, State.WITHDRAWN),
    (State.PROCESSING, State.ISSUED), (State.PROCESSING, State.RETURNED), (State.PROCESSING, State.DENIED),
    (State.PROCESSING, State.WITHDRAWN),
    (State.RETURNED, State.SUBMITTED), (State.RETURNED, State.WITHDRAWN),
}


def app_in(state: State) -> Application:
    app = Application.new(id="DJ1320261201000001", party="parties/L1001", created_by="users/u1", now=NOW)
    app.state = state.value
    return app


def test_exactly_seven_statuses_with_the_manuals_labels_PQ_1() -> None:
    assert [STATE_LABELS[s] for s in State] == ["未提交", "未受理", "处理中", "已发证", "不予许可", "已撤销", "退回补正"]


@pytest.mark.parametrize("frm", list(State))
@pytest.mark.parametrize("to", list(State))
def test_each_transition_is_allowed_or_refused_PQ_1(frm: State, to: State) -> None:
    app = app_in(frm)
    if (frm, to) in ALLOWED:
        change = app.transition(to, actor="users/u1", reason="why", now=NOW)
        assert (change.from_state, change.to_state, change.actor, change.reason, change.change_time) == (
            frm.value, to.value, "users/u1", "why", NOW)
        assert app.version == 2
    else:
        with pytest.raises(PermitError) as e:
            app.transition(to, actor="users/u1", now=NOW)
        assert e.value.reason == "INVALID_TRANSITION" and app.status == frm
    assert {(f, t) for f, ts in TRANSITIONS.items() for t in ts} == ALLOWED


@pytest.mark.parametrize(("state", "reason"), [
    (State.SUBMITTED, "APPLICATION_NOT_DRAFT"), (State.PROCESSING, "APPLICATION_NOT_DRAFT"),
    (State.ISSUED, "APPLICATION_NOT_DRAFT"), (State.DENIED, "APPLICATION_NOT_DRAFT"),
    (State.WITHDRAWN, "APPLICATION_NOT_DRAFT"), (State.RETURNED, "CORRECTION_SUBMIT_ONLY"),
])
def test_only_a_draft_is_saved_step_by_step_PQ_4_PQ_6(state: State, reason: str) -> None:
    with pytest.raises(PermitError) as e:
        app_in(state).ensure_editable()
    assert e.value.reason == reason
    app_in(State.DRAFT).ensure_editable()


@pytest.mark.parametrize("state", [State.SUBMITTED, State.PROCESSING, State.ISSUED, State.DENIED, State.WITHDRAWN])
def test_only_drafts_and_corrections_are_submitted_AP_10(state: State) -> None:
    with pytest.raises(PermitError) as e:
        app_in(state).submit(actor="users/u1", request_id="", now=NOW)
    assert e.value.reason == "APPLICATION_NOT_SUBMITTABLE"


def test_submission_counts_from_one_and_a_correction_adds_one_PQ_6() -> None:
    app = app_in(State.DRAFT)
    app.submit(actor="users/u1", request_id="r1", now=NOW)
    assert (app.submission, app.submit_request_id, app.submit_time) == (1, "r1", NOW)
    app.state, app.return_reason = State.RETURNED.value, "补正"
    change = app.submit(actor="users/u1", request_id="r2", now=NOW)
    assert (app.submission, app.return_reason, change.reason) == (2, "", "补正后重新提交")


@pytest.mark.parametrize("state", list(State))
def test_only_submitted_and_processing_are_withdrawn_PQ_5_PQ_8(state: State) -> None:
    app = app_in(state)
    if state in (State.SUBMITTED, State.PROCESSING):
        assert app.withdraw(actor="users/u1", reason="", now=NOW).to_state == "WITHDRAWN"
    else:
        with pytest.raises(PermitError) as e:
            app.withdraw(actor="users/u1", reason="", now=NOW)
        assert e.value.reason == "APPLICATION_NOT_WITHDRAWABLE"


@pytest.mark.parametrize(("state", "permit_state", "occupies"), [
    (State.DRAFT, "", False), (State.SUBMITTED, "", True), (State.PROCESSING, "", True), (State.RETURNED, "", True),
    (State.ISSUED, "VALID", True), (State.ISSUED, "EXTENDED", True), (State.ISSUED, "ABOLISHED", False),
    (State.DENIED, "", False), (State.WITHDRAWN, "", False),
])
def test_which_applications_hold_a_vehicle_AP_6(state: State, permit_state: str, occupies: bool) -> None:
    app = app_in(state)
    app.permit_state = permit_state
    assert app.occupies_vehicle(NOW.date()) is occupies


def test_etags_change_with_every_write_and_stale_ones_abort() -> None:
    app = app_in(State.DRAFT)
    first = app.etag
    app.check_etag(first)
    app.check_etag("")
    app.touch()
    with pytest.raises(PermitError) as e:
        app.check_etag(first)
    assert e.value.reason == "ETAG_MISMATCH" and e.value.code.name == "ABORTED"


@pytest.mark.parametrize(("stored", "end", "shown"), [
    ("VALID", "2026-12-10", "VALID"), ("VALID", "2026-12-01", "VALID"), ("VALID", "2026-11-30", "EXPIRED"),
    ("EXTENDED", "2026-11-30", "EXPIRED"), ("ABOLISHED", "2026-11-30", "ABOLISHED"), ("", None, ""),
])
def test_a_permit_past_its_end_date_is_shown_expired_PQ_9(stored: str, end: str | None, shown: str) -> None:
    import datetime as dt

    app = Application.new(id="DJ1", party="parties/L1001", created_by="users/1", now=NOW)
    app.permit_state = stored
    app.permit_end_date = dt.date.fromisoformat(end) if end else None
    assert app.permit_state_on(dt.date(2026, 12, 1)) == shown
