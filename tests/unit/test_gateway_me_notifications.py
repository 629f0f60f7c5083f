"""The gateway's routes of a volunteer's inbox: each names a real
registration RPC and its path fields, and none of their requests can name a
volunteer (the inbox is the caller's own; the real chain is in
tests/integration/test_notifications.py and
tests/security/test_notifications_isolation.py)."""

from __future__ import annotations

import re

from services.gateway.me.registration import ROUTES
from services.gateway.transcode import messages

INBOX = {
    ("GET", "/me/notifications"): "ListMyNotifications",
    ("POST", "/me/notifications/{notification_id}/read"): "MarkNotificationRead",
    ("POST", "/me/notifications/read-all"): "MarkAllNotificationsRead",
}


def test_the_inbox_routes_name_real_rpcs_and_their_path_fields() -> None:
    got = {(r.method, r.path): r for r in ROUTES if r.path.startswith("/me/notif")}
    assert {k: r.rpc for k, r in got.items()} == INBOX
    for route in got.values():
        request, _ = messages(route)
        assert not route.public
        for name in re.findall(r"{(\w+)}", route.path):
            assert name in request.DESCRIPTOR.fields_by_name, (route.path, name)
        names = set(request.DESCRIPTOR.fields_by_name)
        assert not {n for n in names if "volunteer" in n}, (route.rpc, names)
