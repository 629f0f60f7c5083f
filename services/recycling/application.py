"""Recycling's use cases: each runs in one scoped transaction, checks the
caller's roles and scope, writes, bumps the rollup and records events
together. Nothing here knows about gRPC or nameko. The areas live in
``usecases/``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.common import outbox
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.remote import Remote
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork
from services.recycling.activity_client import Activity
from services.recycling.models import OUTBOX
from services.recycling.repository import sql_repository
from services.recycling.usecases.base import Context, RepositoryFactory
from services.recycling.usecases.bins import BinCases, BinDraft
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


class RecyclingApp:
    """Every recycling use case, as the api role and the seed call them, by
    area, all sharing one :class:`Context`:

    - ``bins``: placing bins and every later change of their status;
    - ``collections``: collection events, emptying their bins (through
      ``bins``) and, optionally, linking an activity session;
    - ``drives``: clothing donation drives and their distributions;
    - ``bookings``: residents' pickup bookings, requested to collected.

    ``repository``: how a unit of work's repository is made, and ``uow`` the
    unit of work (a test's in-memory ones instead of SQL)."""

    def __init__(
        self,
        db: Database,
        cipher: PiiCipher | None = None,
        activity: Activity | None = None,
        clock: Callable[[], datetime] = outbox.now,
        registration: Remote | None = None,
        *,
        repository: RepositoryFactory = sql_repository,
        uow: UnitOfWork | FakeUnitOfWork | None = None,
    ):
        ctx = Context(
            db=db,
            uow=uow if uow is not None else UnitOfWork(db, OUTBOX, clock),
            repo=repository,
            clock=clock,
            cipher=cipher,
            activity=activity,
            registration=registration,
        )
        self.bins = BinCases(ctx)
        self.collections = CollectionCases(ctx, self.bins)
        self.drives = DriveCases(ctx)
        self.bookings = BookingCases(ctx)
