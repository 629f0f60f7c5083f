"""Special campaigns in the console (headless Chromium, 390 px wide like a
phone): a county admin tags a project with a closed attendance to the
province's campaign on the project's page, the campaign's page counts the
project's volunteer and lists the project, and untagging takes both away; a
tag the API refuses (a campaign whose window the publisher narrowed after
the page was drawn, a neighbouring city's campaign, an id that names
nothing) shows the API's error naming the field and leaves the project's
campaign as it was; a donation drive recorded in the recycling page's form
and a pickup collected in its row carry the campaign chosen in their
pickers, the pickup's kilograms reaching the campaign's page. Screenshots
``project-campaign`` and ``campaign-projects``."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import httpx
import pytest

from services.common.testing import wait_for
from tests.browser import shot
from tests.e2e.conftest import login
from tests.e2e.test_console_projects import CST, api, draft, running_session
from tests.helpers import PASSWORD, log_in, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CARD = "[data-testid=campaign-card]"
MESSAGE = "[data-testid=campaign-message]"
GROUPS = ["dibao", "elderly_alone"]
TOWN = "610113002"


def publish(http: httpx.Client, title: str, starts: date, ends: date) -> dict:
    body = {
        "title": title,
        "description": "",
        "starts_on": starts.isoformat(),
        "ends_on": ends.isoformat(),
        "target_groups": GROUPS,
    }
    return ok(http.post("/campaigns", json=body), 201)["campaign"]


def tag_of(http: httpx.Client, pid: str) -> str:
    return str(ok(http.get(f"/projects/{pid}"))["project"]["campaign_id"])


def figures(http: httpx.Client, cid: str) -> dict:
    return ok(http.get(f"/campaigns/{cid}/summary"))["total"]


def on_phone(page, base: str, user: str, route: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, user, route)


def fits(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Nothing in ``selector`` is wider than the phone's 390 px."""
    width = page.evaluate(f"document.querySelector({selector!r}).scrollWidth")
    assert width <= 390, width


def test_tag_counts_on_the_campaign_page_then_untag(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    today = datetime.now(CST).date()
    mark = uuid.uuid4().hex[:8]
    campaign = publish(
        province, f"冬日暖心-{mark}", today - timedelta(days=1), today + timedelta(30)
    )
    cid = campaign["id"]
    pid, sid, (vol,), _ = running_session(county, province, 1)
    for step in ("check-in", "check-out"):
        ok(county.post(f"/sessions/{sid}/{step}", json={"volunteer_id": vol["id"]}))
    assert int(figures(county, cid)["volunteers"]) == 0

    # The project's page: not tagged; the picker offers the open campaign.
    on_phone(page, base, "yanta-admin", f"/projects/{pid}")
    page.wait_for_selector(f"{CARD}[data-loaded]")
    assert page.get_attribute("[data-testid=project-campaign]", "data-id") == ""
    assert "未关联" in page.inner_text("[data-testid=project-campaign]")
    assert page.locator(f"{CARD} [data-action=untag-campaign]").count() == 0
    picker = page.locator("[data-testid=campaign-picker]")
    assert picker.locator(f"option[value='{cid}']").count() == 1
    picker.select_option(cid)
    page.click(f"{CARD} [data-action=tag-campaign]")
    page.wait_for_selector(f"{CARD}[data-campaign='{cid}'][data-loaded]")
    shown = page.locator("[data-testid=project-campaign]")
    assert shown.get_attribute("data-id") == cid
    assert campaign["title"] in shown.inner_text()
    assert page.inner_text("[data-testid=project-notice]") == "已关联专项行动"
    assert tag_of(county, pid) == cid
    fits(page, CARD)
    shot(page, "project-campaign")

    # The campaign's page counts the volunteer and lists the project.
    page.click(f"{CARD} [data-testid=project-campaign] a")
    page.wait_for_selector("[data-testid=campaign-volunteers][data-value='1']")
    assert page.inner_text("[data-testid=campaign-name]") == campaign["title"]
    rows = page.locator("[data-testid=campaign-projects-table] tbody tr")
    rows.first.wait_for()
    assert [rows.nth(i).get_attribute("data-id") for i in range(rows.count())] == [pid]
    assert int(figures(county, cid)["volunteers"]) == 1
    fits(page, "[data-testid=campaign-projects]")
    shot(page, "campaign-projects")

    # Untagged: the project shows none, the campaign counts and lists nothing.
    page.click("[data-testid=campaign-projects-table] a")
    page.wait_for_selector(f"{CARD}[data-campaign='{cid}'][data-loaded]")
    page.click(f"{CARD} [data-action=untag-campaign]")
    page.wait_for_selector(f"{CARD}[data-campaign=''][data-loaded]")
    assert page.get_attribute("[data-testid=project-campaign]", "data-id") == ""
    assert tag_of(county, pid) == ""
    page.goto(f"{base}/console/#/campaigns/{cid}")
    page.wait_for_selector("[data-testid=campaign-volunteers][data-value='0']")
    page.wait_for_selector("[data-testid=campaign-projects-empty]")
    assert int(figures(county, cid)["volunteers"]) == 0


def test_a_refused_tag_names_the_field_and_changes_nothing(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    today = datetime.now(CST).date()
    mark = uuid.uuid4().hex[:8]
    window = (today - timedelta(days=1), today + timedelta(days=30))
    kept = publish(province, f"关爱留守-{mark}", *window)
    narrowed = publish(province, f"助残帮扶-{mark}", *window)
    # A neighbouring city's campaign (Baoji), which Yanta does not see.
    ok(
        province.post(
            "/accounts",
            json={
                "username": f"baoji-admin-{mark}",
                "password": PASSWORD,
                "scope_code": "6103",
                "roles": ["tenant_admin"],
            },
        ),
        201,
    )
    baoji = httpx.Client(
        base_url=f"{base}/api/v1",
        timeout=30,
        headers=login(base, f"baoji-admin-{mark}"),
    )
    foreign = publish(baoji, f"宝鸡送温暖-{mark}", *window)
    project = draft(county, f"冬衣发放-{mark}")
    pid = project["id"]
    ok(county.put(f"/projects/{pid}/campaign", json={"campaign_id": kept["id"]}))

    on_phone(page, base, "yanta-admin", f"/projects/{pid}")
    page.wait_for_selector(f"{CARD}[data-campaign='{kept['id']}'][data-loaded]")
    picker = page.locator("[data-testid=campaign-picker]")
    assert picker.input_value() == kept["id"]
    assert picker.locator(f"option[value='{foreign['id']}']").count() == 0

    # The publisher narrows the window to have ended before the session:
    # the stale picker still offers it, the API refuses naming campaign_id.
    body = {**{k: narrowed[k] for k in ("title", "description", "target_groups")}}
    body["starts_on"] = (today - timedelta(days=20)).isoformat()
    body["ends_on"] = (today - timedelta(days=10)).isoformat()
    ok(province.put(f"/campaigns/{narrowed['id']}", json=body))
    picker.select_option(narrowed["id"])
    page.click(f"{CARD} [data-action=tag-campaign]")
    page.wait_for_selector(f"{MESSAGE}[data-rule='campaign_id.window']")
    assert page.get_attribute(MESSAGE, "data-field") == "campaign_id"
    assert page.inner_text(MESSAGE).startswith("专项行动：")
    assert "不在专项行动期间" in page.inner_text(MESSAGE)
    assert tag_of(county, pid) == kept["id"]
    fits(page, CARD)

    # A neighbour's campaign and an id naming nothing, put in the picker as
    # a forged page would: refused naming the field, nothing written.
    for wanted in (foreign["id"], str(uuid.uuid4())):
        page.evaluate(
            "id => { const s = document.querySelector('[data-testid=campaign-picker]');"
            " s.append(new Option(id, id)); s.value = id;"
            " const m = document.querySelector('[data-testid=campaign-message]');"
            " m.textContent = ''; delete m.dataset.field; }",
            wanted,
        )
        page.click(f"{CARD} [data-action=tag-campaign]")
        page.wait_for_selector(f"{MESSAGE}[data-field=campaign_id]")
        assert page.inner_text(MESSAGE).startswith("专项行动：")
        assert tag_of(county, pid) == kept["id"]
    r = county.put(f"/projects/{pid}/campaign", json={"campaign_id": foreign["id"]})
    assert r.status_code == 404 and r.json()["error"]["field"] == "campaign_id"
    assert tag_of(county, pid) == kept["id"]


def test_drive_and_pickup_forms_tag_the_chosen_campaign(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    today = datetime.now(CST).date()
    mark = uuid.uuid4().hex[:8]
    campaign = publish(
        province, f"冬衣募集-{mark}", today - timedelta(days=1), today + timedelta(30)
    )
    on_phone(page, base, "yanta-admin", "/recycling")
    form = page.locator("[data-testid=drive-form]")
    form.wait_for()
    picker = form.locator("[data-testid=drive-campaign]")
    form.locator("input[name=division_code]").fill(TOWN)
    assert picker.locator(f"option[value='{campaign['id']}']").count() == 1
    # A day before the window: the campaign is not offered for it.
    form.locator("input[name=held_on]").fill((today - timedelta(days=3)).isoformat())
    assert picker.locator(f"option[value='{campaign['id']}']").count() == 0
    form.locator("input[name=held_on]").fill(today.isoformat())
    picker.select_option(campaign["id"])
    form.locator("input[name=organisation_name]").fill(f"雁塔区爱心衣橱-{mark}")
    form.locator("input[name=title]").fill(f"冬衣捐赠-{mark}")
    form.locator("input[name=garments]").fill("12")
    form.locator("input[name=recipient_households]").fill("3")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=recycling-notice][data-kind=drive]")
    drive_id = page.get_attribute("[data-testid=recycling-notice]", "data-id")
    drive = ok(county.get(f"/recycling/drives/{drive_id}"))["drive"]
    assert drive["campaign_id"] == campaign["id"]
    fits(page, "[data-testid=drive-form]")

    # A pickup the office booked and assigned, collected with the campaign
    # chosen in its row: the booking carries it, and the campaign's page
    # counts its kilograms once recycling's event reaches activity.
    start = datetime.now(CST).replace(microsecond=0) + timedelta(hours=2)
    booking = ok(
        county.post(
            "/recycling/bookings",
            json={
                "request_id": uuid.uuid4().hex,
                "division_code": TOWN,
                "contact_name": "钱多宝",
                "contact_phone": new_phone(),
                "address": "西安市雁塔区小寨路街道长安中路12号院",
                "window_start": start.isoformat(),
                "window_end": (start + timedelta(hours=3)).isoformat(),
                "note": "两袋旧衣物",
            },
        ),
        201,
    )["booking"]
    bid = booking["id"]
    team = {"organisation_name": f"小寨路爱为宝服务队-{mark}"}
    ok(county.post(f"/recycling/bookings/{bid}/assign", json=team))
    log_in(page, base, "yanta-admin", f"/recycling?division={TOWN}")
    row = page.locator(f"[data-testid=bookings] tr[data-id='{bid}']")
    row.wait_for()
    row.locator("[data-testid=collect-campaign]").select_option(campaign["id"])
    row.locator("input[name=textiles_kg]").fill("4.5")
    row.locator("[data-action=collect]").click()
    page.wait_for_selector(
        f"[data-testid=bookings] tr[data-id='{bid}']"
        "[data-status=BOOKING_STATUS_COLLECTED]"
    )
    listed = ok(
        county.get(
            "/recycling/bookings",
            params={"division_code": TOWN, "status": "BOOKING_STATUS_COLLECTED",
                    "page_size": 500},
        )
    )  # fmt: skip
    collected = next(b for b in listed["bookings"] if b["id"] == bid)
    assert collected["campaign_id"] == campaign["id"]
    wait_for(
        lambda: figures(county, campaign["id"])["kg"] == pytest.approx(4.5),
        timeout=90,
        interval=0.5,
        what="the pickup's kilograms in the campaign's figures",
    )
    page.goto(f"{base}/console/#/campaigns/{campaign['id']}")
    page.wait_for_selector("[data-testid=campaign-kg][data-value='4.5']")
