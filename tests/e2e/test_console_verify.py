"""A certificate's public side (headless Chromium): its PDF embeds the Chinese
font and carries a QR code that decodes to the console's public verification
page, which anyone opens without logging in and which says the certificate is
valid; and a county admin who types the number of a volunteer registered in
another county is told the volunteer was not found, naming the field, as for
an unknown volunteer (not "须为 UUID 格式的编号")."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from pypdf import PdfReader

from tests.e2e.conftest import login
from tests.e2e.test_console_records import approved_record, client
from tests.helpers import log_in, new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_qr_code_opens_the_public_verification_page(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    record = approved_record(base, county, "社区助老（二维码核验）")
    with client(base, county) as http:
        number = ok(http.post("/certificates", json={
            "volunteer_id": record["volunteer_id"], "issuer_name": "雁塔区志愿者协会",
            "person_in_charge": "王建国", "contact": "029-88886666",
        }), 201)["certificate"]["number"]  # fmt: skip
        pdf = http.get(f"/certificates/{number}/pdf")
    assert pdf.status_code == 200, pdf.text
    sheet = PdfReader(io.BytesIO(pdf.content)).pages[0]
    fonts = [f.get_object() for f in sheet["/Resources"]["/Font"].values()]
    assert any(
        "/FontFile2" in f["/FontDescriptor"].get_object()
        for f in fonts
        if "/FontDescriptor" in f
    )
    decoded = [
        code.text
        for image in sheet.images
        for code in zxingcpp.read_barcodes(image.image)
    ]
    assert len(decoded) == 1 and decoded[0].endswith(f"/console/#/verify/{number}")

    # The address in the code, on this platform's gateway, with no login.
    page.goto(f"{base}/console/{decoded[0].split('/console/', 1)[1]}")
    result = page.locator("[data-testid=verify-result][data-status=valid]")
    result.wait_for()
    assert result.get_attribute("data-number") == number
    assert page.locator("[data-testid=login-form]").count() == 0
    assert page.inner_text("[data-testid=verify-verdict]").endswith("证明有效")


def test_a_volunteer_of_another_county_is_not_found_naming_the_field(
    platform, page
) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    with client(base, login(base, "changan-admin")) as http:
        theirs = ok(http.post("/volunteers", json={
            "name": "郑邻区", "id_number": new_id_number("610116"),
            "phone": new_phone(), "home_division_code": "610116001",
            "service_fields": ["elderly_care"],
        }), 201)["volunteer"]  # fmt: skip
    log_in(page, base, "yanta-admin", "/records")
    form = page.locator("[data-testid=certificate-form]")
    form.wait_for()
    errors = []
    for typed in (theirs["volunteer_number"], "ZY619999999999"):  # theirs, nobody's
        form.locator("[data-testid=cert-volunteer_id]").fill(typed)
        form.locator("[data-testid=cert-issuer_name]").fill("雁塔区志愿者协会")
        form.locator("[data-testid=cert-submit]").click()
        error = page.locator(
            f"[data-testid=issue-error][data-rule='volunteer_id.exists']:text('{typed}')"
        )
        error.wait_for()
        assert error.get_attribute("data-field") == "volunteer_id"
        errors.append(error.inner_text().replace(typed, "<typed>"))
    # The same words for both, the field's label first, no word of UUIDs.
    assert errors[0] == errors[1] == "志愿者：未找到志愿者“<typed>”"
    assert page.locator("[data-testid=certificate]").count() == 0
