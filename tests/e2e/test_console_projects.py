"""The projects page of the console (headless Chromium): a county admin
creates a project with a session, submits it, the province (the level that may
approve a county admin's own project) approves it from its review queue and
the county publishes it; a volunteer's sign-up is approved on the page, the
rotating check-in code is shown and accepted by the API, and the check-in
appears in the attendance list; bad input names its field and rule and
creates nothing; a neighbouring county sees none of it. Screenshots
``projects`` and ``check-in-code`` are kept."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.common.testing import wait_for
from tests.browser import shot
from tests.e2e.conftest import PASSWORD, login
from tests.helpers import new_id_number, new_phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
COUNTY, TOWN = "610113", "610113006"
CST = ZoneInfo("Asia/Shanghai")
TABLE = "[data-testid=projects-table]"
FORM = "[data-testid=project-form]"


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def api(base: str, user: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base}/api/v1", timeout=30, headers=login(base, user)
    )


def county_organisation(http: httpx.Client) -> dict:
    """The county's top-level organisation (seeded: 雁塔区志愿者协会)."""
    orgs = ok(http.get("/organisations", params={"division_code": COUNTY}))
    tops = [
        o
        for o in orgs["organisations"]
        if o["division_code"] == COUNTY
        and o["kind"] == "ORGANISATION_KIND_ORGANISATION"
        and not o["parent_id"]
    ]
    assert tops, orgs
    return tops[0]


def all_projects(http: httpx.Client, **params: str) -> list[dict]:
    items, token = [], ""
    while True:
        page = ok(
            http.get(
                "/projects", params={**params, "page_size": 500, "page_token": token}
            )
        )
        items += page["projects"]
        token = page["page"]["next_page_token"]
        if not token:
            return items


def project_total(http: httpx.Client) -> int:
    page = ok(http.get("/projects", params={"page_size": 1}))
    return int(page["page"]["total_size"])


def wall(moment: datetime) -> str:
    """A moment as a datetime-local value in Beijing time."""
    return moment.astimezone(CST).strftime("%Y-%m-%dT%H:%M")


def log_in(page, base: str, user: str, route: str) -> None:  # type: ignore[no-untyped-def]
    """Log in as ``user`` (replacing whoever was logged in) and open ``route``."""
    page.goto(f"{base}/console/#/login?next={quote('#' + route, safe='')}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")
    page.wait_for_function(
        "user => document.querySelector('[data-testid=who]').textContent"
        ".startsWith(user + ' ')",
        arg=user,
    )


def list_loaded(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(f"{TABLE}[data-loaded]", state="attached")


def fill_form(  # type: ignore[no-untyped-def]
    page, org_id: str, title: str, start: datetime, end: datetime, capacity: int = 5
) -> None:
    """Fill the create form with one session from ``start`` to ``end``."""
    page.wait_for_selector(
        f"{FORM} select[name=organisation_id] option[value='{org_id}']",
        state="attached",
    )
    page.select_option(f"{FORM} select[name=organisation_id]", org_id)
    page.fill(f"{FORM} input[name=title]", title)
    page.fill(f"{FORM} input[name=place]", "雁塔区小寨街道长延堡社区")
    page.fill(
        f"{FORM} textarea[name=description]", "陪伴社区独居老人，读报、聊天、测血压"
    )
    page.select_option(f"{FORM} select[name=service_field]", "elderly_care")
    page.select_option(f"{FORM} select[name=kind]", "PROJECT_KIND_SERVICE")
    page.fill(f"{FORM} input[name=recruit_starts_at]", wall(datetime.now(UTC)))
    page.fill(f"{FORM} input[name=recruit_ends_at]", wall(start))
    row = page.locator(f"{FORM} [data-testid=pj-session]").first
    row.locator("input[name=session_starts_at]").fill(wall(start))
    row.locator("input[name=session_ends_at]").fill(wall(end))
    row.locator("input[name=session_capacity]").fill(str(capacity))


def test_create_submit_review_and_publish(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = api(base, "yanta-admin")
    org = county_organisation(county)
    title = f"社区助老陪伴-{uuid.uuid4().hex[:8]}"
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    start = start.astimezone(CST).replace(hour=9, minute=0)

    # The county admin creates a draft with one session in the form.
    log_in(page, base, "yanta-admin", "/projects")
    page.wait_for_selector(FORM)
    list_loaded(page)
    fill_form(page, org["id"], title, start, start + timedelta(hours=3), capacity=8)
    page.check(f"{FORM} input[name=leader_approval]")
    page.click("[data-testid=pj-submit]")
    page.wait_for_selector("[data-testid=projects-notice][data-id]")
    pid = page.get_attribute("[data-testid=projects-notice]", "data-id")
    row = page.locator(f"{TABLE} tr[data-id='{pid}']")
    row.wait_for()
    assert row.get_attribute("data-status") == "PROJECT_STATUS_DRAFT"
    assert title in row.inner_text() and "草稿" in row.inner_text()
    # What the API stored is what the form said, times in Beijing time.
    stored = ok(county.get(f"/projects/{pid}"))["project"]
    assert stored["title"] == title and stored["leader_approval"] is True
    assert stored["organisation_id"] == org["id"]
    assert stored["service_field"] == "elderly_care"
    assert [(s["capacity"], s["starts_at"]) for s in stored["sessions"]] == [
        (8, start.astimezone(UTC).isoformat())
    ]
    # The status filter narrows the list to drafts, this one among them.
    stamp = page.get_attribute(TABLE, "data-loaded")
    page.select_option("[data-testid=projects-status]", "PROJECT_STATUS_DRAFT")
    page.wait_for_function(
        "old => document.querySelector('[data-testid=projects-table]')"
        ".dataset.loaded !== old",
        arg=stamp,
    )
    statuses = page.eval_on_selector_all(
        f"{TABLE} tbody tr", "rows => rows.map(r => r.dataset.status)"
    )
    assert statuses and set(statuses) == {"PROJECT_STATUS_DRAFT"}
    row.wait_for()
    shot(page, "projects")

    # Submit from the detail page.
    row.locator("[data-action=open]").click()
    page.wait_for_selector(f"[data-testid=project-detail][data-id='{pid}']")
    assert page.locator("[data-testid=sessions-table] tbody tr").count() == 1
    page.click("[data-testid=project-actions] [data-action=submit]")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_SUBMITTED]"
    )
    # The publisher cannot approve it: no approve button, not in its queue.
    assert (
        page.locator("[data-testid=project-actions] [data-action=approve]").count() == 0
    )
    page.click("[data-testid=back-to-projects]")
    page.wait_for_selector("[data-testid=review-queue][data-loaded]", state="attached")
    assert page.locator(f"[data-testid=review-queue] tr[data-id='{pid}']").count() == 0

    # The province (its scope holds the county) approves it from its queue.
    log_in(page, base, "sx-admin", "/projects")
    queued = page.locator(f"[data-testid=review-queue] tr[data-id='{pid}']")
    queued.wait_for()
    assert title in queued.inner_text()
    assert "yanta-admin" in queued.locator("[data-col=publisher]").inner_text()
    queued.locator("[data-action=approve]").click()
    queued.wait_for(state="detached")
    assert ok(county.get(f"/projects/{pid}"))["project"]["status"] == (
        "PROJECT_STATUS_APPROVED"
    )

    # The county publishes it: recruiting.
    log_in(page, base, "yanta-admin", f"/projects/{pid}")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_APPROVED]"
    )
    page.click("[data-testid=project-actions] [data-action=publish]")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_RECRUITING]"
    )
    assert "招募中" in page.inner_text("[data-testid=project-status]")
    assert ok(county.get(f"/projects/{pid}"))["project"]["status"] == (
        "PROJECT_STATUS_RECRUITING"
    )


def test_return_with_a_comment(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    pid = draft(county, f"退回测试-{uuid.uuid4().hex[:8]}")["id"]
    ok(county.post(f"/projects/{pid}/submit"))
    log_in(page, base, "sx-admin", "/projects")
    queued = page.locator(f"[data-testid=review-queue] tr[data-id='{pid}']")
    queued.wait_for()
    queued.locator("input[name=return_reason]").fill("请补充服务地点的具体门牌号")
    queued.locator("[data-action=return]").click()
    queued.wait_for(state="detached")
    got = ok(province.get(f"/projects/{pid}"))["project"]
    assert got["status"] == "PROJECT_STATUS_RETURNED"
    assert got["comment"] == "请补充服务地点的具体门牌号"
    # The publisher sees the comment on the project and may submit again.
    log_in(page, base, "yanta-admin", f"/projects/{pid}")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_RETURNED]"
    )
    assert "门牌号" in page.inner_text(
        "[data-testid=project-detail] dd[data-col=comment]"
    )
    assert (
        page.locator("[data-testid=project-actions] [data-action=submit]").count() == 1
    )


def draft(http: httpx.Client, title: str, **extra: object) -> dict:
    """A draft project of the county made through the API."""
    now = datetime.now(UTC).replace(microsecond=0)
    body = {
        "organisation_id": county_organisation(http)["id"],
        "title": title,
        "place": "雁塔区电视塔社区",
        "description": "",
        "service_field": "elderly_care",
        "kind": "PROJECT_KIND_SERVICE",
        "sessions": [
            {
                "starts_at": (now + timedelta(days=3)).isoformat(),
                "ends_at": (now + timedelta(days=3, hours=2)).isoformat(),
                "capacity": 5,
            }
        ],
        "recruit_starts_at": now.isoformat(),
        "recruit_ends_at": (now + timedelta(days=2)).isoformat(),
        **extra,
    }
    return ok(http.post("/projects", json=body), 201)["project"]


def test_sign_up_approval_check_in_code_and_attendance(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    now = datetime.now(UTC).replace(microsecond=0)
    title = f"文明旅游引导-{uuid.uuid4().hex[:8]}"
    project = draft(
        county,
        title,
        leader_approval=True,
        sessions=[
            {
                "starts_at": (now - timedelta(minutes=10)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
                "capacity": 3,
            }
        ],
        recruit_starts_at=(now - timedelta(hours=1)).isoformat(),
        recruit_ends_at=(now + timedelta(hours=1)).isoformat(),
    )
    pid, sid = project["id"], project["sessions"][0]["id"]
    ok(county.post(f"/projects/{pid}/submit"))
    ok(province.post(f"/projects/{pid}/approve"))
    ok(county.post(f"/projects/{pid}/publish"))

    # A verified volunteer of the county; a leader signs them up by id.
    vol = ok(
        county.post(
            "/volunteers",
            json={
                "name": "吴签到",
                "id_number": new_id_number(COUNTY),
                "phone": new_phone(),
                "home_division_code": TOWN,
                "service_fields": ["civilisation"],
            },
        ),
        201,
    )["volunteer"]
    ok(county.post(f"/volunteers/{vol['id']}/verify"))
    signed = wait_for(
        lambda: (
            (
                r := county.post(
                    f"/sessions/{sid}/sign-ups", json={"volunteer_id": vol["id"]}
                )
            ).status_code
            == 201
            and r.json()["sign_up"]
        ),
        timeout=30,
        what="sign-up once activity knows the verified volunteer",
    )
    assert signed["status"] == "SIGN_UP_STATUS_PENDING"

    # The admin approves the sign-up on the page: a confirmed place.
    log_in(page, base, "yanta-admin", f"/projects/{pid}?session={sid}")
    page.wait_for_selector(f"[data-testid=session-panel][data-id='{sid}']")
    sign_up = page.locator(f"[data-testid=signups-table] tr[data-id='{signed['id']}']")
    sign_up.wait_for()
    assert sign_up.get_attribute("data-status") == "SIGN_UP_STATUS_PENDING"
    assert vol["volunteer_number"] in sign_up.inner_text()
    # No code before the project has started.
    assert page.locator("[data-testid=checkin-hidden]").count() == 1
    sign_up.locator("[data-action=approve]").click()
    page.wait_for_selector(
        f"[data-testid=signups-table] tr[data-id='{signed['id']}']"
        "[data-status=SIGN_UP_STATUS_CONFIRMED]"
    )
    confirmed = page.locator(
        f"[data-testid=sessions-table] tr[data-id='{sid}'] td[data-col=confirmed]"
    )
    assert confirmed.inner_text() == "1"

    # Start: the rotating code is shown large, with its expiry.
    page.click("[data-testid=project-actions] [data-action=start]")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_IN_PROGRESS]"
    )
    box = page.locator("[data-testid=checkin-code][data-code]")
    box.wait_for()
    code = page.inner_text("[data-testid=checkin-code-value]").strip()
    assert re.fullmatch(r"\d{6}", code) and box.get_attribute("data-code") == code
    valid_until = datetime.fromisoformat(box.get_attribute("data-valid-until") or "")
    assert timedelta(0) < valid_until - datetime.now(UTC) <= timedelta(seconds=61)
    assert page.inner_text("[data-testid=checkin-expiry]").startswith("本码有效至")
    size = page.eval_on_selector(
        "[data-testid=checkin-code-value]",
        "n => parseFloat(getComputedStyle(n).fontSize)",
    )
    assert size >= 48
    shot(page, "check-in-code")

    # A check-in through the API with exactly the code on the screen.
    page.wait_for_selector(
        "[data-testid=attendance-table][data-loaded]", state="attached"
    )
    assert (
        page.locator(
            f"[data-testid=attendance-table] tr[data-volunteer='{vol['id']}']"
        ).count()
        == 0
    )
    wrong = county.post(
        f"/sessions/{sid}/check-in",
        json={"volunteer_id": vol["id"], "code": f"{(int(code) + 1) % 1_000_000:06d}"},
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "code"
    attended = ok(
        county.post(
            f"/sessions/{sid}/check-in", json={"volunteer_id": vol["id"], "code": code}
        )
    )["attendance"]
    assert attended["volunteer_id"] == vol["id"]
    page.click("[data-testid=attendance-refresh]")
    seen = page.locator(
        f"[data-testid=attendance-table] tr[data-volunteer='{vol['id']}']"
    )
    seen.wait_for()
    assert vol["volunteer_number"] in seen.inner_text()
    assert "未签退" in seen.locator("[data-col=checked_out_at]").inner_text()

    # The code is fetched again by itself once its window ends.
    page.wait_for_function(
        "old => { const b = document.querySelector('[data-testid=checkin-code]');"
        " return b && b.dataset.validUntil && b.dataset.validUntil !== old; }",
        arg=box.get_attribute("data-valid-until"),
        timeout=75_000,
    )
    later = datetime.fromisoformat(
        page.get_attribute("[data-testid=checkin-code]", "data-valid-until") or ""
    )
    assert later - valid_until >= timedelta(seconds=60)
    assert re.fullmatch(r"\d{6}", page.inner_text("[data-testid=checkin-code-value]"))

    # The page follows the language switch.
    page.click("[data-testid=lang]")
    page.wait_for_selector("[data-testid=checkin-expiry]:text-matches('^Valid until')")
    assert page.inner_text("[data-testid=project-status]") == "In progress"
    status = page.locator(
        f"[data-testid=signups-table] tr[data-id='{signed['id']}'] td[data-col=status]"
    )
    assert status.inner_text() == "Confirmed"


def test_bad_input_names_field_and_rule_and_creates_nothing(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = api(base, "yanta-admin")
    org = county_organisation(county)
    before = project_total(county)
    title = f"不应创建-{uuid.uuid4().hex[:8]}"
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)

    log_in(page, base, "yanta-admin", "/projects")
    page.wait_for_selector(FORM)
    list_loaded(page)
    rows_before = page.locator(f"{TABLE} tbody tr").count()
    error = "[data-testid=project-form-error]"

    # A missing title.
    fill_form(page, org["id"], "", start, start + timedelta(hours=2))
    page.click("[data-testid=pj-submit]")
    page.wait_for_selector(f"{error}[data-field=title]")
    assert page.get_attribute(error, "data-rule") == "title.required"
    assert page.inner_text(error) == "title: 此项为必填项"

    # In English: a session that ends before it starts.
    page.click("[data-testid=lang]")
    page.wait_for_selector(f"{FORM} h3:text('New project')")
    fill_form(page, org["id"], title, start, start - timedelta(hours=1))
    page.click("[data-testid=pj-submit]")
    page.wait_for_selector(f"{error}[data-field='sessions[0].ends_at']")
    assert page.get_attribute(error, "data-rule") == "sessions[0].ends_at.after_start"
    assert page.inner_text(error) == "sessions[0].ends_at: must be after the start"
    end_input = page.locator(f"{FORM} input[name=session_ends_at]").first
    assert end_input.get_attribute("aria-invalid") == "true"

    # Nothing was created: not in the API, not in the table.
    assert project_total(county) == before
    assert not [p for p in all_projects(county) if p["title"] == title]
    assert page.locator(f"{TABLE} tbody tr").count() == rows_before
    assert title not in page.inner_text(TABLE)


def test_neighbouring_county_sees_nothing(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, neighbour = api(base, "yanta-admin"), api(base, "changan-admin")
    title = f"雁塔区内部项目-{uuid.uuid4().hex[:8]}"
    pid = draft(county, title)["id"]
    assert any(p["id"] == pid for p in all_projects(county))

    log_in(page, base, "changan-admin", f"/projects/{pid}")
    page.wait_for_selector("[data-testid=project-not-found], [data-testid=denied]")
    assert page.locator("[data-testid=project-detail]").count() == 0
    assert title not in page.content()

    page.goto(f"{base}/console/#/projects")
    list_loaded(page)
    assert page.locator(f"{TABLE} tr[data-id='{pid}']").count() == 0
    assert title not in page.content()
    assert neighbour.get(f"/projects/{pid}").status_code in (403, 404)
    assert not any(p["id"] == pid for p in all_projects(neighbour))
    # Changan's own list is not simply empty: the page shows its projects.
    assert page.locator(f"{TABLE} tbody tr").count() == min(
        20, len(all_projects(neighbour))
    )
