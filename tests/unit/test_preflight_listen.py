"""The listen preflight of `zhiyuan up` knows every address each process
will listen on and the environment variable behind it."""

from __future__ import annotations

from services.common.config import load, variable
from services.common.preflight import listens, split


def test_every_process_listen_address_and_its_variable() -> None:
    cfg = load(env={"GATEWAY_METRICS_LISTEN": ""})  # empty: metrics off
    found = {
        (item.process, item.variable, item.required)
        for item in listens(cfg, ["hours-api", "hours-worker", "gateway"])
    }
    assert found == {
        ("hours-api", "HOURS_GRPC_LISTEN", True),
        ("hours-api", "HOURS_API_METRICS_LISTEN", False),
        ("hours-worker", "HOURS_WORKER_METRICS_LISTEN", False),
        ("gateway", "GATEWAY_LISTEN", True),
    }


def test_default_ports_lie_below_the_ephemeral_range() -> None:
    cfg = load(env={})
    names = [f"{s}-{r}" for s in cfg.service_names() for r in ("api", "worker")]
    ports = [split(item.address)[1] for item in listens(cfg, [*names, "gateway"])]
    assert len(ports) == len(set(ports)) == 2 + 3 * len(cfg.service_names())
    assert max(ports) < 32768  # Linux's default range is 32768-60999


def test_variable_names_the_environment_variable_of_a_key() -> None:
    assert variable("services.activity.grpc_listen") == "ACTIVITY_GRPC_LISTEN"
    assert variable("gateway.listen") == "GATEWAY_LISTEN"
    assert variable("services.nope.grpc_listen") is None
