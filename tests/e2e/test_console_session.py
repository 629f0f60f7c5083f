"""A session that expires while a county admin fills the registration form:
the submit goes back to login, nothing is registered, and after logging in
again the same page comes back with the form as it was."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PASSWORD, login
from tests.e2e.test_console_import import county_total
from tests.helpers import new_id_number, new_phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def sign_in(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("input[name=username]", "yanta-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")


def test_an_expired_session_keeps_the_form(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    before = county_total(base, login(base, "yanta-admin"))
    page.goto(f"{base}/console/#/volunteers")
    sign_in(page)
    form = page.locator("form:has([data-testid=vol-submit])")
    form.wait_for()
    id_number, phone = new_id_number("610113"), new_phone()
    form.locator("input[name=name]").fill("周未完")
    form.locator("input[name=id_number]").fill(id_number)
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=service_fields][value=minors]").check()

    page.evaluate("sessionStorage.setItem('zy.token', 'expired.token.value')")
    page.click("[data-testid=vol-submit]")
    page.wait_for_selector("[data-testid=login-error]:has-text('登录已过期')")
    assert county_total(base, login(base, "yanta-admin")) == before  # not registered

    sign_in(page)
    form.wait_for()
    page.wait_for_function(
        "v => document.querySelector('input[name=id_number]')?.value === v",
        arg=id_number,
    )
    assert form.locator("input[name=name]").input_value() == "周未完"
    assert form.locator("input[name=phone]").input_value() == phone
    assert form.locator("input[name=service_fields][value=minors]").is_checked()
    assert not form.locator(
        "input[name=service_fields][value=elderly_care]"
    ).is_checked()
