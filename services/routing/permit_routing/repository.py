"""Storage access for the approved-route projection."""

from __future__ import annotations

from sqlalchemy import select

from permit_routing.models import ApprovedRoute
from permitkit.db import RepositoryBase


class ApprovedRouteRepository(RepositoryBase[ApprovedRoute]):
    """Approved routes per applicant, origin and destination."""

    model = ApprovedRoute

    def find(self, *, applicant: str, origin_province: str, destination_province: str,
             route_key: str, for_update: bool = False) -> ApprovedRoute | None:
        stmt = select(ApprovedRoute).where(
            ApprovedRoute.applicant == applicant,
            ApprovedRoute.origin_province == origin_province,
            ApprovedRoute.destination_province == destination_province,
            ApprovedRoute.route_key == route_key,
        )
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def top(self, *, applicant: str, origin_province: str, destination_province: str,
            limit: int, offset: int = 0) -> list[ApprovedRoute]:
        """AP-7c ranking: approvals weighted by recency (ApprovedRoute.rank_score), best first;
        the id breaks ties, so pages of one ranking neither repeat nor skip a route."""
        stmt = (
            select(ApprovedRoute)
            .where(ApprovedRoute.applicant == applicant,
                   ApprovedRoute.origin_province == origin_province,
                   ApprovedRoute.destination_province == destination_province)
            .order_by(ApprovedRoute.rank_score.desc(), ApprovedRoute.last_approve_time.desc(),
                      ApprovedRoute.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))
