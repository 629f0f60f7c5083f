"""Commendation's use cases: each runs in the kernel's unit of work (one
scoped transaction), checks the caller's roles and scope, writes through the
repository, bumps rollups and records events together. Nothing here knows
about gRPC or nameko. The areas live in ``usecases/``."""

from __future__ import annotations

from services.commendation.usecases.notice import NoticeCases
from services.commendation.usecases.review import ReviewCases
from services.commendation.usecases.star_review import StarReviewCases

__all__ = ["CommendationApp"]


class CommendationApp(StarReviewCases, NoticeCases, ReviewCases):
    """Every commendation use case, as the api role, the worker and the seed
    call them."""
