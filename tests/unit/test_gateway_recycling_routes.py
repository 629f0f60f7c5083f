"""The gateway's recycling routes: each names a real RecyclingService RPC and
its path fields, every RPC but Summarize (served by /rollups/recycling) has
a route, and the OpenAPI document lists them."""

from __future__ import annotations

import re

from zhiyuan.recycling.v1 import recycling_pb2 as pb

from services.common.config import load
from services.gateway.api_recycling import ROUTES
from services.gateway.app import create_app
from services.gateway.me.recycling import ROUTES as ME_ROUTES
from services.gateway.transcode import messages


def test_every_route_names_a_real_rpc_and_its_path_fields() -> None:
    for route in ROUTES:
        request, _ = messages(route)
        for name in re.findall(r"{(\w+)}", route.path):
            assert name in request.DESCRIPTOR.fields_by_name, (route.path, name)


def test_every_rpc_but_the_rollups_has_a_route() -> None:
    # Summarize and SummarizeFederated are served by the statistics and
    # dashboard routes, the same for every service.
    methods = set(pb.DESCRIPTOR.services_by_name["RecyclingService"].methods_by_name)
    mine = {r.rpc for r in ME_ROUTES}
    assert mine == {"CreateMyBooking", "ListMyBookings", "GetMyBooking"}
    rollups = {"Summarize", "SummarizeFederated"}
    assert {r.rpc for r in ROUTES} == methods - rollups - mine
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES)


def test_the_residents_own_routes_are_under_me() -> None:
    for route in ME_ROUTES:
        request, _ = messages(route)
        assert route.path.startswith("/me/bookings"), route.path
        for name in re.findall(r"{(\w+)}", route.path):
            assert name in request.DESCRIPTOR.fields_by_name, (route.path, name)
    paths = create_app(load()).openapi()["paths"]
    assert "201" in paths["/api/v1/me/bookings"]["post"]["responses"]
    assert "get" in paths["/api/v1/me/bookings/{id}"]


def test_the_openapi_document_lists_the_recycling_paths() -> None:
    doc = create_app(load()).openapi()
    paths = doc["paths"]
    for route in ROUTES:
        assert route.method.lower() in paths[f"/api/v1/recycling{route.path}"]
    post = paths["/api/v1/recycling/bookings"]["post"]
    assert "201" in post["responses"] and post["tags"] == ["recycling"]
