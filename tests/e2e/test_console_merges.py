"""Merging duplicate registrations and naming service positions in the
console (headless Chromium, issue 14). A county office finds a duplicate from
a volunteer's row, compares both records, gives a reason, confirms and
merges; the merge is listed and reverted, saying why (a blank reason is
refused under its label, the reason is kept and shown); a volunteer of a neighbouring
county cannot be named (the error names the field) and nothing is merged.
At 390 px the merge pages do not scroll sideways. The positions page shows
each position's id with a copy button, and the project form offers the
positions of the organisation's division as an optional picker whose choice
is saved. Screenshots ``console-merges*`` at 390 and 1366 px."""

from __future__ import annotations

import httpx
import pytest

from tests.browser import shot
from tests.browser.plugin import PHONE
from tests.e2e.conftest import login
from tests.helpers import log_in, new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
COUNTY, TOWN, NEIGHBOUR = "610113", "610113006", "610116"
TABLE = "[data-testid=volunteers-table]"
LAPTOP = {"width": 1366, "height": 900}


# What scrolls sideways (past the window's right edge) and, on a phone, the
# shown buttons and action links shorter than a 40 px target.
CHECK = """width => {
  const out = [];
  const wide = document.documentElement.scrollWidth;
  if (wide > width + 1) out.push(`scroll ${wide}`);
  for (const node of document.querySelectorAll("#view button, #view a")) {
    const box = node.getBoundingClientRect();
    const text = node.textContent.trim();
    if (!box.width) continue;
    if (box.right > width + 1) out.push(`${text} right ${Math.round(box.right)}`);
    if (width < 640 && box.height < 40) out.push(`${text} ${Math.round(box.height)}px`);
  }
  return out.slice(0, 6);
}"""


def problems(page, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.evaluate(CHECK, width))


def register(http: httpx.Client, name: str, home: str) -> dict:
    return ok(http.post("/volunteers", json={
        "name": name, "id_number": new_id_number(home[:6]), "phone": new_phone(),
        "home_division_code": home, "service_fields": ["elderly_care"],
    }), 201)["volunteer"]  # fmt: skip


def status(http: httpx.Client, vol: dict) -> str:
    return ok(http.get(f"/volunteers/{vol['id']}"))["volunteer"]["status"]


def open_merge(page, base: str, survivor: dict) -> None:  # type: ignore[no-untyped-def]
    """From the volunteers page, the survivor's "merge a duplicate" action."""
    page.goto(f"{base}/console/#/volunteers?q={survivor['volunteer_number']}")
    row = page.locator(f"{TABLE} tr[data-id='{survivor['id']}']")
    row.wait_for()
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    row.locator("[data-action=merge]").click()
    page.wait_for_selector("[data-testid=merge-find-form]")


def find(page, query: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("[data-testid=merge-search]", query)
    page.click("[data-testid=merge-find]")


def test_an_office_merges_lists_and_reverts(platform, chromium) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    http = httpx.Client(
        base_url=f"{base}/api/v1", timeout=30, headers=login(base, "yanta-admin")
    )
    neighbour = httpx.Client(
        base_url=f"{base}/api/v1", timeout=30, headers=login(base, "changan-admin")
    )
    survivor, duplicate = register(http, "吴合并", TOWN), register(http, "吴合并", TOWN)
    ok(http.post(f"/volunteers/{survivor['id']}/verify"))
    outsider = register(neighbour, "郑邻区", NEIGHBOUR)

    for width, options in ((390, PHONE), (1366, {"viewport": LAPTOP})):
        context = chromium.new_context(locale="zh-CN", **options)
        page = context.new_page()
        try:
            log_in(page, base, "yanta-admin", "/volunteers")
            open_merge(page, base, survivor)

            if width == 390:
                # A neighbour's volunteer cannot be named: the error names
                # the field (merged_id, by its label) and nothing is merged.
                find(page, outsider["volunteer_number"])
                error = page.locator(
                    "[data-testid=merge-find-error][data-field=merged_id]"
                )
                error.wait_for()
                assert error.inner_text().startswith("被合并的重复记录：")
                assert page.locator("[data-testid=merge-candidate]").count() == 0
                assert status(neighbour, outsider) == "VOLUNTEER_STATUS_PENDING"

            # Find the duplicate, compare, reason, confirm, merge.
            find(page, duplicate["volunteer_number"])
            pick = f"[data-testid=merge-candidate][data-id='{duplicate['id']}']"
            page.locator(f"{pick} [data-action=pick]").click()
            compare = page.locator("[data-testid=merge-compare]")
            compare.locator("[data-testid=merge-merged_id] [data-col=hours]").wait_for()
            assert duplicate["volunteer_number"] in compare.inner_text()
            assert survivor["volunteer_number"] in compare.inner_text()
            masked = compare.locator(
                "[data-testid=merge-merged_id] [data-col=id_number]"
            ).inner_text()
            assert "*" in masked
            page.fill("[data-testid=merge-reason]", "同一人重复注册，已电话核实")
            page.click("[data-testid=merge-submit]")
            text = page.locator("[data-testid=merge-confirm-text]")
            text.wait_for()
            assert "时长" in text.inner_text() and "撤销" in text.inner_text()
            assert problems(page, width) == []
            shot(page, f"console-merges-{width}")
            page.click("[data-testid=merge-confirm-yes]")
            page.wait_for_selector("[data-testid=merge-result][data-id]")
            merge_id = page.get_attribute("[data-testid=merge-result]", "data-id")
            assert status(http, duplicate) == "VOLUNTEER_STATUS_MERGED"

            # The list shows it; revert asks, then restores.
            page.click("[data-testid=merge-list-link]")
            card = page.locator(f"[data-testid=merge][data-id='{merge_id}']")
            card.wait_for()
            assert card.get_attribute("data-state") == "live"
            assert problems(page, width) == []
            shot(page, f"console-merges-list-{width}")
            # Through the API: a blank, whitespace-only, bare-CR or too long
            # reason is refused naming the field; nothing is reverted.
            for bad in ("", "  \t ", "\r", "理" * 501):
                got = http.post(f"/merges/{merge_id}/revert", json={"reason": bad})
                assert got.status_code == 400, got.text
                assert got.json()["error"]["field"] == "reason", got.text
            assert status(http, duplicate) == "VOLUNTEER_STATUS_MERGED"
            card.locator("[data-action=revert]").click()
            card.locator("[data-testid=revert-confirm]").wait_for()
            # Without a reason (blank, then a bare CR) the revert is refused
            # under the reason's label and nothing changes.
            for blank in ("", "\r"):
                card.locator("[data-testid=revert-reason]").fill(blank)
                card.locator("[data-action=revert-yes]").click()
                error = card.locator("[data-testid=revert-error][data-field=reason]")
                error.wait_for()
                assert error.inner_text().startswith("原因："), error.inner_text()
                assert status(http, duplicate) == "VOLUNTEER_STATUS_MERGED"
                assert card.get_attribute("data-state") == "live"
                page.wait_for_function(
                    "b => !b.disabled",
                    arg=card.locator("[data-action=revert-yes]").element_handle(),
                )
            card.locator("[data-testid=revert-reason]").fill("核实为两人，误合并")
            card.locator("[data-action=revert-yes]").click()
            page.wait_for_selector(
                f"[data-testid=merge][data-id='{merge_id}'][data-state=reverted]"
            )
            assert status(http, duplicate) == "VOLUNTEER_STATUS_PENDING"
            # The reason is kept with the merge and shown on its card.
            assert card.locator("[data-col=revert_reason]").inner_text() == (
                "核实为两人，误合并"
            )
            (kept,) = [
                m for m in ok(http.get("/merges"))["merges"] if m["id"] == merge_id
            ]
            assert kept["revert_reason"] == "核实为两人，误合并"
            # The list follows the language switch.
            page.click("[data-testid=lang]")
            page.wait_for_selector(f"[data-testid=merge][data-id='{merge_id}']")
            assert "Reverted" in card.inner_text()
            assert problems(page, width) == []
        finally:
            context.close()


def test_position_ids_and_the_project_position_picker(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    http = httpx.Client(
        base_url=f"{base}/api/v1", timeout=30, headers=login(base, "yanta-admin")
    )
    positions = ok(http.get("/positions", params={"division_code": COUNTY}))[
        "positions"
    ]
    assert positions, "the seed has Yanta positions"

    # Each position shows its id in monospace, with a copy button.
    log_in(page, base, "yanta-admin", "/positions")
    card = page.locator(f"[data-testid=position][data-id='{positions[0]['id']}']")
    card.wait_for()
    assert card.locator("[data-testid=position-id]").inner_text() == positions[0]["id"]
    card.locator("[data-testid=position-copy-id]").click()
    card.locator("[data-testid=position-copy-id][data-copied]").wait_for()
    shot(page, "console-positions-ids")

    # The project form lists the organisation's division's positions; the
    # one picked is saved on the project.
    page.goto(f"{base}/console/#/projects")
    picker = page.locator("[data-testid=project-form] [data-testid=pj-position]")
    picker.wait_for()
    page.wait_for_selector("[data-testid=pj-position][data-loaded]", state="attached")
    division = picker.get_attribute("data-loaded") or ""
    wanted = next(p for p in positions if p["division_code"].startswith(division))
    picker.select_option(wanted["id"])
    form = "[data-testid=project-form]"
    page.fill(f"{form} input[name=title]", "阵地测试项目")
    page.fill(f"{form} input[name=place]", "大雁塔北广场")
    page.fill(f"{form} textarea[name=description]", "在服务阵地开展文明引导")
    page.select_option(f"{form} select[name=service_field]", "elderly_care")
    page.click("[data-testid=pj-submit]")
    page.wait_for_selector("[data-testid=pj-created-link]")
    created = page.get_attribute("[data-testid=pj-created-link]", "href") or ""
    project = ok(http.get(f"/projects/{created.rsplit('/', 1)[-1]}"))["project"]
    assert project["position_id"] == wanted["id"]

    # The draft's edit form shows the position chosen.
    page.click("[data-testid=pj-created-link]")
    edit = "[data-testid=project-edit-form] [data-testid=pj-position]"
    page.wait_for_selector(f"{edit}[data-loaded]", state="attached")
    assert page.locator(edit).input_value() == wanted["id"]
