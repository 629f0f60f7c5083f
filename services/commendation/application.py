"""Commendation's use cases: each runs in one scoped transaction, checks the
caller's roles and scope, writes, bumps rollups and records events together.
Nothing here knows about gRPC or nameko."""

from __future__ import annotations

from services.commendation.notice import NoticeCases
from services.commendation.star_review import StarReviewCases


class CommendationApp(StarReviewCases, NoticeCases):
    """Every commendation use case, as the api role, the worker and the seed
    call them."""
