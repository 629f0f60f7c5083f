"""The volunteers' phone pages at ``/m/`` in headless Chromium on a phone
(390x844, touch), against the platform as `make run` starts it.

A volunteer's journey: registers on the form (home division picked from the
tree) → the office verifies through the API → signs in with the volunteer
number → finds a project and signs up → opens the leader's QR address while
signed out, signs in and checks in → a wrong code is refused under the input
→ checks out by the typed code → the office approves the hours → sees them,
the stars and the progress → files an objection, which lands in the office's
queue → requests a certificate and downloads its PDF → signs out.
The registration form: the guardian's fields for an under-14, errors shown
by the field's label in Chinese and in English, a duplicate ID number.
A full session: the phone joins the waitlist, sees its place, withdraws;
the "near" filter keeps its township.

Every page is photographed at 390 and 1366 px
(``test-artifacts/screenshots/mobile-<page>-390.png`` and ``-1366.png``);
at 390 px none scrolls sideways and every control is at least 40 px tall."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page

from services.common.divisions import name_of
from services.common.testing import wait_for
from tests.browser import shot
from tests.browser.plugin import PHONE
from tests.e2e.conftest import login, login_with
from tests.e2e.test_service_flow import back_date_check_in, iso
from tests.helpers import new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

COUNTY, TOWN = "610113", "610113006"
PATH = ["61", "6101", COUNTY, TOWN]
LAPTOP = {"width": 1366, "height": 900}
PASSWORD = "my-own-pass-2026"  # noqa: S105 - a test volunteer's password


def fits_the_phone(page: Page) -> None:
    """At 390 px nothing scrolls sideways and every visible control is at
    least 40 px tall (a checkbox's whole label is its target)."""
    got = page.evaluate(
        """() => {
          const tall = (n) => n.getBoundingClientRect().height;
          const shown = (n) => n.getClientRects().length > 0;
          const controls = [...document.querySelectorAll(
            'a, button, select, summary, input:not([type=checkbox]), label.check'
          )].filter(shown);
          return {
            width: document.scrollingElement.scrollWidth, viewport: window.innerWidth,
            small: controls.filter((n) => tall(n) < 40)
              .map((n) => `${n.tagName} ${n.dataset.testid || n.textContent}`),
          };
        }"""
    )
    assert got["viewport"] == PHONE["viewport"]["width"]
    assert got["width"] <= got["viewport"], got
    assert got["small"] == [], got


def photograph(page: Page, name: str) -> None:
    """Checks the page at 390 px, then keeps it at 390 and at 1366 px."""
    fits_the_phone(page)
    shot(page, f"mobile-{name}-390")
    page.set_viewport_size(LAPTOP)
    shot(page, f"mobile-{name}-1366")
    page.set_viewport_size(PHONE["viewport"])


def sign_in(page: Page, base: str, username: str, route: str = "") -> None:
    """Signs in on the phone page and waits for the tab bar."""
    target = f"?next={quote('#' + route, safe='')}" if route else ""
    page.goto(f"{base}/m/#/signin{target}")
    page.fill("[data-testid=signin-form] input[name=username]", username)
    page.fill("[data-testid=signin-form] input[name=password]", PASSWORD)
    page.click("[data-testid=signin-submit]")
    page.wait_for_selector("[data-testid=tabs]", state="visible")


def pick_home(page: Page, path: list[str]) -> None:
    """Chooses each level of the registration form's division picker."""
    for code in path:
        select = f"[data-testid=reg-division] select:has(option[value='{code}'])"
        page.wait_for_selector(select, state="attached")
        page.select_option(select, code)


def fill_registration(page: Page, **values: str) -> None:
    for name, value in values.items():
        page.fill(f"[data-testid=reg-{name}]", value)


def county_project(
    http: httpx.Client,
    county: dict,
    province: dict,
    title: str = "手机报名测试：社区助老",
    capacity: int = 5,
) -> tuple[str, str]:
    """A recruiting county project whose one session is under way; (id, session)."""
    org = ok(
        http.get("/organisations", headers=county, params={"division_code": COUNTY})
    )
    org = next(o for o in org["organisations"] if o["division_code"] == COUNTY)
    now = datetime.now(UTC)
    created = ok(
        http.post(
            "/projects",
            headers=county,
            json={
                "organisation_id": org["id"],
                "title": title,
                "place": "雁塔区电视塔社区",
                "description": "陪伴独居老人，读报聊天。",
                "service_field": "elderly_care",
                "kind": "PROJECT_KIND_SERVICE",
                "sessions": [
                    {
                        "starts_at": iso(now - timedelta(minutes=90)),
                        "ends_at": iso(now + timedelta(minutes=60)),
                        "capacity": capacity,
                    }
                ],
                "recruit_starts_at": iso(now - timedelta(hours=2)),
                "recruit_ends_at": iso(now + timedelta(minutes=30)),
            },
        ),
        201,
    )["project"]
    pid = created["id"]
    ok(http.post(f"/projects/{pid}/submit", headers=county))
    ok(http.post(f"/projects/{pid}/approve", headers=province))
    ok(http.post(f"/projects/{pid}/publish", headers=county))
    return pid, created["sessions"][0]["id"]


def test_a_volunteers_journey_on_the_phone(platform, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    base, env, _ = platform
    page = phone_page
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    county, province = login(base, "yanta-admin"), login(base, "sx-admin")

    # Signed out: the sign-in page, without the tab bar.
    page.goto(f"{base}/m/")
    page.wait_for_selector("[data-testid=signin-form]")
    assert page.locator("[data-testid=tabs]").is_hidden()
    photograph(page, "signin")

    # Self-registration on the form.
    page.click("[data-testid=to-register]")
    page.wait_for_selector("[data-testid=register-form] [data-testid=reg-fields] input")
    fill_registration(
        page,
        name="陈小雨",
        id_number=new_id_number(COUNTY),
        phone=(mobile := new_phone()),
        skills="急救、摄影",
        password=PASSWORD,
        password2=PASSWORD,
    )
    pick_home(page, PATH)
    page.check("[data-testid=reg-fields] input[value=elderly_care]")
    page.click("[data-testid=reg-submit]")
    done = page.locator("[data-testid=registered]")
    done.wait_for()
    assert "等待所在地志愿服务组织审核" in done.inner_text()
    number = page.inner_text("[data-testid=registered-number]").strip()
    assert number
    photograph(page, "registered")

    # The office verifies it (its existing queue), through the API.
    found = ok(http.get("/volunteers", headers=county, params={"q": number}))
    (vol,) = found["volunteers"]
    assert vol["status"] == "VOLUNTEER_STATUS_PENDING"
    assert vol["home_division_code"] == TOWN
    ok(http.post(f"/volunteers/{vol['id']}/verify", headers=county))

    # Signs in by the volunteer number; "me" says verified.
    sign_in(page, base, number, "/me")
    page.wait_for_selector(
        "[data-testid=me-status][data-status=VOLUNTEER_STATUS_VERIFIED]"
    )
    assert page.inner_text("[data-testid=me-number]") == number
    # The home division by name, from the province down.
    page.wait_for_function(
        "([s, n]) => document.querySelector(s).textContent.endsWith(' ' + n)",
        arg=["[data-testid=me-home]", name_of(TOWN)],
    )
    photograph(page, "me")

    # Finds the county's project (once activity knows the verified volunteer).
    pid, sid = county_project(http, county, province)
    own = login_with(base, mobile, PASSWORD)  # the phone signs in too
    wait_for(
        lambda: pid in str(http.get("/me/projects", headers=own).json()),
        timeout=30,
        what="the project among the volunteer's open projects",
    )
    page.click("[data-testid=tab-find]")
    card = page.locator(f"[data-testid=project][data-id='{pid}']")
    card.wait_for()
    # Filtered by service field (kept in the address): only that field's.
    page.click("[data-testid=filters] summary")
    page.select_option("[data-testid=filter-field]", "emergency")
    page.wait_for_selector("[data-loaded='?service_field=emergency']")
    assert card.count() == 0
    page.select_option("[data-testid=filter-field]", "elderly_care")
    page.wait_for_selector("[data-loaded='?service_field=elderly_care']")
    assert card.count() == 1
    photograph(page, "find")
    card.click()
    session = page.locator(f"[data-testid=session][data-id='{sid}']")
    session.locator("[data-testid=sign-up]").click()
    status = session.locator("[data-testid=sign-up-status]")
    status.wait_for()
    assert status.get_attribute("data-status") == "SIGN_UP_STATUS_CONFIRMED"
    assert page.inner_text("[data-testid=project-notice]") == "报名成功"
    photograph(page, "project")

    page.goto(f"{base}/m/#/sign-ups")
    mine = page.locator("[data-testid=my-sign-up]")
    mine.first.wait_for()
    assert mine.count() == 1
    assert mine.first.get_attribute("data-status") == "SIGN_UP_STATUS_CONFIRMED"
    assert "手机报名测试" in mine.first.inner_text()
    photograph(page, "sign-ups")

    # The leader's QR code opens the check-in page: signed out, the volunteer
    # signs in first and comes back to it with the code filled in.
    ok(http.post(f"/projects/{pid}/start", headers=county))
    qr = ok(http.get(f"/sessions/{sid}/check-in-code", headers=county))
    page.click("[data-testid=tab-me]")
    page.click("[data-testid=signout]")
    page.wait_for_selector("[data-testid=signin-form]")
    page.goto(f"{base}/m/#/check-in?session={sid}&code={qr['code']}")
    page.fill("[data-testid=signin-form] input[name=username]", mobile)
    page.fill("[data-testid=signin-form] input[name=password]", PASSWORD)
    page.click("[data-testid=signin-submit]")
    page.wait_for_selector("[data-testid=check-in-page]")
    assert page.input_value("[data-testid=code]") == qr["code"]
    page.click("[data-testid=check-in]")
    page.wait_for_selector("[data-testid=check-in-done][data-way=check-in]")

    # A wrong code: the service's message under the input, by its label.
    back_date_check_in(env["ACTIVITY_DATABASE_URL"], sid, vol["id"])
    code = ok(http.get(f"/sessions/{sid}/check-in-code", headers=county))["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.goto(f"{base}/m/#/check-in")
    page.fill("[data-testid=code]", wrong)
    page.click("[data-testid=check-out]")
    error = page.locator("[data-testid=error-code]")
    error.wait_for()
    assert error.inner_text().startswith("签到码：")
    assert error.get_attribute("data-field") == "code"
    photograph(page, "check-in")

    page.fill("[data-testid=code]", code)
    page.click("[data-testid=check-out]")
    page.wait_for_selector("[data-testid=check-in-done][data-way=check-out]")
    assert page.locator("[data-testid=check-out-at]").is_visible()

    # The office approves the hours; the volunteer sees them and the stars.
    record = wait_for(
        lambda: ok(http.get("/me/records", headers=own))["records"],
        timeout=30,
        what="the hours record from the check-out",
    )[0]
    ok(http.post(f"/hours/records/{record['id']}/approve", headers=county))
    page.click("[data-testid=tab-service]")
    item = page.locator(f"[data-testid=record][data-id='{record['id']}']")
    item.wait_for()
    assert item.get_attribute("data-status") == "RECORD_STATUS_APPROVED"
    total = page.inner_text("[data-testid=hours-total] .v")
    assert total == f"{record['hours']:g} 小时"
    stars = page.locator("[data-testid=stars]")
    assert stars.get_attribute("data-stars") == "0"
    assert page.locator("[data-testid=star-progress]").is_visible()
    assert "1 星" in page.inner_text("[data-testid=to-next]")

    # An objection to the record lands in the office's queue.
    item.locator("[data-testid=objection-open]").click()
    item.locator("[data-testid=objection-reason]").fill(
        "实际服务到 11 点，少记了半小时"
    )
    photograph(page, "service")
    item.locator("[data-testid=objection-submit]").click()
    item.locator("[data-testid=objection-sent]").wait_for()
    assert item.locator("[data-testid=objection-status]").inner_text() == "异议处理中"
    queue = ok(http.get("/objections", headers=county))["objections"]
    (filed,) = [o for o in queue if o["volunteer_id"] == vol["id"]]
    assert filed["record_id"] == record["id"]

    # While it is open no second one; the office's answer shows on the record.
    page.reload()
    item.locator(
        "[data-testid=objection][data-status=OBJECTION_STATUS_OPEN]"
    ).wait_for()
    assert item.locator("[data-testid=objection-open]").count() == 0
    ok(
        http.post(
            f"/objections/{filed['id']}/resolve",
            headers=county,
            json={"outcome": "dismissed", "note": "签到记录显示 10:05 签退"},
        )
    )
    page.reload()
    item.locator(
        "[data-testid=objection][data-status=OBJECTION_STATUS_DISMISSED]"
    ).wait_for()
    assert item.locator("[data-testid=objection-answer]").inner_text() == (
        "处理意见：签到记录显示 10:05 签退"
    )
    assert item.locator("[data-testid=objection-open]").is_visible()

    # A certificate: requested, listed, downloaded as PDF.
    page.click("[data-testid=tab-me]")
    page.click("[data-testid=to-certificates]")
    page.wait_for_selector("[data-testid=no-certificates]")
    china_month = (datetime.now(UTC) + timedelta(hours=8)).strftime("%Y-%m")
    page.fill("[data-testid=period-start]", china_month)
    page.click("[data-testid=certificate-request]")
    issued = page.locator("[data-testid=certificate-issued]")
    issued.wait_for()
    cert = page.locator("[data-testid=certificate]")
    assert cert.count() == 1
    assert cert.first.get_attribute("data-number") in issued.inner_text()
    with page.expect_download() as got:
        cert.first.locator("[data-testid=certificate-download]").click()
    with open(got.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    photograph(page, "certificates")

    # Signing out forgets the token: the next page asks to sign in.
    page.click("[data-testid=tab-me]")
    page.click("[data-testid=signout]")
    page.wait_for_selector("[data-testid=signin-form]")
    page.goto(f"{base}/m/#/service")
    page.wait_for_selector("[data-testid=signin-form]")
    assert page.evaluate("() => sessionStorage.getItem('zy.m.token')") is None


def test_the_registration_form(platform, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    page = phone_page
    page.goto(f"{base}/m/#/register")
    page.wait_for_selector("[data-testid=register-form] [data-testid=reg-fields] input")
    guardian = page.locator("[data-testid=reg-guardian]")
    assert guardian.is_hidden()

    # Born ten years ago: the guardian's fields; an adult: none.
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    child = new_id_number(COUNTY, born=date(today.year - 10, 1, 1))
    fill_registration(page, id_number=child)
    assert guardian.is_visible()
    photograph(page, "register")
    adult = new_id_number(COUNTY)
    fill_registration(page, id_number=adult)
    assert guardian.is_hidden()

    # Passwords that differ never leave the page.
    fill_registration(page, password=PASSWORD, password2=PASSWORD + "x")
    page.click("[data-testid=reg-submit]")
    assert page.inner_text("[data-testid=error-password2]") == "两次输入的密码不一致"

    # A child without the guardian's consent: refused, the error among the
    # guardian's fields.
    fill_registration(
        page,
        name="林小",
        id_number=child,
        phone=new_phone(),
        password=PASSWORD,
        password2=PASSWORD,
    )
    pick_home(page, PATH)
    page.click("[data-testid=reg-submit]")
    inside = guardian.locator(".field-error:visible")
    inside.wait_for()
    assert inside.inner_text().startswith("监护人")
    assert inside.get_attribute("data-field").startswith("guardian")
    fill_registration(page, id_number=adult)

    # A bad phone: the service's message under the phone, by its label.
    fill_registration(
        page, name="林一", phone="12345", password=PASSWORD, password2=PASSWORD
    )
    pick_home(page, PATH)
    page.click("[data-testid=reg-submit]")
    error = page.locator("[data-testid=error-phone]")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("手机号：")
    assert error.get_attribute("data-field") == "phone"
    fits_the_phone(page)

    # The same in English (the switch re-draws the page: the form again).
    page.click("[data-testid=lang]")
    page.wait_for_selector("[data-testid=reg-submit]:text('Register')")
    page.wait_for_selector("[data-testid=register-form] [data-testid=reg-fields] input")
    fill_registration(
        page,
        name="林一",
        id_number=adult,
        phone="12345",
        password=PASSWORD,
        password2=PASSWORD,
    )
    pick_home(page, PATH)
    page.click("[data-testid=reg-submit]")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("Mobile: ")
    fits_the_phone(page)
    page.click("[data-testid=lang]")
    page.wait_for_selector("[data-testid=reg-submit]:text('提交注册')")

    # Registered once through the API, the same ID number on the form is
    # refused with the service's message, which says nothing of where.
    first = httpx.post(
        f"{base}/api/v1/me/register",
        timeout=30,
        json={
            "name": "林一",
            "id_number": adult,
            "phone": new_phone(),
            "home_division_code": TOWN,
            "service_fields": [],
            "skills": [],
            "password": PASSWORD,
        },
    )
    assert first.status_code == 201, first.text
    fill_registration(
        page,
        name="林一",
        id_number=adult,
        phone=new_phone(),
        password=PASSWORD,
        password2=PASSWORD,
    )
    pick_home(page, PATH)
    page.click("[data-testid=reg-submit]")
    # Shown under the ID number when the service names it, else under the form.
    refused = page.locator(
        "[data-testid=error-id_number]:visible, [data-testid=register-error]:visible"
    )
    refused.wait_for()
    assert "已注册" in refused.inner_text()
    assert TOWN not in refused.inner_text() and "雁塔" not in refused.inner_text()

    # Signed in while pending: the projects page says verification comes first.
    sign_in(page, base, first.json()["volunteer_number"], "/find")
    page.wait_for_selector("[data-testid=find-pending]", state="visible")


def registered(
    base: str, http: httpx.Client, county: dict, name: str
) -> tuple[str, dict]:
    """A volunteer registered by POST /me/register and verified by the
    office: (volunteer number, the volunteer's own token header)."""
    got = ok(
        http.post(
            "/me/register",
            json={
                "name": name,
                "id_number": new_id_number(COUNTY),
                "phone": new_phone(),
                "home_division_code": TOWN,
                "service_fields": ["elderly_care"],
                "skills": [],
                "password": PASSWORD,
            },
        ),
        201,
    )
    ok(http.post(f"/volunteers/{got['volunteer']['id']}/verify", headers=county))
    number = got["volunteer_number"]
    return number, login_with(base, number, PASSWORD)


def test_a_full_session_waitlists_the_phone(platform, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    page = phone_page
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    county, province = login(base, "yanta-admin"), login(base, "sx-admin")
    _, first = registered(base, http, county, "赵先到")
    second, own = registered(base, http, county, "钱后到")
    pid, sid = county_project(http, county, province, "手机候补测试", capacity=1)
    for token in (first, own):
        wait_for(
            lambda token=token: (
                pid in str(http.get("/me/projects", headers=token).json())
            ),
            timeout=30,
            what="the project among each volunteer's open projects",
        )
    ok(http.post(f"/me/sessions/{sid}/sign-up", headers=first), 201)

    # The one place is taken: the phone joins the waitlist, first in line.
    sign_in(page, base, second, f"/find/{pid}")
    session = page.locator(f"[data-testid=session][data-id='{sid}']")
    join = session.locator("[data-testid=sign-up]")
    assert join.inner_text() == "报名候补"
    join.click()
    status = session.locator("[data-testid=sign-up-status]")
    status.wait_for()
    assert status.get_attribute("data-status") == "SIGN_UP_STATUS_WAITLISTED"
    assert status.inner_text() == "候补中 · 候补第 1 位"
    assert (
        page.inner_text("[data-testid=project-notice]") == "名额已满，您在候补第 1 位"
    )
    fits_the_phone(page)

    # Withdrawn on the page: the service agrees, and the button is back.
    session.locator("[data-testid=withdraw]").click()
    page.wait_for_selector("[data-testid=project-notice]:text('已取消报名')")
    mine = ok(http.get("/me/sign-ups", headers=own))["sign_ups"]
    assert [s["status"] for s in mine] == ["SIGN_UP_STATUS_WITHDRAWN"]
    assert session.locator("[data-testid=sign-up]").is_visible()

    # "Near" a township (kept in the address): the picker shows it.
    page.goto(f"{base}/m/#/find?near={TOWN}")
    page.wait_for_selector(f"[data-loaded='?near={TOWN}']")
    township = "[data-testid=filter-near] select[data-level=township]"
    page.wait_for_function(
        "([s, v]) => document.querySelector(s)?.value === v", arg=[township, TOWN]
    )
    assert page.locator(f"[data-testid=project][data-id='{pid}']").count() == 1


def test_every_page_fits_the_phone_in_english(platform, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    page = phone_page
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    county, province = login(base, "yanta-admin"), login(base, "sx-admin")
    number, own = registered(base, http, county, "孙英文")
    pid, sid = county_project(http, county, province, "手机英文页测试")
    wait_for(
        lambda: pid in str(http.get("/me/projects", headers=own).json()),
        timeout=30,
        what="the project among the volunteer's open projects",
    )
    ok(http.post(f"/me/sessions/{sid}/sign-up", headers=own), 201)

    page.goto(f"{base}/m/#/register")
    page.wait_for_selector("[data-testid=register-form] [data-testid=reg-fields] input")
    page.click("[data-testid=lang]")
    page.wait_for_selector("[data-testid=reg-submit]:text('Register')")
    child = new_id_number(COUNTY, born=date(datetime.now(UTC).year - 9, 1, 1))
    fill_registration(page, id_number=child)
    assert page.locator("[data-testid=reg-guardian]").is_visible()
    fits_the_phone(page)
    page.goto(f"{base}/m/#/signin")
    page.wait_for_selector("[data-testid=signin-submit]:text('Sign in')")
    fits_the_phone(page)

    sign_in(page, base, number)
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
    assert page.locator("[data-testid=tabs] a").all_inner_texts() == [
        "Find",
        "Check in",
        "My service",
        "Community",
        "Me",
    ]
    ready = {
        "/find": "[data-testid=projects][data-loaded]",
        f"/find/{pid}": "[data-testid=session] [data-testid=sign-up-status]",
        "/sign-ups": "[data-testid=my-sign-up]",
        "/check-in": "[data-testid=check-in-form]",
        "/service": "[data-testid=star-card] >> nth=0",
        "/certificates": "[data-testid=no-certificates]",
        "/me": "[data-testid=me-status]",
        "/bookings": "[data-testid=no-bookings]",
        "/bookings/new": "[data-testid=book-form]",
        "/notices": "[data-testid=rounds], [data-testid=no-rounds]",
    }
    for route, selector in ready.items():
        page.goto(f"{base}/m/#{route}")
        page.wait_for_selector(selector)
        if route == "/service":
            page.wait_for_selector("[data-testid=totals]")
            page.wait_for_selector("[data-testid=records] li")
        fits_the_phone(page)
