"""Random sequences of case operations keep the review invariants (RV-1 to RV-3, PQ-6 to PQ-8)."""

from __future__ import annotations

import datetime as dt

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from permit_approval.models import (
    Actor,
    Case,
    CaseState,
    Decision,
    Permit,
    ReviewState,
)
from permit_approval.workdays import WorkingCalendar
from permitkit.errors import PermitError

ROUTE = ["130000", "370000", "320000"]
CAL = WorkingCalendar.from_library()
NOW = dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
TERMINAL = {CaseState.ISSUED, CaseState.DENIED, CaseState.CANCELLED, CaseState.REFUSED}
OPEN_REVIEW = {ReviewState.PENDING, ReviewState.ADJUSTMENT_PROPOSED}

provinces = st.sampled_from(ROUTE)
decisions = st.sampled_from(list(Decision))
roads = st.lists(st.sampled_from(["G1", "G2", "S9"]), min_size=1, max_size=2)


def rows(changed: str | None = None) -> list[dict[str, object]]:
    return [{"province": p, "roads": ["X"] if p == changed else ["G1"]} for p in ROUTE]


class CaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.case = Case.open(
            application="applications/A1", application_number="DJ1", applicant="parties/p1",
            origin_province=ROUTE[0], destination_province=ROUTE[-1], route_provinces=list(ROUTE),
            route=rows(), permit_class=3, plate_numbers=["冀A1"], vehicles=[], start_date=None,
            end_date=None, multi_trip=False, submission=1, documents=[], now=NOW, calendar=CAL)
        self.terminal_seen: CaseState | None = None
        self.submission = 1

    def attempt(self, fn, *args, **kw) -> None:  # type: ignore[no-untyped-def]
        """Run a transition; a refused one (PermitError) must leave the state unchanged."""
        before = (self.case.state, [(r.province, r.state) for r in self.case.reviews])
        try:
            fn(*args, **kw)
        except PermitError:
            after = (self.case.state, [(r.province, r.state) for r in self.case.reviews])
            assert after == before

    @rule()
    def accept(self) -> None:
        self.attempt(self.case.accept, actor=Actor("officers/o", ROUTE[0]), now=NOW, calendar=CAL)

    @rule(reason=st.sampled_from(["", "", "", "补正"]))
    def origin_return(self, reason: str) -> None:
        self.attempt(self.case.return_for_correction, actor=Actor("officers/o", ROUTE[0]),
                     reason=reason, now=NOW)

    @rule(province=provinces, decision=decisions, reason=st.sampled_from(["", "理由"]),
          suggested=roads)
    def decide(self, province: str, decision: Decision, reason: str, suggested: list[str]) -> None:
        self.attempt(self.case.decide, province=province, decision=decision, reason=reason,
                     actor=Actor(f"officers/{province}", province), now=NOW,
                     suggested_route=[{"province": province, "roads": suggested}])

    @rule(province=provinces)
    def approve(self, province: str) -> None:
        self.attempt(self.case.decide, province=province, decision=Decision.APPROVE, reason="",
                     actor=Actor(f"officers/{province}", province), now=NOW)

    @rule(province=provinces, accept=st.booleans(), plan=st.sampled_from(["", "documents/e"]))
    def respond(self, province: str, accept: bool, plan: str) -> None:
        self.attempt(self.case.respond_to_adjustment, province=province, accept=accept,
                     escort_plan=plan, actor=Actor("users/u"), now=NOW, calendar=CAL)

    @rule(changed=st.one_of(st.none(), provinces))
    def resubmit(self, changed: str | None) -> None:
        self.submission += 1
        self.attempt(self.case.reopen, submission=self.submission, route_provinces=list(ROUTE),
                     route=rows(changed), permit_class=3, plate_numbers=["冀A1"], vehicles=[],
                     start_date=None, end_date=None, multi_trip=False, documents=[],
                     application_number="", destination_province="", now=NOW, calendar=CAL)

    @rule(roll=st.integers(0, 5))
    def withdraw(self, roll: int) -> None:
        if roll == 0:  # rarer than the other steps, so that long journeys get explored
            self.attempt(self.case.cancel, actor=Actor("services/application"), reason="", now=NOW)

    @rule()
    def issue(self) -> None:
        self.attempt(Permit.issue, self.case, number="N1", actor=Actor("officers/o", ROUTE[0]),
                     now=NOW)

    @invariant()
    def ready_exactly_when_every_province_approved(self) -> None:
        approved = bool(self.case.reviews) and all(
            r.state == ReviewState.APPROVED for r in self.case.reviews)
        if self.case.state in (CaseState.READY_TO_ISSUE, CaseState.ISSUED):
            assert approved
        if self.case.state == CaseState.UNDER_REVIEW:
            assert not approved

    @invariant()
    def one_denial_denies(self) -> None:
        denied = [r for r in self.case.reviews if r.state == ReviewState.DENIED]
        assert len(denied) == (1 if self.case.state == CaseState.DENIED else 0)

    @invariant()
    def no_open_review_outside_review(self) -> None:
        if self.case.state != CaseState.UNDER_REVIEW:
            assert not any(r.state in OPEN_REVIEW for r in self.case.reviews)

    @invariant()
    def terminal_states_are_final(self) -> None:
        if self.terminal_seen is not None:
            assert self.case.state == self.terminal_seen
        elif self.case.state in TERMINAL:
            self.terminal_seen = CaseState(self.case.state)

    @invariant()
    def every_province_has_at_most_one_review(self) -> None:
        names = [r.province for r in self.case.reviews]
        assert len(names) == len(set(names)) and set(names) <= set(ROUTE)


TestCaseStateMachine = CaseMachine.TestCase
TestCaseStateMachine.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)
