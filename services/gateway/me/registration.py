"""The registration service's routes for a volunteer's own pages (see
:mod:`services.gateway.me`)."""

from __future__ import annotations

from services.gateway.transcode import Route

ROUTES: list[Route] = []
