"""The projects page of the console (headless Chromium): a county admin
creates a project with a session, submits it, the province (the level that may
approve a county admin's own project) approves it from its review queue and
the county publishes it; a volunteer's sign-up is approved on the page, the
rotating check-in code is shown and accepted by the API, and the check-in
appears in the attendance list; bad input names its field and rule and
creates nothing; a neighbouring county sees none of it. A returned project
is edited in its form (comment shown, bad input refused) and approved; the
admin checks a volunteer out, closes another's attendance late and withdraws
a third's sign-up, and the hours worker's records show up; a neighbouring
county can change none of it. Screenshots ``projects``, ``check-in-code``,
``project-edit`` and ``attendance-check-out`` are kept."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.common.testing import wait_for
from tests.browser import shot
from tests.e2e.conftest import login
from tests.helpers import log_in, new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
COUNTY, TOWN = "610113", "610113006"
CST = ZoneInfo("Asia/Shanghai")
TABLE = "[data-testid=projects-table]"
FORM = "[data-testid=project-form]"


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
    # Beside the digits, the same code as a QR code for phone cameras.
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=checkin-qr]');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    qr_box = page.eval_on_selector(
        "[data-testid=checkin-qr]", "n => n.getBoundingClientRect().width"
    )
    assert qr_box >= 160
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
    assert_code_refreshes(page)

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
    assert page.inner_text(error) == "项目名称：此项为必填项"  # the label, not the key

    # In English: a session that ends before it starts.
    page.click("[data-testid=lang]")
    page.wait_for_selector(f"{FORM} h3:text('New project')")
    fill_form(page, org["id"], title, start, start - timedelta(hours=1))
    page.click("[data-testid=pj-submit]")
    page.wait_for_selector(f"{error}[data-field='sessions[0].ends_at']")
    assert page.get_attribute(error, "data-rule") == "sessions[0].ends_at.after_start"
    assert page.inner_text(error) == "Session end #1: must be after the start"
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


# -- the check-in code's refresh --------------------------------------------------
CODE = "[data-testid=checkin-code]"
# Waiting for a real rotation costs up to a whole window (60 s): only done when
# the current window ends within this many seconds.
REAL_WAIT = 15


def code_state(page) -> tuple[datetime, float, str]:  # type: ignore[no-untyped-def]
    """The code box's expiry, its scheduled refresh (epoch s) and load stamp."""
    until = datetime.fromisoformat(page.get_attribute(CODE, "data-valid-until") or "")
    refresh_at = int(page.get_attribute(CODE, "data-refresh-at") or 0) / 1000
    return until, refresh_at, page.get_attribute(CODE, "data-loaded") or ""


def assert_code_refreshes(page) -> None:  # type: ignore[no-untyped-def]
    """The page fetches the next code by itself right after the window ends.

    Always: the refresh is scheduled just after the expiry and the countdown
    ticks. Then a refresh really happens: the real rotation when the window
    ends soon, or else the page is reloaded with a first answer whose expiry
    is 2 s away (the code itself is the service's) and must fetch the real
    one by itself once those 2 s pass."""
    shown = page.get_attribute(CODE, "data-valid-until")
    until, refresh_at, _ = code_state(page)
    assert 0 < refresh_at - until.timestamp() <= 1.5, (until, refresh_at)
    count = "document.querySelector('[data-testid=checkin-countdown]').textContent"
    first = int(re.match(r"\d+", page.evaluate(count)).group())  # type: ignore[union-attr]
    assert 0 <= first <= 60
    page.wait_for_function(
        f"n => parseInt({count}) < n || parseInt({count}) > 50", arg=first
    )

    left = (until - datetime.now(UTC)).total_seconds()
    if left <= REAL_WAIT:
        page.wait_for_function(
            "old => document.querySelector('[data-testid=checkin-code]')"
            ".dataset.validUntil !== old",
            arg=shown,
            timeout=(max(left, 0) + 15) * 1000,
        )
        later, _, _ = code_state(page)
        assert later - until >= timedelta(seconds=60)
    else:
        soon = datetime.now(UTC) + timedelta(seconds=2)

        def shorten(route) -> None:  # type: ignore[no-untyped-def]
            response = route.fetch()
            body = response.json()
            body["valid_until"] = soon.isoformat()
            route.fulfill(response=response, json=body)

        page.route("**/api/v1/sessions/*/check-in-code", shorten, times=1)
        page.reload()
        page.wait_for_function(
            "soon => { const b = document.querySelector('[data-testid=checkin-code]');"
            " return b && b.dataset.validUntil === soon; }",
            arg=soon.isoformat(),
        )
        _, scheduled, stamp = code_state(page)
        assert 0 < scheduled - soon.timestamp() <= 1.5
        # Nobody touches the page: once the 2 s pass it asks for the code again.
        page.wait_for_function(
            "old => document.querySelector('[data-testid=checkin-code]')"
            ".dataset.loaded !== old",
            arg=stamp,
            timeout=15_000,
        )
        real, _, _ = code_state(page)
        assert real.timestamp() % 60 == 0 and real > datetime.now(UTC)
    assert re.fullmatch(r"\d{6}", page.inner_text("[data-testid=checkin-code-value]"))


# -- editing a returned project -----------------------------------------------------
EDIT = "[data-testid=project-edit-form]"
EDIT_ERROR = "[data-testid=project-edit-error]"


def editable(project: dict) -> dict:
    """What an edit may change, to compare before and after."""
    keys = ("title", "place", "description", "service_field", "kind", "status")
    times = ("recruit_starts_at", "recruit_ends_at")
    return {
        **{k: project[k] for k in keys + times},
        "sessions": [
            (s["starts_at"], s["ends_at"], s["capacity"]) for s in project["sessions"]
        ],
    }


def test_edit_a_returned_project_resubmit_and_approve(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    title = f"退回后修改-{uuid.uuid4().hex[:8]}"
    pid = draft(county, title)["id"]
    ok(county.post(f"/projects/{pid}/submit"))
    comment = f"场次请改到周末上午-{uuid.uuid4().hex[:4]}"
    ok(province.post(f"/projects/{pid}/return", json={"reason": comment}))
    before = ok(county.get(f"/projects/{pid}"))["project"]
    assert before["status"] == "PROJECT_STATUS_RETURNED"

    # The publisher opens it: the comment above a form holding today's values.
    log_in(page, base, "yanta-admin", f"/projects/{pid}")
    page.wait_for_selector(EDIT)
    assert page.inner_text("[data-testid=edit-comment] [data-col=comment]") == comment
    assert page.locator(f"{EDIT} [data-testid=edit-comment]").is_visible()
    assert page.input_value(f"{EDIT} input[name=title]") == title
    assert page.input_value(f"{EDIT} input[name=place]") == before["place"]
    assert (
        page.input_value(f"{EDIT} select[name=service_field]")
        == before["service_field"]
    )
    session = page.locator(f"{EDIT} [data-testid=pj-session]")
    assert session.count() == 1
    old = before["sessions"][0]
    start_input = session.locator("input[name=session_starts_at]")
    end_input = session.locator("input[name=session_ends_at]")
    assert start_input.input_value() == wall(datetime.fromisoformat(old["starts_at"]))
    assert end_input.input_value() == wall(datetime.fromisoformat(old["ends_at"]))
    assert session.locator("input[name=session_capacity]").input_value() == "5"

    # A session that ends before it starts: refused, naming the field; the
    # title typed with it is not saved either.
    new_title = f"{title}-周末版"
    start = (datetime.now(UTC) + timedelta(days=4)).astimezone(CST)
    start = start.replace(hour=9, minute=30, second=0, microsecond=0)
    page.fill(f"{EDIT} input[name=title]", new_title)
    start_input.fill(wall(start))
    end_input.fill(wall(start - timedelta(hours=1)))
    page.click("[data-testid=pj-edit-save]")
    page.wait_for_selector(f"{EDIT_ERROR}[data-field='sessions[0].ends_at']")
    assert page.get_attribute(EDIT_ERROR, "data-rule") == (
        "sessions[0].ends_at.after_start"
    )
    # The field's label and the session's position, not the key.
    assert page.inner_text(EDIT_ERROR) == "场次结束时间 #1：须晚于开始时间"
    assert end_input.get_attribute("aria-invalid") == "true"
    assert editable(ok(county.get(f"/projects/{pid}"))["project"]) == editable(before)
    shot(page, "project-edit")

    # Fixed: the new title and session are saved; nothing else moves (the
    # recruiting window, untouched, keeps its stored seconds).
    end_input.fill(wall(start + timedelta(hours=2, minutes=30)))
    session.locator("input[name=session_capacity]").fill("12")
    with page.expect_response(lambda r: r.request.method == "PUT") as answer:
        page.click("[data-testid=pj-edit-save]")
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_selector("[data-testid=project-notice]:text-matches('^修改已保存')")
    assert new_title in page.inner_text("[data-testid=project-title]")
    saved = ok(county.get(f"/projects/{pid}"))["project"]
    assert saved["status"] == "PROJECT_STATUS_RETURNED"
    want = {
        **editable(before),
        "title": new_title,
        "sessions": [
            (
                start.astimezone(UTC).isoformat(),
                (start + timedelta(hours=2, minutes=30)).astimezone(UTC).isoformat(),
                12,
            )
        ],
    }
    assert editable(saved) == want

    # Resubmitted: no form any more; the province approves on the page.
    page.click("[data-testid=project-actions] [data-action=submit]")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_SUBMITTED]"
    )
    assert page.locator(EDIT).count() == 0
    log_in(page, base, "sx-admin", f"/projects/{pid}")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_SUBMITTED]"
    )
    assert page.locator(EDIT).count() == 0  # the reviewer does not edit it
    page.click("[data-testid=project-actions] [data-action=approve]")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_APPROVED]"
    )
    approved = ok(county.get(f"/projects/{pid}"))["project"]
    assert editable(approved) == {**want, "status": "PROJECT_STATUS_APPROVED"}
    assert approved["comment"] == ""
    # Approved projects are not editable: the API refuses, nothing changes.
    body = {**edit_body(approved), "title": "不应保存"}
    refused = county.put(f"/projects/{pid}", json=body)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["rule"] == "project.editable"
    assert ok(county.get(f"/projects/{pid}"))["project"]["title"] == new_title


def edit_body(project: dict) -> dict:
    """An UpdateProject body repeating a project's current values."""
    return {
        "title": project["title"],
        "description": project["description"],
        "place": project["place"],
        "service_field": project["service_field"],
        "kind": project["kind"],
        "sessions": [
            {k: s[k] for k in ("starts_at", "ends_at", "capacity")}
            for s in project["sessions"]
        ],
        "recruit_starts_at": project["recruit_starts_at"],
        "recruit_ends_at": project["recruit_ends_at"],
        "eligibility": project.get("eligibility") or {},
        "leader_approval": project["leader_approval"],
        "emergency": project["emergency"],
    }


# -- check-out, close attendance and withdrawal ---------------------------------
ATTENDANCE = "[data-testid=attendance-table]"


def running_session(county: httpx.Client, province: httpx.Client, people: int):  # type: ignore[no-untyped-def]
    """An in-progress project of the county whose one session began 30 min
    ago, with ``people`` verified volunteers holding confirmed places."""
    now = datetime.now(UTC).replace(microsecond=0)
    project = draft(
        county,
        f"社区义诊服务-{uuid.uuid4().hex[:8]}",
        sessions=[
            {
                "starts_at": (now - timedelta(minutes=30)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
                "capacity": people + 2,
            }
        ],
        recruit_starts_at=(now - timedelta(hours=1)).isoformat(),
        recruit_ends_at=(now + timedelta(hours=1)).isoformat(),
    )
    pid, sid = project["id"], project["sessions"][0]["id"]
    for step, http in (("submit", county), ("approve", province), ("publish", county)):
        ok(http.post(f"/projects/{pid}/{step}"))
    volunteers = []
    for i in range(people):
        vol = ok(
            county.post(
                "/volunteers",
                json={
                    "name": f"签退测试{i + 1}",
                    "id_number": new_id_number(COUNTY),
                    "phone": new_phone(),
                    "home_division_code": TOWN,
                    "service_fields": ["elderly_care"],
                },
            ),
            201,
        )["volunteer"]
        ok(county.post(f"/volunteers/{vol['id']}/verify"))
        volunteers.append(vol)
    sign_ups = {}
    for vol in volunteers:

        def signed(v: dict = vol) -> dict | None:
            r = county.post(f"/sessions/{sid}/sign-ups", json={"volunteer_id": v["id"]})
            return r.json()["sign_up"] if r.status_code == 201 else None

        sign_ups[vol["id"]] = wait_for(
            signed, timeout=30, what="sign-up once activity knows the volunteer"
        )
        assert sign_ups[vol["id"]]["status"] == "SIGN_UP_STATUS_CONFIRMED"
    ok(county.post(f"/projects/{pid}/start"))
    return pid, sid, volunteers, sign_ups


def attendances(http: httpx.Client, sid: str) -> dict[str, dict]:
    rows = ok(http.get(f"/sessions/{sid}/attendances", params={"page_size": 500}))
    return {a["volunteer_id"]: a for a in rows["attendances"]}


def hour_record(http: httpx.Client, volunteer_id: str, attendance_id: str) -> dict:
    """The hour record the hours worker makes of a check-out (polled)."""

    def found() -> dict | None:
        page = ok(http.get("/hours/records", params={"volunteer_id": volunteer_id}))
        return next(
            (r for r in page["records"] if r["source_id"] == attendance_id), None
        )

    return wait_for(found, timeout=90, interval=0.5, what="the check-out's hours")


def seconds_between(a: str, b: str) -> int:
    return int((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds())


def test_check_out_close_attendance_and_withdraw(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    pid, sid, (first, second, third), sign_ups = running_session(county, province, 3)
    for vol in (first, second):
        ok(county.post(f"/sessions/{sid}/check-in", json={"volunteer_id": vol["id"]}))
    checked_in = attendances(county, sid)

    log_in(page, base, "yanta-admin", f"/projects/{pid}?session={sid}")
    page.wait_for_selector(f"{ATTENDANCE}[data-loaded]", state="attached")
    page.wait_for_selector("[data-testid=signups-table][data-loaded]", state="attached")
    rows = {
        v["id"]: page.locator(f"{ATTENDANCE} tr[data-volunteer='{v['id']}']")
        for v in (first, second)
    }
    for row in rows.values():
        assert row.get_attribute("data-out") == "false"
        assert "未签退" in row.locator("[data-col=checked_out_at]").inner_text()
        assert row.locator("[data-action=check-out]").count() == 1
        assert row.locator("[data-action=close]").count() == 1

    # Withdrawal on the volunteer's behalf: only for who has not checked in.
    signups = "[data-testid=signups-table]"
    for vol in (first, second):
        row = page.locator(f"{signups} tr[data-volunteer='{vol['id']}']")
        assert row.locator("[data-action=withdraw]").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(
        f"{signups} tr[data-volunteer='{third['id']}'] [data-action=withdraw]"
    ).click()
    page.wait_for_selector(
        f"{signups} tr[data-volunteer='{third['id']}']"
        "[data-status=SIGN_UP_STATUS_WITHDRAWN]"
    )
    listed = ok(county.get(f"/sessions/{sid}/sign-ups", params={"page_size": 500}))
    status = {s["volunteer_id"]: s["status"] for s in listed["sign_ups"]}
    assert status[third["id"]] == "SIGN_UP_STATUS_WITHDRAWN"
    assert status[first["id"]] == "SIGN_UP_STATUS_CONFIRMED"

    # The admin checks the first volunteer out: time, who, service time.
    row = page.locator(f"{ATTENDANCE} tr[data-volunteer='{first['id']}']")
    row.locator("[data-action=check-out]").click()
    page.wait_for_selector(
        f"{ATTENDANCE} tr[data-volunteer='{first['id']}'][data-out=true]"
    )
    out = attendances(county, sid)[first["id"]]
    assert out["checked_out_at"] and out["closed_by"] == "leader"
    served = seconds_between(out["checked_in_at"], out["checked_out_at"])
    assert row.locator("[data-col=closed_by]").inner_text() == "负责人"
    assert row.locator("[data-col=duration]").get_attribute("data-seconds") == str(
        served
    )
    assert row.locator("[data-action]").count() == 0

    # Close attendance for the second: a time before the check-in is refused
    # naming ended_at, then the time service ended is accepted.
    row2 = page.locator(f"{ATTENDANCE} tr[data-volunteer='{second['id']}']")
    ended_input = row2.locator("input[name=ended_at]")
    since = datetime.fromisoformat(checked_in[second["id"]]["checked_in_at"])
    ended_input.fill(
        (since - timedelta(minutes=5)).astimezone(CST).strftime("%Y-%m-%dT%H:%M:%S")
    )
    row2.locator("[data-action=close]").click()
    error = "[data-testid=attendance-message]"
    page.wait_for_selector(f"{error}[data-field=ended_at]")
    assert page.get_attribute(error, "data-rule") == "ended_at.within_session"
    assert page.inner_text(error).startswith("补签退时间：")
    assert ended_input.get_attribute("aria-invalid") == "true"
    assert not attendances(county, sid)[second["id"]]["checked_out_at"]
    ended = since.replace(microsecond=0) + timedelta(seconds=3)
    wait_for(lambda: datetime.now(UTC) > ended, timeout=10, what="the end time")
    ended_input.fill(ended.astimezone(CST).strftime("%Y-%m-%dT%H:%M:%S"))
    row2.locator("[data-action=close]").click()
    page.wait_for_selector(
        f"{ATTENDANCE} tr[data-volunteer='{second['id']}'][data-out=true]"
    )
    closed = attendances(county, sid)[second["id"]]
    assert datetime.fromisoformat(closed["checked_out_at"]) == ended
    assert closed["closed_by"] == "leader"
    served2 = seconds_between(closed["checked_in_at"], closed["checked_out_at"])
    assert row2.locator("[data-col=duration]").get_attribute("data-seconds") == str(
        served2
    )
    assert (
        page.get_attribute("[data-testid=attendance-notice]", "data-id")
        == (closed["id"])
    )

    # The hours worker turns each check-out into an hour record, which the
    # page then shows as the credited hours.
    for vol, att, secs in ((first, out, served), (second, closed, served2)):
        record = hour_record(county, vol["id"], att["id"])
        assert record["source"] == "RECORD_SOURCE_ATTENDANCE"
        assert record["duration_seconds"] == secs
        assert record["ended_at"] == att["checked_out_at"]
        cell = page.locator(
            f"{ATTENDANCE} tr[data-volunteer='{vol['id']}'] [data-col=credited]"
        )
        page.wait_for_selector(
            f"{ATTENDANCE} tr[data-volunteer='{vol['id']}']"
            f" [data-col=credited][data-record='{record['id']}']",
            timeout=60_000,
        )
        assert float(cell.get_attribute("data-hours") or "nan") == record["hours"]
    shot(page, "attendance-check-out")


def test_neighbouring_county_cannot_edit_or_check_out(platform) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    neighbour = api(base, "changan-admin")

    # A returned yanta project: changan can neither edit nor submit it.
    pid = draft(county, f"雁塔区退回项目-{uuid.uuid4().hex[:8]}")["id"]
    ok(county.post(f"/projects/{pid}/submit"))
    ok(province.post(f"/projects/{pid}/return", json={"reason": "请补充说明"}))
    before = ok(county.get(f"/projects/{pid}"))["project"]
    body = {**edit_body(before), "title": "长安区改过的标题"}
    assert neighbour.put(f"/projects/{pid}", json=body).status_code in (403, 404)
    assert neighbour.post(f"/projects/{pid}/submit").status_code in (403, 404)
    after = ok(county.get(f"/projects/{pid}"))["project"]
    assert editable(after) == editable(before)

    # A running yanta session: changan cannot check out, close or withdraw.
    _, sid, (vol, other), sign_ups = running_session(county, province, 2)
    ok(county.post(f"/sessions/{sid}/check-in", json={"volunteer_id": vol["id"]}))
    before_rows = attendances(county, sid)
    tries = [
        neighbour.post(f"/sessions/{sid}/check-out", json={"volunteer_id": vol["id"]}),
        neighbour.post(
            f"/sessions/{sid}/close",
            json={
                "volunteer_id": vol["id"],
                "ended_at": datetime.now(UTC).isoformat(),
            },
        ),
        neighbour.post(f"/sign-ups/{sign_ups[other['id']]['id']}/withdraw"),
        neighbour.get(f"/sessions/{sid}/attendances"),
    ]
    for r in tries:
        assert r.status_code in (403, 404), r.text
    assert attendances(county, sid) == before_rows
    assert not before_rows[vol["id"]]["checked_out_at"]
    listed = ok(county.get(f"/sessions/{sid}/sign-ups", params={"page_size": 500}))
    status = {s["volunteer_id"]: s["status"] for s in listed["sign_ups"]}
    assert status[other["id"]] == "SIGN_UP_STATUS_CONFIRMED"
