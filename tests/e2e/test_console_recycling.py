"""The recycling page (爱为宝, ``#/recycling``) in headless Chromium, as the
Yanta county office: a bin placed in the form goes deployed → maintenance →
deployed by clicks with its history shown, and once retired the page offers
no way back (the service refuses one too); a collection recorded in the form
is listed and moves the recycling rollup and the dashboard by exactly its kg,
while a bad one is refused as "field: message" with nothing written; a
donation drive gets a distribution, and one larger than the drive has left is
refused naming the field; a resident's pickup booking is assigned and
collected with weights, the phone masked throughout; the neighbouring
Chang'an office sees none of it and cannot act on it. The office books a
pickup for a resident who phones in (a bad phone refused naming the field
with nothing written, a double submit booking once), sees it masked, assigns
and cancels it, and Chang'an cannot see or touch that booking either; the
bookings list filters by status and pages by the service's page tokens, as
the collections list does. Screenshots ``recycling-collection``,
``recycling-booking`` and ``recycling-phone-booking`` are kept.

The platform is shared with the other e2e tests: every name carries a uuid
tag, figures are read before and compared after, and the bins made here are
retired again so that the count of bins in service ends where it began."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import shot
from tests.e2e.conftest import PASSWORD, login, login_with
from tests.helpers import log_in, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
COUNTY, TOWN = "610113", "610113002"
CST = ZoneInfo("Asia/Shanghai")
BINS, COLLECTIONS = "[data-testid=bins]", "[data-testid=collections]"
DRIVES, BOOKINGS = "[data-testid=drives]", "[data-testid=bookings]"


def client(base: str, headers: dict) -> httpx.Client:
    return httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=30)


def tag() -> str:
    return uuid.uuid4().hex[:8].upper()


def today() -> str:
    return datetime.now(CST).date().isoformat()


def opened(
    page, base: str, username: str = "yanta-admin", route: str = "/recycling"
) -> None:  # type: ignore[no-untyped-def]
    log_in(page, base, username, route)
    page.wait_for_selector("[data-testid=recycling-title]")


def recycling(http: httpx.Client, code: str = COUNTY) -> dict:
    """The recycling rollup's total for a node (the summary route)."""
    got = ok(http.get("/rollups/recycling", params={"division_code": code}))
    return dict(got["rollup"]["total"]["metrics"])


def tonnes(http: httpx.Client, code: str = COUNTY) -> float:
    board = ok(http.get("/dashboard", params={"division_code": code}))
    return float(board["headline"]["tonnes"])


def collections_total(http: httpx.Client) -> int:
    got = ok(
        http.get(
            "/recycling/collections",
            params={"division_code": COUNTY, "page_size": 1},
        )
    )
    return int(got["page"].get("total_size", 0))


def place_bin(http: httpx.Client, code: str, town: str = TOWN) -> dict:
    return ok(
        http.post(
            "/recycling/bins",
            json={
                "code": code,
                "division_code": town,
                "place": {"address": "社区服务站旁"},
            },
        ),
        201,
    )["bin"]


def retire(http: httpx.Client, bin_id: str) -> None:
    """Take a test's bin out of service (the rollup's bins in service end
    where they began); a bin retired already stays so."""
    got = ok(http.get(f"/recycling/bins/{bin_id}"))["bin"]
    if got["status"] != "BIN_STATUS_RETIRED":
        ok(
            http.post(
                f"/recycling/bins/{bin_id}/status",
                json={"status": "BIN_STATUS_RETIRED", "reason": "e2e 清理"},
            )
        )


def resident(base: str, county: httpx.Client) -> dict:
    """A new resident of the town (a plain volunteer account), signed in."""
    username = f"rc-resident-{tag().lower()}"
    ok(
        county.post(
            "/accounts",
            json={
                "username": username,
                "password": PASSWORD,
                "scope_code": TOWN,
                "roles": ["volunteer"],
            },
        ),
        201,
    )
    return login_with(base, username, PASSWORD)


def book(http: httpx.Client, name: str, phone: str, start: datetime) -> dict:
    body = {
        "request_id": uuid.uuid4().hex,
        "division_code": TOWN,
        "contact_name": name,
        "contact_phone": phone,
        "address": "西安市雁塔区小寨路街道长安中路12号院",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=3)).isoformat(),
        "note": "两袋旧衣物",
    }
    return ok(http.post("/recycling/bookings", json=body), 201)["booking"]


def statuses(row) -> set[str]:  # type: ignore[no-untyped-def]
    """The statuses a bin's row offers to move to."""
    options = row.locator("select[name=status] option")
    return {options.nth(i).get_attribute("value") for i in range(options.count())}


def change(page, bin_id: str, status: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    row = page.locator(f"{BINS} tr[data-id='{bin_id}']")
    row.locator("select[name=status]").select_option(status)
    row.locator("input[name=reason]").fill(reason)
    row.locator("[data-action=status]").click()
    page.wait_for_selector(f"{BINS} tr[data-id='{bin_id}'][data-status={status}]")


def test_bin_lifecycle_by_clicks_with_history(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    http = client(base, login(base, "yanta-admin"))
    in_service = recycling(http)["bins_deployed"]
    code = f"E2E-RC-{tag()}"
    opened(page, base)

    # Place the bin in the form: the page shows its township with the bin.
    form = page.locator("[data-testid=bin-form]")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=division_code]").fill(TOWN)
    form.locator("input[name=address]").fill("小寨路街道社区服务站旁")
    form.locator("button[type=submit]").click()
    row = page.locator(f"{BINS} tr[data-code='{code}']")
    row.wait_for()
    bin_id = row.get_attribute("data-id") or ""
    try:
        assert row.get_attribute("data-status") == "BIN_STATUS_DEPLOYED"
        assert page.get_attribute("[data-testid=recycling-notice]", "data-id") == bin_id
        assert recycling(http)["bins_deployed"] == in_service + 1
        # Only the service's moves are offered, never the status it has.
        assert statuses(row) == {
            "BIN_STATUS_FULL",
            "BIN_STATUS_MAINTENANCE",
            "BIN_STATUS_RETIRED",
        }

        change(page, bin_id, "BIN_STATUS_MAINTENANCE", "箱门损坏")
        assert row.locator("td[data-col=status]").inner_text() == "维修中"
        assert statuses(row) == {"BIN_STATUS_DEPLOYED", "BIN_STATUS_RETIRED"}
        change(page, bin_id, "BIN_STATUS_DEPLOYED", "已修好")
        assert row.locator("td[data-col=status]").inner_text() == "在用"

        # The history, oldest first, as the service keeps it.
        row.locator("[data-action=history]").click()
        history = page.locator(f"[data-testid=bin-history][data-id='{bin_id}']")
        history.wait_for()
        changes = history.locator("tbody tr")
        expect(changes).to_have_count(3)
        assert [changes.nth(i).get_attribute("data-to") for i in range(3)] == [
            "BIN_STATUS_DEPLOYED",
            "BIN_STATUS_MAINTENANCE",
            "BIN_STATUS_DEPLOYED",
        ]
        assert "箱门损坏" in changes.nth(1).inner_text()
        assert "yanta-admin" in changes.nth(2).inner_text()
        kept = ok(http.get(f"/recycling/bins/{bin_id}"))["history"]
        assert [c["reason"] for c in kept[1:]] == ["箱门损坏", "已修好"]

        # Retiring asks first; declined, nothing changes.
        page.once("dialog", lambda dialog: dialog.dismiss())
        row.locator("select[name=status]").select_option("BIN_STATUS_RETIRED")
        row.locator("[data-action=status]").click()
        got = ok(http.get(f"/recycling/bins/{bin_id}"))["bin"]
        assert got["status"] == "BIN_STATUS_DEPLOYED"

        # Confirmed, the bin is retired and the page offers no way back.
        page.once("dialog", lambda dialog: dialog.accept())
        change(page, bin_id, "BIN_STATUS_RETIRED", "拆除")
        assert row.locator("select[name=status]").count() == 0
        assert row.locator("[data-action=status]").count() == 0
        assert (
            row.locator("[data-testid=bin-final]").inner_text()
            == "已撤除，状态不可再变更"
        )
        expect(history.locator("tbody tr")).to_have_count(4)  # still shown
        assert history.locator("tbody tr").nth(3).get_attribute("data-to") == (
            "BIN_STATUS_RETIRED"
        )
        assert recycling(http)["bins_deployed"] == in_service

        # Asked directly, the service refuses to bring it back.
        again = http.post(
            f"/recycling/bins/{bin_id}/status", json={"status": "BIN_STATUS_DEPLOYED"}
        )
        assert again.status_code == 409, again.text
        assert again.json()["error"]["rule"] == "state.transition"
        assert page.locator("[data-testid=bin-error]").inner_text() == ""
    finally:
        retire(http, bin_id)


def test_collection_in_the_form_moves_the_summary(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    http = client(base, login(base, "yanta-admin"))
    mark = tag()
    code, team = f"E2E-RC-{mark}", f"雁塔区爱为宝志愿服务队-{mark}"
    bin_ = place_bin(http, code)
    try:
        ok(
            http.post(
                f"/recycling/bins/{bin_['id']}/status",
                json={"status": "BIN_STATUS_FULL", "reason": "满箱"},
            )
        )
        opened(page, base)
        form = page.locator("[data-testid=collection-form]")
        form.wait_for()
        error = page.locator("[data-testid=collection-error]")
        before = recycling(http)
        count_before = collections_total(http)

        # A negative weight: the service's refusal names the category.
        form.locator("input[name=division_code]").fill(TOWN)
        form.locator("input[name=organisation_name]").fill(team)
        form.locator("input[name=bin_codes]").fill(code)
        form.locator("input[name=textiles_kg]").fill("-5")
        form.locator("input[name=books_kg]").fill("3")
        form.locator("button[type=submit]").click()
        page.wait_for_selector(
            "[data-testid=collection-error][data-field='weights.textiles_kg']"
        )
        assert error.get_attribute("data-rule") == "weights.textiles_kg.non_negative"
        assert error.inner_text().startswith("衣物（千克）：")  # the label, not the key
        assert len(error.inner_text()) > len("衣物（千克）：")

        # No weight in any category: the weights as a whole are refused.
        for name in ("textiles_kg", "books_kg", "other_kg"):
            form.locator(f"input[name={name}]").fill("")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("[data-testid=collection-error][data-field=weights]")
        assert error.get_attribute("data-rule") == "weights.positive"
        assert error.inner_text().startswith("各类重量（千克）：")
        # Nothing was written, and the form keeps what was typed.
        assert collections_total(http) == count_before
        assert recycling(http) == before
        assert form.locator("input[name=organisation_name]").input_value() == team
        assert page.locator(f"{COLLECTIONS} tr", has_text=team).count() == 0

        # A good one: listed, and the figures move by exactly its weight.
        board_before = tonnes(http)
        form.locator("input[name=textiles_kg]").fill("12.5")
        form.locator("input[name=books_kg]").fill("3.4")
        form.locator("input[name=other_kg]").fill("1.1")
        form.locator("input[name=note]").fill(f"e2e {mark}")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("[data-testid=recycling-notice][data-kind=collection]")
        made = page.get_attribute("[data-testid=recycling-notice]", "data-id")
        row = page.locator(f"{COLLECTIONS} tr[data-id='{made}']")
        row.wait_for()
        assert team in row.inner_text() and code in row.inner_text()
        assert row.locator("td[data-col=textiles]").inner_text() == "12.5"
        assert row.locator("td[data-col=books]").inner_text() == "3.4"
        assert row.locator("td[data-col=other]").inner_text() == "1.1"
        assert row.locator("td[data-col=total]").inner_text() == "17"
        assert today() in row.inner_text()
        assert page.locator("[data-testid=collection-error]").inner_text() == ""

        after = recycling(http)
        assert after["events"] == before["events"] + 1
        assert after["kg_total"] == pytest.approx(before["kg_total"] + 17.0, abs=1e-6)
        assert after["kg_textiles"] == pytest.approx(
            before["kg_textiles"] + 12.5, abs=1e-6
        )
        assert after["kg_books"] == pytest.approx(before["kg_books"] + 3.4, abs=1e-6)
        assert after["kg_other"] == pytest.approx(before["kg_other"] + 1.1, abs=1e-6)
        assert after["bins_deployed"] == before["bins_deployed"]
        assert tonnes(http) == pytest.approx(board_before + 0.017, abs=1e-6)
        assert collections_total(http) == count_before + 1

        # The full bin it emptied is in service again, emptied today.
        emptied = ok(http.get(f"/recycling/bins/{bin_['id']}"))
        assert emptied["bin"]["status"] == "BIN_STATUS_DEPLOYED"
        assert emptied["bin"]["last_emptied_on"] == today()
        assert emptied["history"][-1]["collection_id"] == made
        shot(page, "recycling-collection")
    finally:
        retire(http, bin_["id"])


def test_drive_with_a_distribution_and_one_too_many(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    http = client(base, login(base, "yanta-admin"))
    mark = tag()
    title = f"冬衣捐赠-{mark}"
    opened(page, base)
    form = page.locator("[data-testid=drive-form]")
    form.locator("input[name=division_code]").fill(TOWN)
    form.locator("input[name=organisation_name]").fill(f"雁塔区爱心衣橱-{mark}")
    form.locator("input[name=title]").fill(title)
    form.locator("input[name=garments]").fill("40")
    form.locator("input[name=books]").fill("10")
    form.locator("input[name=recipient_households]").fill("8")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=recycling-notice][data-kind=drive]")
    drive_id = page.get_attribute("[data-testid=recycling-notice]", "data-id")
    row = page.locator(f"{DRIVES} tr[data-id='{drive_id}']")
    row.wait_for()
    assert title in row.inner_text()
    assert row.locator("td[data-col=items]").inner_text() == "40 / 10 / 0"
    assert row.locator("td[data-col=distributed]").inner_text() == "0 / 0 / 0"

    def distribute(households: str, garments: str, books: str = "") -> None:
        here = page.locator(f"{DRIVES} tr[data-id='{drive_id}']")
        here.locator("input[name=households]").fill(households)
        here.locator("input[name=garments]").fill(garments)
        here.locator("input[name=books]").fill(books)
        here.locator("[data-action=distribute]").click()

    distribute("3", "15", "4")
    expect(row.locator("td[data-col=distributed]")).to_have_text("15 / 4 / 0")
    expect(row.locator("td[data-col=households]")).to_have_text("3 / 8")
    assert page.get_attribute("[data-testid=recycling-notice]", "data-kind") == (
        "distribution"
    )

    # More garments than the drive has left: refused naming the category.
    error = page.locator("[data-testid=drive-error]")
    distribute("1", "26")
    page.wait_for_selector("[data-testid=drive-error][data-field='items.garments']")
    assert error.get_attribute("data-rule") == "distribution.within_drive"
    assert error.inner_text().startswith("衣物（件）：")
    assert "25" in error.inner_text()  # what is left
    # More households than the drive was for: refused naming households.
    distribute("6", "1")
    page.wait_for_selector("[data-testid=drive-error][data-field=households]")
    assert error.inner_text().startswith("参与户数：")

    got = ok(http.get(f"/recycling/drives/{drive_id}"))
    assert len(got["distributions"]) == 1
    assert got["drive"]["distributed"]["garments"] == 15
    assert got["drive"]["households_reached"] == 3
    expect(row.locator("td[data-col=distributed]")).to_have_text("15 / 4 / 0")

    # Exactly what is left is fine; then the page offers no more handing out.
    distribute("5", "25", "6")
    expect(row.locator("td[data-col=distributed]")).to_have_text("40 / 10 / 0")
    expect(row.locator("td[data-col=households]")).to_have_text("8 / 8")
    assert row.locator("[data-action=distribute]").count() == 0
    assert error.inner_text() == ""
    got = ok(http.get(f"/recycling/drives/{drive_id}"))
    assert [d["households"] for d in got["distributions"]] == [3, 5]


def test_pickup_booking_assigned_and_collected(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    http = client(base, login(base, "yanta-admin"))
    home = client(base, resident(base, http))
    phone, name = new_phone(), "钱多宝"
    # Tomorrow 14:30 China time (06:30 UTC): the page must show 14:30.
    tomorrow = datetime.now(CST).date() + timedelta(days=1)
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 14, 30, tzinfo=CST)
    booking = book(home, name, phone, start)
    assert booking["status"] == "BOOKING_STATUS_REQUESTED"
    # Residents book; only offices list bookings.
    assert home.get("/recycling/bookings").status_code == 403
    before = recycling(http)

    opened(page, base, route=f"/recycling?division={TOWN}")
    booked = f"{BOOKINGS} tr[data-id='{booking['id']}']"
    row = page.locator(booked)
    row.wait_for()
    assert row.get_attribute("data-status") == "BOOKING_STATUS_REQUESTED"
    shown = row.locator("td[data-col=phone]").inner_text()
    assert "*" in shown and shown != phone and shown[:3] == phone[:3]
    assert row.locator("td[data-col=contact]").inner_text() == "钱**"
    window = row.locator("td[data-col=window]").inner_text()
    assert "14:30" in window and "17:30" in window, window
    html = page.content()
    assert phone not in html and name not in html

    # Assign to a team, then collect with weights.
    team = f"小寨路爱为宝服务队-{tag()}"
    row.locator("input[name=organisation_name]").fill(team)
    row.locator("[data-action=assign]").click()
    page.wait_for_selector(f"{booked}[data-status=BOOKING_STATUS_ASSIGNED]")
    assert team in row.inner_text()

    # Collected with no weight at all: refused naming weights, still assigned.
    row.locator("[data-action=collect]").click()
    page.wait_for_selector("[data-testid=booking-error][data-field=weights]")
    assert page.inner_text("[data-testid=booking-error]").startswith(
        "各类重量（千克）："
    )
    assert row.get_attribute("data-status") == "BOOKING_STATUS_ASSIGNED"

    row.locator("input[name=textiles_kg]").fill("6.5")
    row.locator("input[name=books_kg]").fill("2")
    row.locator("[data-action=collect]").click()
    page.wait_for_selector(f"{booked}[data-status=BOOKING_STATUS_COLLECTED]")
    collected = row.locator("td[data-col=collected]")
    assert collected.get_attribute("data-total") == "8.5"
    assert today() in collected.inner_text() and "8.5" in collected.inner_text()
    assert row.locator("[data-action]").count() == 0  # nothing more to do
    html = page.content()
    assert phone not in html and name not in html
    shot(page, "recycling-booking")

    after = recycling(http)
    assert after["bookings_collected"] == before["bookings_collected"] + 1
    assert after["kg_total"] == pytest.approx(before["kg_total"] + 8.5, abs=1e-6)
    assert after["events"] == before["events"]

    # The page in English says the same, times still in China time.
    page.click("[data-testid=lang]")
    expect(row.locator("td[data-col=status]")).to_have_text("Collected")
    assert "14:30" in row.locator("td[data-col=window]").inner_text()
    assert phone not in page.content()


def test_neighbouring_county_sees_and_touches_none_of_it(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    yanta = client(base, login(base, "yanta-admin"))
    changan = client(base, login(base, "changan-admin"))
    code = f"E2E-RC-{tag()}"
    bin_ = place_bin(yanta, code)
    start = datetime.now(CST) + timedelta(days=2)
    booking = book(yanta, "孙邻居", new_phone(), start)
    try:
        opened(page, base, "changan-admin")
        page.wait_for_selector(f"{BINS} tbody tr", state="attached")
        codes = page.locator(f"{BINS} tbody tr[data-code]")
        assert codes.count() > 0
        assert page.locator(f"{BINS} tr[data-id='{bin_['id']}']").count() == 0
        assert page.locator(f"{BOOKINGS} tr[data-id='{booking['id']}']").count() == 0
        assert code not in page.content()
        divisions = page.locator(f"{BINS} tbody tr[data-code] td:nth-child(2)")
        assert all(d.startswith("610116") for d in divisions.all_inner_texts())

        # Yanta's lists asked for by name: access denied.
        page.evaluate("location.hash = '#/recycling?division=610113'")
        page.wait_for_selector("[data-testid=denied]")

        # Acting on Yanta's bin and booking directly: not found for Chang'an.
        moved = changan.post(
            f"/recycling/bins/{bin_['id']}/status",
            json={"status": "BIN_STATUS_MAINTENANCE", "reason": "越权"},
        )
        assert moved.status_code == 404, moved.text
        assigned = changan.post(
            f"/recycling/bookings/{booking['id']}/assign",
            json={"organisation_name": "长安区服务队"},
        )
        assert assigned.status_code == 404, assigned.text
        # The same from the console's own session in the browser.
        status = page.evaluate(
            """async (id) => {
                try {
                  await window.zy.api(`/recycling/bookings/${id}/cancel`, {
                    method: "POST", headers: {"content-type": "application/json"},
                    body: JSON.stringify({reason: "越权"})});
                  return 200;
                } catch (err) { return err.status; }
            }""",
            booking["id"],
        )
        assert status == 404
        assert ok(yanta.get(f"/recycling/bins/{bin_['id']}"))["bin"]["status"] == (
            "BIN_STATUS_DEPLOYED"
        )
        listed = ok(
            yanta.get(
                "/recycling/bookings", params={"division_code": TOWN, "page_size": 500}
            )
        )["bookings"]
        mine = [b for b in listed if b["id"] == booking["id"]]
        assert mine and mine[0]["status"] == "BOOKING_STATUS_REQUESTED"
    finally:
        retire(yanta, bin_["id"])
        yanta.post(
            f"/recycling/bookings/{booking['id']}/cancel", json={"reason": "e2e 清理"}
        )


def bookings_total(http: httpx.Client, code: str = TOWN, status: str = "") -> int:
    params = {"division_code": code, "page_size": 1}
    if status:
        params["status"] = status
    got = ok(http.get("/recycling/bookings", params=params))
    return int(got["page"].get("total_size", 0))


def local(moment: datetime) -> str:
    """A China time as a datetime-local input takes it."""
    return moment.astimezone(CST).strftime("%Y-%m-%dT%H:%M")


def listed(page, table: str) -> list[str]:  # type: ignore[no-untyped-def]
    rows = page.locator(f"{table} tbody tr[data-id]")
    return [rows.nth(i).get_attribute("data-id") or "" for i in range(rows.count())]


def shown_statuses(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(f"{BOOKINGS} tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.status)"
    )


def test_office_books_by_phone_masked_then_assigned_and_cancelled(  # type: ignore[no-untyped-def]
    platform, page
) -> None:
    base, _, _ = platform
    http = client(base, login(base, "yanta-admin"))
    changan = client(base, login(base, "changan-admin"))
    mark = tag()
    phone, name = new_phone(), f"周桂兰{mark}"
    address = f"西安市雁塔区小寨路街道兴善寺东街{mark}号"
    tomorrow = datetime.now(CST).date() + timedelta(days=1)
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 0, tzinfo=CST)
    before, count_before = recycling(http), bookings_total(http)
    sent: list = []
    answers: list = []

    def mine(r) -> bool:  # type: ignore[no-untyped-def]
        return r.method == "POST" and r.url.endswith("/api/v1/recycling/bookings")

    page.on("request", lambda r: sent.append(r) if mine(r) else None)
    page.on("response", lambda r: answers.append(r) if mine(r.request) else None)
    opened(page, base, route=f"/recycling?division={TOWN}")
    form = page.locator("[data-testid=booking-form]")
    error = page.locator("[data-testid=booking-error]")
    form.locator("input[name=division_code]").fill(TOWN)
    form.locator("input[name=contact_name]").fill(name)
    form.locator("input[name=contact_phone]").fill("1381234")
    form.locator("input[name=address]").fill(address)
    form.locator("input[name=window_start]").fill(local(start))
    form.locator("input[name=window_end]").fill(local(start + timedelta(hours=2)))
    form.locator("input[name=note]").fill(f"电话预约 {mark}")
    key = form.get_attribute("data-key")

    # A bad phone: refused naming the field, nothing written, form kept.
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=booking-error][data-field=contact_phone]")
    assert error.get_attribute("data-rule") == "phone.format"
    assert error.inner_text().startswith("联系电话：")
    assert len(error.inner_text()) > len("联系电话：")
    assert bookings_total(http) == count_before
    assert form.locator("input[name=contact_name]").input_value() == name
    assert form.get_attribute("data-key") == key  # the same filled form

    # Submitted twice at once: one key, one booking.
    form.locator("input[name=contact_phone]").fill(phone)
    form.evaluate("f => { f.requestSubmit(); f.requestSubmit(); }")
    page.wait_for_selector("[data-testid=recycling-notice][data-kind=booking]")
    for _ in range(100):
        if len(answers) == 3:
            break
        page.wait_for_timeout(100)
    assert len(sent) == 3  # the refused one and the two at once
    keys = [r.post_data_json["request_id"] for r in sent]
    assert keys[0] == keys[1] == keys[2] == key
    made = {a.json()["booking"]["id"] for a in answers[-2:]}
    assert len(made) == 1 and all(a.status == 201 for a in answers[-2:])
    booking_id = made.pop()
    assert bookings_total(http) == count_before + 1
    assert recycling(http)["bookings"] == before["bookings"] + 1
    expect(page.locator("[data-testid=recycling-notice]")).to_have_attribute(
        "data-id", booking_id
    )

    # Listed masked; the full name, phone and address are nowhere in the page.
    booked = f"{BOOKINGS} tr[data-id='{booking_id}']"
    row = page.locator(booked)
    row.wait_for()
    assert row.get_attribute("data-status") == "BOOKING_STATUS_REQUESTED"
    shown = row.locator("td[data-col=phone]").inner_text()
    assert "*" in shown and shown != phone and shown[:3] == phone[:3]
    assert row.locator("td[data-col=contact]").inner_text() == "周" + "*" * (
        len(name) - 1
    )
    assert row.locator("td[data-col=address]").inner_text() == "西安市雁塔区****"
    window = row.locator("td[data-col=window]").inner_text()
    assert "09:00" in window and "11:00" in window, window
    html = page.content()
    assert phone not in html and name not in html and address not in html
    fresh = page.locator("[data-testid=booking-form]")
    assert fresh.get_attribute("data-key") != key  # a new form, a new key
    for field in ("contact_name", "contact_phone", "address"):
        assert fresh.locator(f"input[name={field}]").input_value() == ""
    assert error.inner_text() == ""
    shot(page, "recycling-phone-booking")

    # Chang'an neither lists it nor acts on it.
    everything = ok(changan.get("/recycling/bookings", params={"page_size": 500}))
    assert booking_id not in {b["id"] for b in everything["bookings"]}
    for action, body in (
        ("assign", {"organisation_name": "长安区服务队"}),
        ("cancel", {"reason": "越权"}),
    ):
        tried = changan.post(f"/recycling/bookings/{booking_id}/{action}", json=body)
        assert tried.status_code == 404, tried.text

    # Assigned, then cancelled, by clicks.
    team = f"小寨路爱为宝服务队-{mark}"
    row.locator("input[name=organisation_name]").fill(team)
    row.locator("[data-action=assign]").click()
    page.wait_for_selector(f"{booked}[data-status=BOOKING_STATUS_ASSIGNED]")
    assert team in row.inner_text()
    row.locator("input[name=reason]").fill("居民改为自行投放")
    row.locator("[data-action=cancel]").click()
    page.wait_for_selector(f"{booked}[data-status=BOOKING_STATUS_CANCELLED]")
    assert "居民改为自行投放" in row.inner_text()
    assert row.locator("[data-action]").count() == 0
    assert phone not in page.content()
    cancelled = ok(
        http.get(
            "/recycling/bookings",
            params={
                "division_code": TOWN,
                "status": "BOOKING_STATUS_CANCELLED",
                "page_size": 500,
            },
        )
    )["bookings"]
    assert booking_id in {b["id"] for b in cancelled}
    after = recycling(http)
    assert after["bookings"] == before["bookings"] + 1
    for figure in ("events", "kg_total", "bookings_collected", "bins_deployed"):
        assert after[figure] == before[figure], figure

    # Chang'an's own page: not listed; Yanta's town asked for: denied.
    page.click("#logout")
    opened(page, base, "changan-admin")
    assert page.locator(f"{BOOKINGS} tr[data-id='{booking_id}']").count() == 0
    assert mark not in page.content()
    page.evaluate(f"location.hash = '#/recycling?division={TOWN}'")
    page.wait_for_selector("[data-testid=denied]")


def test_bookings_filtered_by_status_and_paged(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    http = client(base, login(base, "yanta-admin"))
    start = datetime.now(CST) + timedelta(days=3)
    made = [
        book(http, f"吴{i}号", new_phone(), start + timedelta(hours=i))["id"]
        for i in range(3)
    ]
    requested = "BOOKING_STATUS_REQUESTED"
    try:
        opened(page, base, route=f"/recycling?division={TOWN}&bookings_size=2")
        total = bookings_total(http)
        assert total >= 3
        assert page.get_attribute("[data-testid=bookings-total]", "data-total") == (
            str(total)
        )
        assert f"共 {total} 条" in page.inner_text("[data-testid=bookings-total]")
        first_page = listed(page, BOOKINGS)
        assert len(first_page) == 2
        assert page.locator("[data-testid=bookings-first]").is_disabled()

        # Next: a different page, sharing no booking with the first.
        token = page.get_attribute("[data-testid=bookings-next]", "data-token")
        assert token
        page.click("[data-testid=bookings-next]")
        page.wait_for_selector(f"[data-testid=bookings-pager][data-page='{token}']")
        second_page = listed(page, BOOKINGS)
        assert second_page and not set(second_page) & set(first_page)
        assert "bookings_page=" in page.evaluate("location.hash")
        assert page.locator("[data-testid=bookings-first]").is_enabled()

        # First: back where it began.
        page.click("[data-testid=bookings-first]")
        page.wait_for_selector("[data-testid=bookings-pager][data-page='']")
        assert listed(page, BOOKINGS) == first_page

        # Requested only: every row requested, the total the service's, and
        # paging keeps the filter.
        page.select_option("[data-testid=bookings-status]", requested)
        page.wait_for_selector(
            f"[data-testid=bookings-section][data-status={requested}]"
        )
        assert f"bookings_status={requested}" in page.evaluate("location.hash")
        want = bookings_total(http, status=requested)
        assert want >= 3
        expect(page.locator("[data-testid=bookings-total]")).to_have_attribute(
            "data-total", str(want)
        )
        page_one = listed(page, BOOKINGS)
        assert set(shown_statuses(page)) == {requested} and len(page_one) == 2
        assert page.locator("[data-testid=bookings-status]").input_value() == requested
        token = page.get_attribute("[data-testid=bookings-next]", "data-token")
        page.click("[data-testid=bookings-next]")
        page.wait_for_selector(f"[data-testid=bookings-pager][data-page='{token}']")
        page_two = listed(page, BOOKINGS)
        assert page_two and not set(page_two) & set(page_one)
        assert set(shown_statuses(page)) == {requested}
        page.click("[data-testid=bookings-first]")
        page.wait_for_selector("[data-testid=bookings-pager][data-page='']")
        assert listed(page, BOOKINGS) == page_one

        # Collections page alike (newest first), by the hash's page size.
        page.evaluate(
            f"location.hash = '#/recycling?division={COUNTY}&collections_size=1'"
        )
        page.wait_for_selector("[data-testid=collections-total]:not([data-total='0'])")
        expect(page.locator(f"{COLLECTIONS} tbody tr")).to_have_count(1)
        assert page.get_attribute(
            "[data-testid=collections-total]", "data-total"
        ) == str(collections_total(http))
        one = listed(page, COLLECTIONS)
        token = page.get_attribute("[data-testid=collections-next]", "data-token")
        assert token, "Yanta needs two collections to page"
        page.click("[data-testid=collections-next]")
        page.wait_for_selector(f"[data-testid=collections-pager][data-page='{token}']")
        two = listed(page, COLLECTIONS)
        assert len(two) == 1 and two != one
        page.click("[data-testid=collections-first]")
        page.wait_for_selector("[data-testid=collections-pager][data-page='']")
        assert listed(page, COLLECTIONS) == one
    finally:
        for ident in made:
            http.post(
                f"/recycling/bookings/{ident}/cancel", json={"reason": "e2e 清理"}
            )
