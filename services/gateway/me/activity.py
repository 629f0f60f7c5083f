"""The activity service's routes for a volunteer's own pages (see
:mod:`services.gateway.me`): finding projects open to the volunteer, signing
up and withdrawing, checking in and out by the leader's code. Every one acts
for the volunteer the token names; no request names a volunteer.

Also the leader's side of the QR check-in: the session's current code as an
SVG QR code for the session screen (a managers' route, like
``/sessions/{session_id}/check-in-code``)."""

from __future__ import annotations

from services.gateway.transcode import Route

A = "activity"

ROUTES: list[Route] = [
    Route("GET", "/me/projects", A, "ListMyProjects",
          "Projects open to me / 可报名的项目", "me",
          doc="Recruiting projects of the caller's home division and its "
          "ancestors (a city's or province's emergency campaigns among them). "
          "Filters: ``service_field``, ``date`` (YYYY-MM-DD, a session on "
          "that day), ``near`` (a division code: the closest first)."),
    Route("GET", "/me/projects/{id}", A, "GetMyProject",
          "A project and my sign-ups / 项目详情与我的报名", "me"),
    Route("POST", "/me/sessions/{session_id}/sign-up", A, "SignUpMe",
          "Sign me up / 报名", "me", status_code=201,
          doc="A verified volunteer takes a place, or joins the waitlist "
          "(``waitlist_position``) when the session is full."),
    Route("POST", "/me/sign-ups/{id}/withdraw", A, "WithdrawMe",
          "Withdraw my sign-up / 取消报名", "me"),
    Route("GET", "/me/sign-ups", A, "ListMySignUps",
          "My sign-ups / 我的报名", "me"),
    Route("POST", "/me/check-in", A, "CheckInMe",
          "Check in by the code / 扫码签到", "me",
          doc="``code``: the six digits on the leader's screen; without "
          "``session_id`` the code finds the session among the caller's "
          "sessions under way. A wrong or expired code: 400 on ``code``."),
    Route("POST", "/me/check-out", A, "CheckOutMe",
          "Check out by the code / 扫码签退", "me"),
    Route("GET", "/me/training", A, "ListMyTraining",
          "My training / 我的培训", "me",
          doc="Courses attended and training hours, newest first; training "
          "hours are not service hours (``total_hours`` in all)."),
    Route("GET", "/sessions/{session_id}/code.svg", A, "GetCheckInQrCode",
          "The check-in code as a QR code / 签到二维码", "attendance",
          download=("svg", "image/svg+xml"),
          doc="For the session's leaders while it runs: an SVG QR code of "
          "``<public url>/m/#/check-in?session=<id>&code=<code>``, a new one "
          "each minute."),
]  # fmt: skip
