"""A certificate as the 2015 guidance (民发〔2015〕149号) lists its contents,
on the real servers, read back from the PDF's text with pypdf: identity
(name, ID type and masked number, volunteer number), service (hours,
content, period), issuer (name, person in charge, handler 经办人, contact),
the certificate's number and date, and the issuer's uploaded seal image
(stored encrypted like the PDFs). The seal upload refuses what is not a
PNG or JPEG and what is over 512 KiB, with nothing written; a neighbour
county can neither upload a seal for the owner's node nor read the owner's
seal."""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import create_engine, text
from zhiyuan.hours.v1 import hours_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.rollup import CST
from tests.helpers import assert_field, auth, new_id_number, new_phone, rejected
from tests.integration import test_hours_flow as flow
from tests.integration.test_hours_flow import COUNTY, TOWN

pytestmark = pytest.mark.integration
hours = flow.hours  # the flow tests' fixture
policy = flow.policy  # the default hour policy pinned at TOWN
NEIGHBOUR = "610103"
NAME = "司马志愿"


def png(size: int = 200, colour: tuple[int, int, int] = (200, 20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


def seal_rows(code: str) -> list[Any]:
    """The stored seals of ``code``, as the database's owner reads them."""
    engine = create_engine(os.environ["HOURS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT image, sha256, uploaded_at FROM certificate_seals"
                        " WHERE division_code = :c AND organisation_id = ''"
                    ),
                    {"c": code},
                )
            )
    finally:
        engine.dispose()


def upload(hours: Any, tok: str, image: bytes, **fields: Any) -> Any:
    return hours.UploadSeal(
        pb.UploadSealRequest(image=image, **fields), metadata=auth(tok)
    ).seal


@pytest.fixture(scope="module")
def person(stub, token, hours):  # type: ignore[no-untyped-def]
    """A verified volunteer with a known ID number and one approved
    honour record of 2.5 hours at TOWN."""
    tok = token(COUNTY)
    id_number = new_id_number(COUNTY)
    vol = stub.RegisterVolunteer(
        reg.RegisterVolunteerRequest(
            name=NAME, id_number=id_number, phone=new_phone(),
            home_division_code=TOWN, service_fields=["elderly_care"],
        ),
        metadata=auth(tok),
    ).volunteer  # fmt: skip
    stub.VerifyVolunteer(reg.VerifyVolunteerRequest(id=vol.id), metadata=auth(tok))
    start = (datetime.now(UTC) - timedelta(days=20)).replace(
        hour=1, minute=0, second=0, microsecond=0
    )
    record = hours.RecordHonourHours(
        pb.RecordHonourHoursRequest(
            volunteer_id=vol.id, division_code=TOWN,
            organisation_name="雁塔区志愿者协会", service_field="elderly_care",
            content="敬老院陪护", session_start=start.isoformat(),
            session_end=(start + timedelta(hours=3)).isoformat(), hours=2.5,
            reason="纸质签到表补录",
        ),
        metadata=auth(tok),
    ).record  # fmt: skip
    hours.ApproveRecord(pb.ApproveRecordRequest(id=record.id), metadata=auth(tok))
    return vol, id_number, start


def test_the_certificate_carries_every_listed_field(hours, token, person):
    vol, id_number, start = person
    tok = token(COUNTY, username="yanta-clerk")
    image = png()
    seal = upload(hours, tok, image, division_code=COUNTY)
    assert (seal.media_type, seal.width, seal.height) == ("image/png", 200, 200)
    cert = hours.IssueCertificate(
        pb.IssueCertificateRequest(
            volunteer_id=vol.id, division_code=COUNTY,
            issuer_name="雁塔区志愿者协会", person_in_charge="王建国",
            handler="李经办", contact="029-88886666",
        ),
        metadata=auth(tok),
    ).certificate  # fmt: skip
    document = hours.GetCertificatePdf(
        pb.GetCertificatePdfRequest(number=cert.number), metadata=auth(tok)
    ).pdf
    page = PdfReader(io.BytesIO(document)).pages[0]
    flat = re.sub(r"\s+", "", page.extract_text())
    masked = f"{id_number[:4]}{'*' * 10}{id_number[-4:]}"
    today = datetime.now(UTC).astimezone(CST).date().isoformat()
    served = start.astimezone(CST).strftime("%Y年%m月%d日")
    expected = {
        "name": NAME,
        "ID type": "证件类型：居民身份证",
        "masked ID number": f"证件号码：{masked}",
        "volunteer number": f"志愿者编号：{vol.volunteer_number}",
        "hours": "累计志愿服务时长2.50小时",
        "content": "服务内容：养老助老·敬老院陪护",
        "period": f"于{served}至{served}期间",
        "issuer": "出具单位：雁塔区志愿者协会",
        "person in charge": "负责人：王建国",
        "handler": "经办人：李经办",
        "contact": "联系方式：029-88886666",
        "number": f"证明编号：{cert.number}",
        "date": f"出具日期：{today}",
    }
    missing = {k: v for k, v in expected.items() if re.sub(r"\s+", "", v) not in flat}
    assert not missing, (missing, flat)
    assert id_number not in flat  # never the full number
    # Training and awards were not asked for (test_certificate_lines.py).
    assert "参加培训" not in flat and "获得表彰" not in flat
    assert (cert.id_number_masked, cert.volunteer_number) == (
        masked,
        vol.volunteer_number,
    )
    # The uploaded seal is the image on the page (not the drawn one).
    images = [Image.open(io.BytesIO(i.data)) for i in page.images]
    assert any(i.size == (200, 200) for i in images), [i.size for i in images]
    assert "志愿服务专用章" not in flat
    # Stored encrypted, read back whole.
    (stored,) = seal_rows(COUNTY)
    assert not bytes(stored.image).startswith(b"\x89PNG")
    assert image not in bytes(stored.image)
    got = hours.GetSeal(pb.GetSealRequest(division_code=COUNTY), metadata=auth(tok))
    assert got.image == image and got.seal.sha256 == stored.sha256


@pytest.mark.parametrize(
    ("image", "rule"),
    [
        (b"%PDF-1.4 not an image", "image.format"),
        (b"GIF89a" + bytes(64), "image.format"),
        (png()[:200], "image.format"),  # a truncated PNG
        (png(32), "image.dimensions"),
        (b"\x89PNG" + bytes(512 * 1024), "image.max_size"),
        (b"", "image.required"),
    ],
    ids=["pdf", "gif", "truncated", "too-small", "too-large", "empty"],
)
def test_a_bad_seal_is_refused_and_nothing_is_written(hours, token, image, rule):
    before = seal_rows(COUNTY)
    trailers = rejected(
        lambda: upload(hours, token(COUNTY), image, division_code=COUNTY)
    )
    assert_field(trailers, "image", rule)
    assert seal_rows(COUNTY) == before


def test_a_neighbour_can_neither_upload_nor_read_the_owners_seal(hours, token):
    owner, neighbour = token(COUNTY), token(NEIGHBOUR)
    upload(hours, owner, png(), division_code=COUNTY)
    before = seal_rows(COUNTY)
    for call in (
        lambda: upload(hours, neighbour, png(300, (0, 0, 200)), division_code=COUNTY),
        lambda: hours.GetSeal(
            pb.GetSealRequest(division_code=COUNTY), metadata=auth(neighbour)
        ),
    ):
        trailers = rejected(call, grpc.StatusCode.PERMISSION_DENIED)
        assert_field(trailers, "division_code", "scope.contains")
    assert seal_rows(COUNTY) == before
    # A township below the owner cannot read the county's seal by its code
    # either (certificates issued there still carry it).
    trailers = rejected(
        lambda: hours.GetSeal(
            pb.GetSealRequest(division_code=COUNTY), metadata=auth(token(TOWN))
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert_field(trailers, "division_code", "scope.contains")
