"""The dashboard's ``federated`` section (issue 15) with fake stubs, no
network: present on an upstream release with the same FIGURES as the
headline, each downstream's link and its ``stale`` flag; absent, with no
extra call, on any other release; a service that does not federate yet
(UNIMPLEMENTED) or cannot answer leaves only its federated figures empty;
the nation sees it too. The real chain (hours' api over a database the
upstream's applier wrote) is in tests/integration/test_dashboard_federated.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from zhiyuan.common.v1 import common_pb2 as common

from services.catalog import SERVICES
from services.common import protos
from services.common.auth import TokenVerifier
from services.common.config import Config
from services.common.errors import InvalidArgument
from services.gateway.app import create_app
from services.gateway.backend import Backend
from services.gateway.dashboard_federated import settings
from tests.unit.test_gateway_errors import rpc_error
from tests.unit.test_gateway_national import PUBLIC, _rollup, bearer

Reply = Callable[[Any], Any]


class Stub:
    """Records every call; ``replies[method](request)`` answers or raises."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.replies: dict[str, Reply] = {}

    def __getattr__(self, method: str) -> Any:
        async def call(
            request: Any, *, timeout: Any = None, metadata: Any = None
        ) -> Any:
            self.calls.append((method, request))
            reply = self.replies[method](request)
            if isinstance(reply, BaseException):
                raise reply
            return reply

        return call


def app_with(role: str, stale: str = "") -> tuple[TestClient, dict[str, Stub]]:
    stubs = {name: Stub() for name in SERVICES}
    backend = Backend(
        registration=stubs["registration"],
        health=Stub(),
        deadline=5,
        others={n: (s, Stub()) for n, s in stubs.items() if n != "registration"},
    )
    cfg = Config({"federation": {"role": role, "stale_seconds": stale}})
    verifier = TokenVerifier(PUBLIC, "zhiyuan", "zhiyuan")
    return TestClient(create_app(cfg, backend=backend, verifier=verifier)), stubs


@pytest.fixture
def upstream() -> Iterator[dict[str, Any]]:
    client, stubs = app_with("upstream", "900")
    with client:
        yield {"client": client, "stubs": stubs}


def own(stubs: dict[str, Stub], *rows: tuple[str, float]) -> None:
    for name, stub in stubs.items():
        reply = protos.messages(name).SummarizeResponse(rollup=_rollup(*rows))
        stub.replies["Summarize"] = lambda _req, reply=reply: reply


def ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


def federated(
    stubs: dict[str, Stub],
    rows: list[tuple[str, float]],
    links: list[tuple[str, str, str]],
    year_rows: list[tuple[str, float]] | None = None,
    only: tuple[str, ...] = SERVICES,
) -> None:
    """Every service in ``only`` answers SummarizeFederated with ``rows``
    (hours' calendar-year question with ``year_rows``) and ``links``."""
    for name in only:
        module = protos.messages(name)
        if not hasattr(module, "SummarizeFederatedResponse"):
            continue  # its proto has no federation yet: the gateway copes

        def answer(req: Any, module: Any = module) -> Any:
            year = req.query.period.start_month != ""
            return module.SummarizeFederatedResponse(
                rollup=_rollup(*(year_rows if year and year_rows else rows)),
                links=[
                    module.FederatedLink(downstream=d, subtree=s, last_delta_at=at)
                    for d, s, at in links
                ],
            )

        stubs[name].replies["SummarizeFederated"] = answer


def unimplemented(_req: Any) -> Any:
    return rpc_error(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")


def asked(stub: Stub, method: str) -> list[Any]:
    return [req for m, req in stub.calls if m == method]


def test_an_upstream_shows_the_federated_figures_beside_its_own(upstream) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    own(stubs, ("6101", 5.0), ("6102", 7.0))
    federated(
        stubs, [("6101", 2.0), ("6108", 3.0)],
        [("yanta", "610113", ago(60)), ("yuyang", "610802", ago(3600))],
        year_rows=[("6101", 1.5), ("6108", 0.5)],
    )  # fmt: skip
    got = client.get(
        "/api/v1/dashboard?division_code=61&year=2026", headers=bearer("61")
    )
    assert got.status_code == 200, got.text
    board = got.json()
    assert board["headline"]["hours_total"] == 12.0  # its own, unchanged
    fed = board["federated"]
    assert fed["period"] == {"start_month": "2026-01", "end_month": "2026-12"}
    assert fed["stale_seconds"] == 900
    # The FIGURES formulas over the federated metrics.
    assert fed["headline"]["hours_total"] == 5.0
    assert fed["headline"]["hours_year"] == 2.0
    assert fed["headline"]["organisations"] == 10.0  # organisations + teams
    assert fed["headline"]["tonnes"] == 0.005  # kg / 1000
    assert fed["headline"]["stars"] == 25.0  # stars_1..stars_5
    rows = {r["code"]: r for r in fed["children"]}
    assert set(rows) == {"6101", "6108"}
    assert rows["6101"]["name"] == "西安市" and rows["6108"]["name"] == "榆林市"
    assert rows["6101"]["hours_year"] == 1.5 and rows["6108"]["hours_total"] == 3.0
    assert rows["6101"]["downstreams"] == ["yanta"]
    assert rows["6108"]["downstreams"] == ["yuyang"]
    links = {link["downstream"]: link for link in fed["links"]}
    assert links["yanta"]["subtree"] == "610113"
    assert links["yanta"]["subtree_name"] == "雁塔区"
    assert links["yanta"]["stale"] is False
    assert links["yuyang"]["stale"] is True  # an hour without a delta
    assert 3600 <= links["yuyang"]["age_seconds"] < 3700
    assert links["yanta"]["last_delta_at"].endswith("+00:00")
    # Each service asked once for all time and hours once more for the year,
    # by the same node and child level as the own figures.
    for name, stub in stubs.items():
        queries = [r.query for r in asked(stub, "SummarizeFederated")]
        assert len(queries) == (2 if name == "hours" else 1), name
        assert {q.division_code for q in queries} == {"61"}
        assert {q.group_by for q in queries} == {common.DIVISION_LEVEL_CITY}
        assert not any(q.by_month for q in queries)
    periods = {
        (r.query.period.start_month, r.query.period.end_month)
        for r in asked(stubs["hours"], "SummarizeFederated")
    }
    assert periods == {("", ""), ("2026-01", "2026-12")}


@pytest.mark.parametrize("role", ["none", "downstream"])
def test_no_section_and_no_extra_call_on_any_other_release(role) -> None:  # type: ignore[no-untyped-def]
    client, stubs = app_with(role)
    with client:
        own(stubs, ("6101", 5.0))
        got = client.get("/api/v1/dashboard", headers=bearer("61"))
    assert got.status_code == 200, got.text
    assert "federated" not in got.json()
    assert all(not asked(s, "SummarizeFederated") for s in stubs.values())
    assert all(asked(s, "Summarize") for s in stubs.values())


def test_a_service_that_does_not_federate_leaves_only_its_figures_empty(
    upstream,
) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    own(stubs, ("6101", 5.0))
    federated(stubs, [("6101", 2.0)], [("yanta", "610113", ago(5))])
    stubs["recycling"].replies["SummarizeFederated"] = unimplemented
    stubs["commendation"].replies["SummarizeFederated"] = lambda _r: rpc_error(
        grpc.StatusCode.UNAVAILABLE, "connection refused"
    )
    got = client.get("/api/v1/dashboard?division_code=61", headers=bearer("61"))
    assert got.status_code == 200, got.text
    board = got.json()
    assert board["unavailable"] == []  # the own figures are all there
    fed = board["federated"]
    assert fed["unavailable"] == ["recycling", "commendation"]
    for name in ("tonnes", "bins_deployed", "stars", "awards"):
        assert fed["headline"][name] is None, name
        assert fed["children"][0][name] is None, name
    assert fed["headline"]["hours_total"] == 2.0
    assert fed["headline"]["volunteers_registered"] == 2.0
    assert [link["downstream"] for link in fed["links"]] == ["yanta"]


def test_no_service_federating_yet_still_gives_the_page(upstream) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    own(stubs, ("6101", 5.0))
    for stub in stubs.values():
        stub.replies["SummarizeFederated"] = unimplemented
    got = client.get("/api/v1/dashboard?division_code=61", headers=bearer("61"))
    assert got.status_code == 200, got.text
    fed = got.json()["federated"]
    assert fed["unavailable"] == list(SERVICES)
    assert set(fed["headline"].values()) == {None}
    assert fed["links"] == [] and fed["children"] == []


def test_a_refusal_of_the_federated_figures_is_no_refusal_of_the_page(upstream) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    own(stubs, ("6101", 5.0))
    federated(stubs, [("6101", 2.0)], [("yanta", "610113", ago(5))])
    stubs["activity"].replies["SummarizeFederated"] = lambda _r: rpc_error(
        grpc.StatusCode.PERMISSION_DENIED, "outside", rule="scope.national"
    )
    got = client.get("/api/v1/dashboard?division_code=61", headers=bearer("61"))
    assert got.status_code == 200, got.text
    fed = got.json()["federated"]
    assert fed["unavailable"] == ["activity"] and fed["headline"]["projects"] is None


def test_a_link_with_no_delta_yet_is_stale(upstream) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    own(stubs, ("6101", 5.0))
    federated(stubs, [("6101", 2.0)], [("yanta", "610113", "")], only=("hours",))
    for name in SERVICES:
        if name != "hours":
            stubs[name].replies["SummarizeFederated"] = unimplemented
    got = client.get("/api/v1/dashboard?division_code=61", headers=bearer("61"))
    (link,) = got.json()["federated"]["links"]
    assert link["last_delta_at"] is None and link["age_seconds"] is None
    assert link["stale"] is True


def test_the_latest_delta_of_any_service_counts(upstream) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    own(stubs, ("6101", 5.0))
    federated(stubs, [("6101", 2.0)], [("yanta", "610113", ago(7200))])
    federated(stubs, [("6101", 2.0)], [("yanta", "610113", ago(30))], only=("hours",))
    got = client.get("/api/v1/dashboard?division_code=61", headers=bearer("61"))
    (link,) = got.json()["federated"]["links"]
    assert link["stale"] is False and link["age_seconds"] < 900
    assert set(link["services"]) >= {"hours"}


def test_the_stale_threshold_comes_from_the_config() -> None:
    client, stubs = app_with("upstream", "60")
    with client:
        own(stubs, ("6101", 5.0))
        federated(stubs, [("6101", 2.0)], [("yanta", "610113", ago(120))])
        got = client.get("/api/v1/dashboard?division_code=61", headers=bearer("61"))
    fed = got.json()["federated"]
    assert fed["stale_seconds"] == 60 and fed["links"][0]["stale"] is True


def test_the_nation_sees_the_section_by_province(upstream) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    own(stubs, ("61", 5.0))
    federated(stubs, [("61", 2.0)], [("shaanxi", "61", ago(10))])
    got = client.get("/api/v1/dashboard", headers=bearer("CN"))
    assert got.status_code == 200, got.text
    fed = got.json()["federated"]
    assert [r["code"] for r in fed["children"]] == ["61"]
    assert fed["children"][0]["downstreams"] == ["shaanxi"]
    assert fed["links"][0]["subtree_name"] == "陕西省"
    for req in asked(stubs["hours"], "SummarizeFederated"):
        assert req.query.division_code == "CN"
        assert req.query.group_by == common.DIVISION_LEVEL_PROVINCE


def test_outside_the_scope_the_page_is_refused_before_any_call(upstream) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    got = client.get("/api/v1/dashboard?division_code=CN", headers=bearer("61"))
    assert got.status_code == 403
    assert all(not s.calls for s in stubs.values())


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_bad_stale_threshold_stops_the_gateway_at_start(value) -> None:  # type: ignore[no-untyped-def]
    cfg = Config({"federation": {"role": "upstream", "stale_seconds": value}})
    with pytest.raises(InvalidArgument) as err:
        settings(cfg)
    assert err.value.field == "federation.stale_seconds"
    assert "FEDERATION_STALE_SECONDS" in err.value.message_zh


def test_the_threshold_defaults_to_fifteen_minutes() -> None:
    assert settings(Config({})).stale_seconds == 900
    assert settings(Config({})).upstream is False
    assert settings(Config({"federation": {"role": "upstream"}})).upstream is True
    # A relay (a province between its counties and the nation) is upstream too.
    relay = {"role": "relay", "subtree": "61", "downstreams_file": "/dev/null"}
    assert settings(Config({"federation": relay})).upstream is True
    assert settings(Config({"federation": {"role": "downstream"}})).upstream is False


def test_a_service_whose_proto_has_no_federation_yet_is_not_asked(
    upstream, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Before a service's proto gains SummarizeFederated (its stub then has no
    # such method either), the gateway does not call it and leaves it empty.
    from services.gateway import dashboard_federated

    real = protos.messages

    class WithoutFederation:
        def __init__(self, module: Any) -> None:
            self.module = module

        def __getattr__(self, name: str) -> Any:
            if name.startswith("SummarizeFederated"):
                raise AttributeError(name)
            return getattr(self.module, name)

    def messages(service: str) -> Any:
        module = real(service)
        return WithoutFederation(module) if service == "registration" else module

    monkeypatch.setattr(dashboard_federated.protos, "messages", messages)
    client, stubs = upstream["client"], upstream["stubs"]
    own(stubs, ("6101", 5.0))
    federated(stubs, [("6101", 2.0)], [("yanta", "610113", ago(5))])
    got = client.get("/api/v1/dashboard?division_code=61", headers=bearer("61"))
    assert got.status_code == 200, got.text
    fed = got.json()["federated"]
    assert fed["unavailable"] == ["registration"]
    assert fed["headline"]["volunteers_registered"] is None
    assert fed["headline"]["hours_total"] == 2.0
    assert not asked(stubs["registration"], "SummarizeFederated")


def test_a_node_the_services_refuse_is_refused_on_an_upstream_too(upstream) -> None:  # type: ignore[no-untyped-def]
    client, stubs = upstream["client"], upstream["stubs"]
    for stub in stubs.values():
        stub.replies["Summarize"] = lambda _r: rpc_error(
            grpc.StatusCode.PERMISSION_DENIED, "outside", rule="scope.contains"
        )
    federated(stubs, [("6201", 2.0)], [("lanzhou", "620102", ago(5))])
    got = client.get("/api/v1/dashboard?division_code=62", headers=bearer("61"))
    assert got.status_code == 403, got.text
    assert got.json()["error"]["code"] == "PERMISSION_DENIED"
    assert "lanzhou" not in got.text
