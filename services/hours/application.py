"""Hours' use cases: each runs in one scoped transaction, checks the caller's
roles and scope, writes, bumps rollups and records events together. Nothing
here knows about gRPC or nameko. The areas live in ``usecases/``."""

from __future__ import annotations

from services.hours.usecases.certificates import CertificateCases
from services.hours.usecases.policy import PolicyCases
from services.hours.usecases.records import Draft, RecordCases
from services.hours.usecases.review import ReviewCases
from services.hours.usecases.timebank import TimeBankCases

__all__ = ["Draft", "HoursApp"]


class HoursApp(RecordCases, ReviewCases, CertificateCases, TimeBankCases, PolicyCases):
    """Every hours use case, as the api role, the worker and the seed call them."""
