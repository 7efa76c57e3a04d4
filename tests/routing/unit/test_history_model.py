"""The approved-route projection entity (AP-7c): merging and ranking rules, no database."""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import given
from hypothesis import strategies as st

from permit_routing.models import RANK_HALF_LIFE, ApprovedRoute, log2_add
from permit_routing.routes import Row, route_key

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ROWS = (Row("130000", ("G4京港澳高速",)), Row("410000", ("G4京港澳高速",)))


def approved(times: list[dt.datetime]) -> ApprovedRoute:
    route = ApprovedRoute.first_approval(applicant="parties/p1", origin_province="130000",
                                         destination_province="410000", rows=ROWS,
                                         application="applications/A0", approve_time=times[0])
    for i, t in enumerate(times[1:], start=1):
        route.record_approval(application=f"applications/A{i}", approve_time=t)
    return route


def test_first_approval_keys_the_route_by_its_rows_AP_7c() -> None:
    route = approved([T0])
    assert route.route_key == route_key(ROWS)
    assert route.rows == ROWS
    assert (route.times_approved, route.first_approve_time, route.last_approve_time) == (1, T0, T0)


def test_log2_add_is_exact_and_never_overflows() -> None:
    assert log2_add(3.0, 3.0) == 4.0
    assert math.isclose(log2_add(0.0, 1.0), math.log2(3.0))
    assert log2_add(5000.0, 1.0) == 5000.0


days = st.integers(min_value=-3650, max_value=3650)


@given(st.lists(days, min_size=1, max_size=8), st.lists(days, min_size=1, max_size=8),
       st.integers(min_value=0, max_value=3650))
def test_rank_order_is_the_recency_weighted_count_at_any_time_AP_7c(a: list[int], b: list[int],
                                                                    later: int) -> None:
    """Ordering by the stored score = ordering by Σ 2^(-age/half-life) evaluated at any 'now'."""
    ta = [T0 + dt.timedelta(days=d) for d in a]
    tb = [T0 + dt.timedelta(days=d) for d in b]
    now = max(ta + tb) + dt.timedelta(days=later)

    def decayed(times: list[dt.datetime]) -> float:
        return sum(2 ** (-((now - t) / RANK_HALF_LIFE)) for t in times)

    da, db = decayed(ta), decayed(tb)
    if math.isclose(da, db, rel_tol=1e-9):
        return
    assert (approved(ta).rank_score > approved(tb).rank_score) == (da > db)
