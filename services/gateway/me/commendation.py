"""The commendation service's routes for a volunteer's own pages (see
:mod:`services.gateway.me`): the caller's stars, the way to the next star
and honours.

A resident's or volunteer's view of the award rounds of their area, their
public notices and the objection form needs no route of its own here: the
office routes (``/api/v1/commendation/rounds``,
``/rounds/{round_id}/notice``, ``/nominations/{nomination_id}/objections``)
already take any signed-in account whose scope lies in the round's area, a
volunteer's own included, with the notice's rules."""

from __future__ import annotations

from services.gateway.transcode import Route

ROUTES: list[Route] = [
    Route("GET", "/me/stars", "commendation", "GetMyStars",
          "My stars, progress to the next star and honours / 我的星级与荣誉", "me"),
]  # fmt: skip
