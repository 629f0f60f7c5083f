"""An ID number's 6-digit address code must name a county of the division
tree, current or retired (a number keeps its first address code for life).
Real gRPC calls to registration's api role on the real PostgreSQL.

The reference data (mid-2023) carries no list of codes retired before it was
taken, so a county code missing from the tree is accepted when its city is in
the tree; a code whose city is unknown (``6199xx``) is refused."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.registration.idcard import make_id_number
from tests.helpers import auth, new_phone

pytestmark = pytest.mark.integration
HOME = "610113001"


def register(stub, tok, id_number):  # type: ignore[no-untyped-def]
    request = pb.RegisterVolunteerRequest(
        name="赵地址",
        id_number=id_number,
        phone=new_phone(),
        home_division_code=HOME,
        service_fields=["elderly_care"],
    )
    return stub.RegisterVolunteer(request, metadata=auth(tok)).volunteer


def refused(stub, tok, id_number):  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        register(stub, tok, id_number)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    trailers = dict(err.value.trailing_metadata())
    return trailers, err.value.details()


def count(stub, tok) -> int:  # type: ignore[no-untyped-def]
    got = stub.ListVolunteers(
        pb.ListVolunteersRequest(division_code=HOME), metadata=auth(tok)
    )
    return got.page.total_size


@pytest.mark.parametrize("code", ["619999", "619901", "119901"])
def test_an_unknown_address_code_is_refused_naming_the_field(stub, token, code):
    county = token("610113")
    before = count(stub, county)
    trailers, details = refused(stub, county, make_id_number(code, date(1990, 1, 2), 5))
    assert trailers["zhiyuan-field"] == "id_number"
    assert trailers["zhiyuan-rule"] == "id_number.address_code"
    assert "ID number" in details and "address code" in details
    zh = trailers["zhiyuan-message-zh-bin"].decode()
    assert "身份证号码" in zh and "地址码" in zh
    assert count(stub, county) == before  # nothing written


def test_a_current_county_code_is_accepted(stub, token):
    county = token("610113")
    vol = register(stub, county, make_id_number("610602", date(1991, 2, 3), 7))
    assert vol.id_number.startswith("6106")


def test_a_retired_county_code_is_accepted(stub, token):
    """A city and county created, then retired, in the tree at run time:
    numbers issued there stay valid, a sibling code never created does not."""
    province, county = token("61", "province_admin"), token("610113")
    for code, name in (("6187", "旧地区"), ("618702", "旧县")):
        stub.CreateDivision(
            pb.CreateDivisionRequest(code=code, name=name, reason="test"),
            metadata=auth(province),
        )
    for code in ("618702", "6187"):
        stub.RetireDivision(
            pb.RetireDivisionRequest(code=code, reason="merged / 撤并"),
            metadata=auth(province),
        )
    vol = register(stub, county, make_id_number("618702", date(1975, 4, 5), 9))
    assert vol.id_number.startswith("6187")
    refused(stub, county, make_id_number("618801", date(1975, 4, 5), 9))


def test_a_county_code_missing_from_the_data_under_a_known_city_is_accepted(
    stub, token
):
    """No historical list ships with the reference data, so an old county
    code under a city of the tree stays valid (6101 西安市 exists)."""
    county = token("610113")
    vol = register(stub, county, make_id_number("610121", date(1960, 6, 7), 3))
    assert vol.id_number.startswith("6101")


def test_bulk_import_refuses_an_unknown_address_code(migrated):  # type: ignore[no-untyped-def]
    """The CSV import path checks the same rule, row by row."""
    from services.common.config import load
    from services.common.db import Database
    from services.common.keys import pii_cipher
    from services.common.tenancy import Scope
    from services.registration import bulk

    db = Database(load().service("registration"))
    try:
        row = {"name": "钱导入", "phone": new_phone(), "home_division_code": HOME}
        rows = [
            {**row, "id_number": make_id_number("610113", date(1982, 8, 9), 11)},
            {**row, "id_number": make_id_number("619999", date(1982, 8, 9), 13)},
        ]
        report = bulk.import_rows(
            db, Scope("610113"), rows, source="addr", cipher=pii_cipher(load())
        )
    finally:
        db.dispose()
    assert (report.imported, report.rejected) == (1, 1)
    assert [(e.row, e.field, e.rule) for e in report.errors] == [
        (3, "id_number", "id_number.address_code")
    ]
    assert "身份证号码" in report.errors[0].message_zh
