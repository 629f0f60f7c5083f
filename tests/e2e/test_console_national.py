"""The nation (scope ``CN``) on the running platform: an account made by
``zhiyuan admin create --scope CN`` signs in through the gateway; its
dashboard shows every province (the seed's Shaanxi with the province
admin's own figures) and drills down to a province and a city with the
same figures as the province's admin sees; every personal or write route
answers 403 ``scope.national`` and writes nothing; in the console the
nation sees the dashboard and its drill-down, and no other page's link."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.browser import shot
from tests.e2e.conftest import login, login_with
from tests.e2e.test_console_api import ADDITIVE
from tests.helpers import PASSWORD, log_in

pytestmark = pytest.mark.e2e

NATIONAL_USER = "cn-admin"


@pytest.fixture(scope="module")
def nation(platform) -> dict:  # type: ignore[no-untyped-def]
    """The national account, made by the CLI as an operator would."""
    base, _, procs = platform
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "admin", "create",
         "--username", NATIONAL_USER, "--scope", "CN", "--roles", "province_admin",
         "--display-name", "全国志愿服务联合会", "--password-stdin"],
        input=PASSWORD + "\n", env=procs.env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return login_with(base, NATIONAL_USER, PASSWORD)


def http(base: str, headers: dict) -> httpx.Client:
    return httpx.Client(base_url=f"{base}/api/v1", timeout=60, headers=headers)


def test_the_nation_signs_in_and_sees_every_province(platform, nation) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    cn = http(base, nation)
    me = cn.get("/me").json()
    assert me["scope_code"] == "CN" and me["username"] == NATIONAL_USER
    board = cn.get("/dashboard").json()
    assert board["node"] == {"code": "CN", "name": "全国", "level": "nation"}
    assert [c["code"] for c in board["breadcrumb"]] == ["CN"]
    children = {c["code"]: c for c in board["children"]}
    assert "61" in children and all(len(code) == 2 for code in children)
    # The nation's figures are the sum of its provinces'...
    for name in ADDITIVE:
        assert sum(c[name] for c in children.values()) == pytest.approx(
            board["headline"][name], abs=0.01
        ), name
    # ...and Shaanxi's row is what Shaanxi's own admin sees.
    province = http(base, login(base, "sx-admin")).get("/dashboard").json()
    for name in ADDITIVE:
        assert children["61"][name] == pytest.approx(
            province["headline"][name], abs=0.01
        ), name


@pytest.mark.parametrize("node", ["61", "6101"])
def test_the_nation_drills_down_like_the_province(platform, nation, node) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    national = http(base, nation).get(f"/dashboard?division_code={node}").json()
    own = (
        http(base, login(base, "sx-admin"))
        .get(f"/dashboard?division_code={node}")
        .json()
    )
    assert national["headline"] == own["headline"]
    assert national["children"] == own["children"]
    assert [c["code"] for c in national["breadcrumb"]] == [
        "CN",
        *[c["code"] for c in own["breadcrumb"]],
    ]
    rollup = http(base, nation).get(f"/rollups/hours?division_code={node}")
    assert rollup.status_code == 200, rollup.text
    division = http(base, nation).get(f"/divisions/{node}")
    assert division.status_code == 200 and division.json()["division"]["code"] == node


def test_personal_routes_and_writes_refuse_the_nation(platform, nation) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    cn = http(base, nation)
    province = http(base, login(base, "sx-admin"))
    before = province.get("/volunteers?division_code=61").json()["page"]
    refusals = [
        cn.get("/volunteers"),
        cn.get("/organisations"),
        cn.get("/hours/records"),
        cn.post("/volunteers", json={"name": "李志愿", "home_division_code": "61"}),
        cn.post("/accounts", json={"username": "cn-made", "password": "x" * 12,
                                   "scope_code": "61", "roles": ["tenant_admin"]}),
    ]  # fmt: skip
    for got in refusals:
        assert got.status_code == 403, (got.request.url, got.text)
        assert got.json()["error"]["rule"] == "scope.national", got.request.url
    after = province.get("/volunteers?division_code=61").json()["page"]
    assert after.get("total_size") == before.get("total_size")
    accounts = province.get("/accounts?page_size=500").json().get("accounts", [])
    assert "cn-made" not in {a["username"] for a in accounts}


@pytest.mark.browser
def test_the_console_shows_the_nation_and_drills_down(platform, nation, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    log_in(page, base, NATIONAL_USER)
    page.wait_for_selector("[data-testid=children] tr[data-code='61']")
    assert page.inner_text("[data-testid=breadcrumb]").strip() == "全国"
    assert "全国" in page.inner_text("[data-testid=node-name]")
    # Only the dashboard's link: every other page would refuse the nation.
    shown = page.locator("nav.links a[data-roles]:visible")
    assert [shown.nth(i).get_attribute("href") for i in range(shown.count())] == [
        "#/dashboard"
    ]
    shot(page, "dashboard-national")
    page.click("[data-testid=children] tr[data-code='61']")
    page.wait_for_selector("[data-testid=children] tr[data-code='6101']")
    crumbs = page.locator("[data-testid=breadcrumb] a")
    assert [crumbs.nth(i).get_attribute("data-code") for i in range(2)] == [
        "CN",
        "61",
    ]
    page.click("[data-testid=breadcrumb] a[data-code='CN']")
    page.wait_for_selector("[data-testid=children] tr[data-code='61']")


def test_the_demo_seeds_a_national_login(platform) -> None:  # type: ignore[no-untyped-def]
    """`make run` prints nation-admin among the demo logins: the seed makes it."""
    base, _, _ = platform
    cn = http(base, login(base, "nation-admin"))
    assert cn.get("/me").json()["scope_code"] == "CN"
    assert cn.get("/dashboard").json()["node"]["code"] == "CN"
    assert cn.get("/volunteers").status_code == 403
