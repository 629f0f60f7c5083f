"""Registration's use cases: each runs in one scoped transaction, checks the
caller's roles and scope, writes, bumps rollups and records events together.
Nothing here knows about gRPC. The areas live in ``usecases/``."""

from __future__ import annotations

from services.registration.usecases.accounts import AccountCases
from services.registration.usecases.directory import DirectoryCases
from services.registration.usecases.people import Guardian, PeopleCases

__all__ = ["Guardian", "RegistrationApp"]


class RegistrationApp(DirectoryCases, AccountCases, PeopleCases):
    """Every registration use case, as the api role and the seed call them."""
