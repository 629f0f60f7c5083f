"""GET /api/v1/roles: the console's role lists come from services/common/
roles.py through the gateway, with no login, so they cannot drift."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.common import roles
from services.gateway import api_roles


def test_the_roles_route_serves_the_kernel_groups_without_a_login() -> None:
    app = FastAPI()
    app.include_router(api_roles.router)
    got = TestClient(app).get("/api/v1/roles")
    assert got.status_code == 200
    body = got.json()
    assert body["groups"] == {
        "admins": list(roles.ADMINS),
        "managers": list(roles.MANAGERS),
        "readers": list(roles.READERS),
        "reviewers": list(roles.REVIEWERS),
    }
    assert set(body["roles"]) == set(roles.IMPLIES)
    assert "volunteer" in body["roles"] and "volunteer" not in body["groups"]["readers"]
