"""The recycling service's routes for a resident's own pages (see
:mod:`services.gateway.me`): book an 爱为宝 pickup at the home division and
follow one's own bookings (requested → assigned → collected, with the
collected weight). Another's booking is NOT_FOUND like an unknown id."""

from __future__ import annotations

from services.gateway.transcode import Route

R = "recycling"

ROUTES: list[Route] = [
    Route(
        "GET",
        "/me/bookings",
        R,
        "ListMyBookings",
        "My pickup bookings, newest first / 我的上门回收预约",
        "me",
    ),
    Route(
        "GET",
        "/me/bookings/{id}",
        R,
        "GetMyBooking",
        "One of my pickup bookings / 我的预约详情",
        "me",
    ),
    Route(
        "POST",
        "/me/bookings",
        R,
        "CreateMyBooking",
        "Book a pickup (idempotent per request_id) / 预约上门回收",
        "me",
        status_code=201,
    ),
]
