"""The check-in code as a QR code for the leader's screen: the address a
phone camera opens (the volunteer's check-in page with the session and the
code filled in), drawn as SVG by segno.

Example:
    >>> checkin_url("https://zy.example.cn/", "s-1", "042195")
    'https://zy.example.cn/m/#/check-in?session=s-1&code=042195'
    >>> svg(checkin_url("https://zy.example.cn", "s-1", "042195"))[:4]
    b'<svg'
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

import segno


def checkin_url(public_url: str, session_id: str, code: str) -> str:
    """``<public url>/m/#/check-in?session=<id>&code=<code>`` (``public_url``
    is where the public reaches the gateway: ``gateway.public_url``)."""
    query = urlencode({"session": session_id, "code": code})
    return f"{public_url.rstrip('/')}/m/#/check-in?{query}"


def svg(url: str) -> bytes:
    """The QR code of ``url`` as a standalone SVG document (error correction
    M, quiet zone 4), scaled by its viewBox to whatever box shows it."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out,
        kind="svg",
        scale=8,
        border=4,
        xmldecl=False,
        svgns=True,
        title="签到二维码 / check-in QR code",
        svgclass="checkin-qr",
        lineclass=None,
        omitsize=True,
    )
    return out.getvalue()
