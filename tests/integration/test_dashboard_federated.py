"""The upstream's dashboard over real federated rows (issue 15): hours' api
reads ``federated_hours_rollup`` as the upstream's applier wrote it for two
county releases, and the real gateway app shows those figures in its
``federated`` section beside its own (left unchanged), by city at the
province and by township inside a county, with each link's time of last
delta and a stale flag; a release of any other role has no section. The
other services are not started (see :mod:`tests.integration.upstream_release`):
their federated figures are ``None``, as a service that cannot answer."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.rollup import CST
from services.common.testing import wait_for
from services.gateway.app import create_app
from tests.integration.upstream_release import UpstreamRelease

pytestmark = pytest.mark.integration

YEAR = datetime.now(CST).year
OTHERS = ["registration", "activity", "recycling", "commendation"]


def county_cells(
    county: str, towns: dict[str, float], year_hours: float, version: int
) -> list[Any]:
    """What a county release forwards: its own cell and its townships', all
    time, and its own cell for the calendar year."""
    total = sum(towns.values())
    cells = [(county, "all", version, {"hours": total, "records": 2.0})]
    cells += [(t, "all", version, {"hours": h}) for t, h in towns.items()]
    cells.append((county, str(YEAR), version, {"hours": year_hours}))
    return cells


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpstreamRelease]:
    with UpstreamRelease.start(tmp_path_factory.mktemp("fdash")) as release:
        release.apply(
            "yanta", county_cells("610113", {"610113001": 6.5, "610113002": 3.5}, 4, 1)
        )
        release.apply("yuyang", county_cells("610802", {"610802001": 3.0}, 1.25, 1))
        yield release


def board(client: TestClient, headers: dict[str, str], code: str) -> dict[str, Any]:
    got = client.get(
        f"/api/v1/dashboard?division_code={code}&year={YEAR}", headers=headers
    )
    assert got.status_code == 200, got.text
    return got.json()


def test_the_province_sees_its_counties_releases_beside_its_own(
    upstream, token
) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token('61', 'province_admin')}"}
    with TestClient(create_app(upstream.cfg)) as client:
        shown = board(client, headers, "61")
    # Its own figures: nothing recorded here, and none of the counties' hours.
    assert shown["headline"]["hours_total"] == 0
    assert shown["unavailable"] == OTHERS
    fed = shown["federated"]
    assert fed["headline"]["hours_total"] == 13.0
    assert fed["headline"]["hours_year"] == 5.25
    for name in ("volunteers_registered", "projects", "tonnes", "stars"):
        assert fed["headline"][name] is None, name
    assert fed["unavailable"] == OTHERS
    rows = {r["code"]: r for r in fed["children"]}
    assert set(rows) == {"6101", "6108"}
    assert rows["6101"]["hours_total"] == 10.0 and rows["6101"]["hours_year"] == 4.0
    assert rows["6108"]["hours_total"] == 3.0 and rows["6108"]["hours_year"] == 1.25
    assert rows["6101"]["downstreams"] == ["yanta"]
    assert rows["6108"]["name"] == "榆林市"
    links = {link["downstream"]: link for link in fed["links"]}
    assert set(links) == {"yanta", "yuyang"}
    assert links["yanta"]["subtree"] == "610113"
    assert links["yanta"]["subtree_name"] == "雁塔区"
    assert links["yanta"]["stale"] is False
    at = datetime.fromisoformat(links["yanta"]["last_delta_at"])
    assert at.tzinfo is not None and at <= datetime.now(UTC)
    assert links["yanta"]["services"] == {"hours": links["yanta"]["last_delta_at"]}


def test_inside_a_county_the_rows_are_its_townships(upstream, token) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token('61', 'province_admin')}"}
    with TestClient(create_app(upstream.cfg)) as client:
        fed = board(client, headers, "610113")["federated"]
    assert [(r["code"], r["hours_total"]) for r in fed["children"]] == [
        ("610113001", 6.5),
        ("610113002", 3.5),
    ]
    assert fed["headline"]["hours_total"] == 10.0
    assert [link["downstream"] for link in fed["links"]] == ["yanta"]


def test_a_city_admin_sees_only_its_own_subtree(upstream, token) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token('6108', 'tenant_admin')}"}
    with TestClient(create_app(upstream.cfg)) as client:
        fed = board(client, headers, "6108")["federated"]
        refused = client.get("/api/v1/dashboard?division_code=6101", headers=headers)
        # The export of a neighbour's (Xi'an), the parent's (the province) or
        # a made-up node is refused as the page is, federated rows and all.
        exports = {
            code: client.get(
                f"/api/v1/dashboard/export?division_code={code}", headers=headers
            )
            for code in ("6101", "61", "6199")
        }
    assert [link["downstream"] for link in fed["links"]] == ["yuyang"]
    assert fed["headline"]["hours_total"] == 3.0
    assert refused.status_code == 403
    for code, got in exports.items():
        assert got.status_code in (400, 403, 404), (code, got.text)
        assert "yanta" not in got.text and "federated:" not in got.text


def test_a_newer_delta_moves_the_figures_and_an_older_one_does_not(
    upstream, token
) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token('61', 'province_admin')}"}
    upstream.apply("yuyang", county_cells("610802", {"610802001": 5.0}, 2.0, 3))
    upstream.apply("yuyang", county_cells("610802", {"610802001": 99.0}, 99, 2))
    with TestClient(create_app(upstream.cfg)) as client:
        rows = {
            r["code"]: r for r in board(client, headers, "61")["federated"]["children"]
        }
    assert rows["6108"]["hours_total"] == 5.0 and rows["6108"]["hours_year"] == 2.0


def test_a_link_quiet_for_longer_than_the_threshold_is_stale(upstream, token) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token('61', 'province_admin')}"}
    cfg = upstream.with_env(FEDERATION_STALE_SECONDS="1")
    with TestClient(create_app(cfg)) as client:

        def stale() -> bool:
            links = board(client, headers, "61")["federated"]["links"]
            return all(link["stale"] for link in links)

        wait_for(stale, timeout=20, what="both links older than 1 s")
        fed = board(client, headers, "61")["federated"]
    assert fed["stale_seconds"] == 1
    assert all(link["age_seconds"] >= 1 for link in fed["links"])


def test_the_nation_sees_the_section_by_province(upstream, token) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token('CN', 'province_admin')}"}
    with TestClient(create_app(upstream.cfg)) as client:
        fed = board(client, headers, "")["federated"]
    assert fed["unavailable"] == OTHERS  # hours answered the nation
    assert [(r["code"], r["name"]) for r in fed["children"]] == [("61", "陕西省")]
    assert fed["children"][0]["downstreams"] == ["yanta", "yuyang"]
    assert fed["headline"]["hours_total"] == fed["children"][0]["hours_total"] > 0


def test_the_export_lists_the_federated_rows_after_the_own_ones(
    upstream, token
) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    headers = {"Authorization": f"Bearer {token('61', 'province_admin')}"}
    with TestClient(create_app(upstream.cfg)) as client:
        shown = board(client, headers, "61")
        got = client.get(
            f"/api/v1/dashboard/export?division_code=61&year={YEAR}&format=csv",
            headers=headers,
        )
        xlsx = client.get(
            f"/api/v1/dashboard/export?division_code=61&year={YEAR}&format=xlsx",
            headers=headers,
        )
    assert got.status_code == 200, got.text
    assert got.headers["zhiyuan-federated-unavailable"] == ",".join(OTHERS)
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][0] == "区划代码 code" and rows[0][-1] == "来源 source"
    hours = rows[0].index("累计服务时长 hours_total")
    own = [r for r in rows[1:] if r[-1] == "own"]
    fed = [r for r in rows[1:] if r[-1].startswith("federated:")]
    assert len(own) + len(fed) == len(rows) - 1  # nothing else
    assert [r[0] for r in own] == [c["code"] for c in shown["children"]]
    want = {c["code"]: c for c in shown["federated"]["children"]}
    assert [r[0] for r in fed] == sorted(want) == ["6101", "6108"]
    for r in fed:  # the federated figures as the page shows them, not added
        assert float(r[hours]) == want[r[0]]["hours_total"]
        assert r[-1] == "federated:" + " ".join(want[r[0]]["downstreams"])
    assert fed[0][-1] == "federated:yanta"
    assert all(float(r[hours] or 0) == 0 for r in own)

    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[0] == "61" and "联邦 federated" in book.sheetnames
    sheet = list(book["联邦 federated"].values)
    assert sheet[0][-1] == "下级平台 downstreams"
    assert [(v[0], v[hours]) for v in sheet[1:]] == [
        (c, want[c]["hours_total"]) for c in sorted(want)
    ]
    links = list(book["联邦链路 links"].values)
    assert links[0][0] == "下级平台 downstream"
    assert [v[:2] for v in links[1:]] == [("yanta", "610113"), ("yuyang", "610802")]
    assert len(list(book["61"].values)) == len(shown["children"]) + 1


@pytest.mark.parametrize("role", ["none", "downstream"])
def test_any_other_release_shows_no_section(upstream, token, role) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token('61', 'province_admin')}"}
    with TestClient(create_app(upstream.with_env(FEDERATION_ROLE=role))) as client:
        shown = board(client, headers, "61")
    assert "federated" not in shown
    assert shown["headline"]["hours_total"] == 0
    with TestClient(create_app(upstream.with_env(FEDERATION_ROLE=role))) as client:
        got = client.get("/api/v1/dashboard/export?division_code=61", headers=headers)
    header = got.content.decode("utf-8-sig").splitlines()[0]
    assert "source" not in header and "zhiyuan-federated-unavailable" not in got.headers
