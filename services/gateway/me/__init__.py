"""The volunteer's and resident's own routes (``/api/v1/me/...``), served to
the mobile pages at ``/m/``: each service's table lives in its own module of
this package and every route acts for the caller's own account (the token's
``vol`` claim, :func:`services.common.roles.own_volunteer`), never for an id
the request names."""

from __future__ import annotations

from fastapi import APIRouter

from services.gateway.me import (
    activity,
    commendation,
    hours,
    recycling,
    registration,
)
from services.gateway.transcode import register

router = APIRouter(prefix="/api/v1")

register(
    router,
    registration.ROUTES
    + activity.ROUTES
    + hours.ROUTES
    + commendation.ROUTES
    + recycling.ROUTES,
)
