"""Activity's use cases: each runs in scoped transactions, checks the
caller's roles and scope, writes, bumps rollups and records events together.
Nothing here knows about gRPC. The areas live in ``usecases/``."""

from __future__ import annotations

from services.activity.usecases.attendance import AttendanceCases
from services.activity.usecases.pairing import PairingCases
from services.activity.usecases.projects import ProjectCases
from services.activity.usecases.signups import SignUpCases

__all__ = ["ActivityApp"]


class ActivityApp(ProjectCases, SignUpCases, AttendanceCases, PairingCases):
    """Every activity use case, as the api role and the seed call them."""
