"""GET /api/v1/certificates: the HOURS table routes it to ListCertificates,
and its query string (division, volunteer, status by proto name, page) fills
the request; a status that is not a CertificateStatus is a 400 naming it."""

from __future__ import annotations

import pytest
from zhiyuan.hours.v1 import hours_pb2 as hrs

from services.common.errors import InvalidArgument
from services.gateway.api_services import HOURS
from services.gateway.transcode import _coerce, build_request


def route():  # type: ignore[no-untyped-def]
    found = [r for r in HOURS if (r.method, r.path) == ("GET", "/certificates")]
    assert len(found) == 1
    return found[0]


def test_the_list_route_is_in_the_hours_table():
    r = route()
    assert (r.service, r.rpc, r.public) == ("hours", "ListCertificates", False)


def test_query_strings_fill_the_certificate_filters_and_page():
    query = {
        "division_code": "610113",
        "volunteer_id": "0b1f2d9e-8d1c-4c52-9a55-1c1b0f7b6a11",
        "status": "CERTIFICATE_STATUS_REVOKED",
        "page_size": "20",
        "page_token": "MjA=",
    }
    data = _coerce(hrs.ListCertificatesRequest.DESCRIPTOR, query)
    msg = build_request(route(), hrs.ListCertificatesRequest, {}, data)
    assert (msg.division_code, msg.volunteer_id) == (
        "610113",
        "0b1f2d9e-8d1c-4c52-9a55-1c1b0f7b6a11",
    )
    assert msg.status == hrs.CERTIFICATE_STATUS_REVOKED
    assert (msg.page.page_size, msg.page.page_token) == (20, "MjA=")


def test_an_unknown_status_name_is_refused_naming_the_field():
    data = _coerce(hrs.ListCertificatesRequest.DESCRIPTOR, {"status": "EXPIRED"})
    with pytest.raises(InvalidArgument) as err:
        build_request(route(), hrs.ListCertificatesRequest, {}, data)
    assert err.value.field == "status"
