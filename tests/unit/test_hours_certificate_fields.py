"""Certificates as the 2015 guidance lists them, without a server: the PDF's
text read back with pypdf carries every field (identity, service, issuer,
number and date, the optional training and awards) and the uploaded seal
as its image; the seal upload accepts PNG and JPEG only, within 512 KiB and
64-2048 pixels a side; the image is stored sealed with the PII cipher; a
certificate issued in a township carries its county office's seal; an
office outside the node can neither upload nor read it. (The same on the
real servers: tests/integration/test_hours_certificate_fields.py.)"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader

from services.common.errors import InvalidArgument, PermissionDenied
from services.common.pii import PiiCipher
from services.common.unit_of_work import TransactionalFakeUnitOfWork
from services.hours import validation as v
from services.hours.application import HoursApp
from services.hours.models import Certificate, Seal
from services.hours.pdf import CertificateText, render
from tests.unit.hours_fakes import FakeRepository, FakeStore
from tests.unit.test_hours_usecases import (
    COUNTY,
    NOW,
    TOWN,
    VID,
    FakeRegistration,
    Kit,
    draft,
    who,
)

FIELDS = CertificateText(
    number="ZYC-61-2026-000042-K7QX", name="司马志愿", id_type="resident_id",
    id_number_masked="1101**********002X", volunteer_number="ZY610113000042",
    hours="12.50", period="2026年03月02日 至 2026年11月01日",
    service_content="养老助老·敬老院陪护（12.50小时）", issuer_name="雁塔区志愿者协会",
    person_in_charge="王建国", handler="李经办", contact="029-88886666",
    issued_on="2026-11-23",
)  # fmt: skip


def image(size: int = 150, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 20, 20)).save(out, format=kind)
    return out.getvalue()


def flat(document: bytes) -> tuple[str, list[tuple[int, int]]]:
    page = PdfReader(io.BytesIO(document)).pages[0]
    sizes = [Image.open(io.BytesIO(i.data)).size for i in page.images]
    return re.sub(r"\s+", "", page.extract_text()), sizes


def test_every_listed_field_reads_back_from_the_pdf() -> None:
    text, sizes = flat(
        render(
            CertificateText(
                **{**FIELDS.__dict__, "seal_image": image(),
                   "training": ("应急救护培训（8学时）",), "awards": ("优秀志愿者",)}
            )
        )
    )  # fmt: skip
    for part in (
        FIELDS.name, "证件类型：居民身份证", f"证件号码：{FIELDS.id_number_masked}",
        f"志愿者编号：{FIELDS.volunteer_number}", "累计志愿服务时长12.50小时",
        "服务内容：养老助老·敬老院陪护", "于2026年03月02日至2026年11月01日期间",
        "出具单位：雁塔区志愿者协会", "负责人：王建国", "经办人：李经办",
        "联系方式：029-88886666", f"证明编号：{FIELDS.number}",
        "出具日期：2026-11-23", "参加培训：应急救护培训（8学时）",
        "获得表彰：优秀志愿者",
    ):  # fmt: skip
        assert part in text, (part, text)
    assert (150, 150) in sizes and "志愿服务专用章" not in text


def test_without_an_uploaded_seal_one_is_drawn_and_no_sections_show() -> None:
    text, sizes = flat(render(FIELDS))
    assert "志愿服务专用章" in text and (150, 150) not in sizes
    assert "参加培训" not in text and "获得表彰" not in text


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "image.required"),
        (b"hello, not an image", "image.format"),
        (image(kind="GIF"), "image.format"),
        (image(kind="BMP"), "image.format"),
        (image()[:100], "image.format"),
        (image(32), "image.dimensions"),
        (image(2100), "image.dimensions"),
        (b"\x89PNG" + bytes(512 * 1024), "image.max_size"),
    ],
    ids=["empty", "text", "gif", "bmp", "truncated", "small", "wide", "large"],
)
def test_a_seal_is_a_png_or_jpeg_within_bounds(data: bytes, rule: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        v.seal_image(data)
    assert (err.value.field, err.value.rule) == ("image", rule)
    assert err.value.message_zh


def test_png_and_jpeg_are_accepted() -> None:
    assert v.seal_image(image()) == ("image/png", 150, 150)
    assert v.seal_image(image(64, "JPEG")) == ("image/jpeg", 64, 64)


@pytest.fixture
def sealed() -> Kit:
    store = FakeStore()
    uow = TransactionalFakeUnitOfWork(store, NOW)
    fake = lambda work: FakeRepository(store, work.scope)  # noqa: E731
    registration = FakeRegistration()
    app = HoursApp(
        None,  # type: ignore[arg-type]
        registration,  # type: ignore[arg-type]
        uow.clock,
        PiiCipher(bytes(32)),
        uow=uow,
        repository=fake,  # type: ignore[arg-type]
        bank_repository=fake,  # type: ignore[arg-type]
    )
    return Kit(store, uow, registration, app)


def test_the_seal_is_stored_sealed_and_printed_below_its_office(sealed: Kit) -> None:
    png = image()
    seal = sealed.app.seals.upload(who(), "", "", png)
    assert (seal.division_code, seal.media_type, seal.size_bytes) == (
        COUNTY, "image/png", len(png),
    )  # fmt: skip
    (stored,) = sealed.store.of(Seal)
    assert not stored.image.startswith(b"\x89PNG") and png not in stored.image
    assert sealed.app.seals.get(who(), COUNTY, "")[1] == png
    record = sealed.ingest(draft(minutes=120))
    assert record is not None
    sealed.app.review.approve(who(), record.id)
    # Issued at the township: the county office's seal is the one printed.
    sealed.app.certificates.issue(
        who(), VID, ("", ""), TOWN, "", "雁塔区志愿者协会", "王建国", "李经办",
        "029-88886666",
    )  # fmt: skip
    (cert,) = sealed.store.of(Certificate)
    document = PiiCipher(bytes(32)).open(cert.pdf, context="certificate.pdf")
    text, sizes = flat(document)
    assert (150, 150) in sizes and "雁塔区志愿者协会" in text


def test_a_replacement_keeps_one_seal_a_node(sealed: Kit) -> None:
    sealed.app.seals.upload(who(), "", "", image())
    again = sealed.app.seals.upload(who(), "", "", image(200))
    assert len(sealed.store.of(Seal)) == 1 and again.width == 200


def test_an_office_outside_the_node_can_neither_upload_nor_read(sealed: Kit) -> None:
    sealed.app.seals.upload(who(), "", "", image())
    for call in (
        lambda: sealed.app.seals.upload(who("610103"), COUNTY, "", image(100)),
        lambda: sealed.app.seals.get(who("610103"), COUNTY, ""),
        lambda: sealed.app.seals.get(who(TOWN), COUNTY, ""),
    ):
        with pytest.raises(PermissionDenied) as err:
            call()
        assert err.value.field == "division_code"
    assert [s.width for s in sealed.store.of(Seal)] == [150]
