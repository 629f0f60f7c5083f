"""The gateway's table-driven routes: query strings and bodies become the
request message, and a body that does not fit is a 400 naming the field."""

from __future__ import annotations

import pytest
from zhiyuan.activity.v1 import activity_pb2 as act
from zhiyuan.hours.v1 import hours_pb2 as hrs

from services.common.errors import InvalidArgument
from services.gateway.api_services import ACTIVITY, HOURS
from services.gateway.transcode import Route, _coerce, build_request, messages

LIST = Route("GET", "/hours/records", "hours", "ListRecords", "s", "hours")


def test_query_strings_fill_fields_and_the_page():
    data = _coerce(
        hrs.ListRecordsRequest.DESCRIPTOR,
        {"volunteer_id": "v1", "page_size": "20", "page_token": "abc"},
    )
    msg = build_request(LIST, hrs.ListRecordsRequest, {}, data)
    assert msg.volunteer_id == "v1"
    assert (msg.page.page_size, msg.page.page_token) == (20, "abc")


def test_path_parameters_win_over_the_body():
    route = Route(
        "POST", "/projects/{id}/return", "activity", "ReturnProject", "s", "p"
    )
    msg = build_request(
        route,
        act.ReturnProjectRequest,
        {"id": "p1"},
        {"id": "sneaky", "reason": "缺少说明"},
    )
    assert (msg.id, msg.reason) == ("p1", "缺少说明")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"titel": "x"}, "titel"),
        ({"sessions": "not-a-list"}, "sessions"),
        ({"kind": "PROJECT_KIND_NONSENSE"}, "kind"),
    ],
)
def test_a_body_that_does_not_fit_names_the_field(body, field):
    route = Route("POST", "/projects", "activity", "CreateProject", "s", "p")
    with pytest.raises(InvalidArgument) as err:
        build_request(route, act.CreateProjectRequest, {}, body)
    assert err.value.field == field
    assert err.value.message_zh


def test_every_route_names_a_real_rpc_and_its_path_fields():
    for route in ACTIVITY + HOURS:
        request, _ = messages(route)
        for name in __import__("re").findall(r"{(\w+)}", route.path):
            assert name in request.DESCRIPTOR.fields_by_name, (route.path, name)
