"""Recycling's use cases: each runs in one scoped transaction, checks the
caller's roles and scope, writes, bumps the rollup and records events
together. Nothing here knows about gRPC or nameko. The areas live in
``usecases/``."""

from __future__ import annotations

from services.recycling.usecases.bins import BinDraft
from services.recycling.usecases.bookings import BookingCases
from services.recycling.usecases.collections import CollectionCases, CollectionDraft
from services.recycling.usecases.drives import (
    DriveCases,
    DriveDraft,
    DriveView,
    HandoutDraft,
)

__all__ = [
    "BinDraft",
    "CollectionDraft",
    "DriveDraft",
    "DriveView",
    "HandoutDraft",
    "RecyclingApp",
]


class RecyclingApp(CollectionCases, DriveCases, BookingCases):
    """Every recycling use case, as the api role and the seed call them."""
