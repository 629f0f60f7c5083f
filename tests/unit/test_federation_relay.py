"""Federation through a relay and chunked re-syncs (issue 15), the parts
without I/O: the ``relay`` role's settings, the chunk size, what a relay's
message looks like and what an upstream refuses in one.

The running chain (county → province → nation) is tests/faults/
test_federation_twohop.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.common.config import Config
from services.common.errors import InvalidArgument
from services.common.federation import (
    RESYNC_CHUNK,
    Downstream,
    FederationConfig,
    chunk_size,
    message,
)
from services.common.federation_apply import Refused, cells_of, check
from services.common.federation_resync import Cell

PROVINCE = Downstream("shaanxi", "61", "federation-shaanxi")


def relay(**over: str) -> dict[str, Any]:
    return {
        "role": "relay",
        "name": "shaanxi",
        "subtree": "61",
        "upstream_uri": "amqp://federation-shaanxi:pw@nation:5672/",
        "downstreams_file": "/etc/zhiyuan/downstreams.json",
        **over,
    }


def test_a_relay_forwards_and_accepts() -> None:
    fed = FederationConfig.from_config(Config({"federation": relay()}))
    assert fed.forwards and fed.accepts
    assert fed.resync_chunk == RESYNC_CHUNK
    down = FederationConfig.from_config(Config({"federation": {"role": "downstream"}}))
    up = FederationConfig.from_config(Config({"federation": {"role": "upstream"}}))
    none = FederationConfig.from_config(Config({"federation": {}}))
    assert (down.forwards, down.accepts) == (True, False)
    assert (up.forwards, up.accepts) == (False, True)
    assert (none.role, none.forwards, none.accepts) == ("none", False, False)


@pytest.mark.parametrize(
    ("missing", "variable"),
    [("subtree", "FEDERATION_SUBTREE"),
     ("downstreams_file", "FEDERATION_DOWNSTREAMS_FILE")],
)  # fmt: skip
def test_a_relay_without_its_settings_is_refused(missing: str, variable: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        FederationConfig.from_config(Config({"federation": relay(**{missing: ""})}))
    assert err.value.field == f"federation.{missing}"
    assert variable in str(err.value.message_en)
    assert variable in str(err.value.message_zh) and "中继" in err.value.message_zh


def test_an_unknown_role_names_the_four() -> None:
    with pytest.raises(InvalidArgument) as err:
        FederationConfig.from_config(Config({"federation": {"role": "both"}}))
    assert err.value.field == "federation.role"
    assert "relay" in err.value.message_en and "relay" in err.value.message_zh


@pytest.mark.parametrize("value", ["0", "-1", "50001", "2k", "1.5"])
def test_a_bad_chunk_size_is_refused(value: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        chunk_size(value, "--chunk")
    assert err.value.field == "--chunk"
    assert "50000" in err.value.message_en and "50000" in err.value.message_zh


def test_chunk_size_bounds_and_default() -> None:
    assert chunk_size(None) == RESYNC_CHUNK
    assert chunk_size("") == RESYNC_CHUNK
    assert (chunk_size(1), chunk_size("50000")) == (1, 50_000)


def test_a_relay_message_groups_cells_by_origin() -> None:
    rows = [
        Cell("", "61", "all", {"hours": 2.0}, 7),
        Cell("yanta", "610113", "all", {"hours": 5.0}, 8),
        Cell("yanta", "610113001", "all", {"hours": 5.0}, 9),
    ]
    body = message("shaanxi", "hours_rollup", "delta", rows)
    assert body["cells"] == [["61", "all", 7, {"hours": 2.0}]]
    assert list(body["relayed"]) == ["yanta"]
    check(body, PROVINCE, "federation-shaanxi")
    assert [c[:2] for c in cells_of("shaanxi", body)] == [
        ["shaanxi", "61"],
        ["shaanxi/yanta", "610113"],
        ["shaanxi/yanta", "610113001"],
    ]
    # A release with no downstreams sends no "relayed" at all.
    assert "relayed" not in message("yanta", "hours_rollup", "delta", rows[:1])


def delta(**over: Any) -> dict[str, Any]:
    return {"downstream": "shaanxi", "source": "hours_rollup", "kind": "delta",
            "cells": [], **over}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # A relayed cell outside the sender's subtree, beside a good one.
        (delta(relayed={"yanta": [["610113", "all", 1, {}]],
                        "lanzhou": [["620102", "all", 1, {}]]}), "outside_subtree"),
        (delta(relayed={"Yanta!": [["610113", "all", 1, {}]]}), "malformed"),
        (delta(relayed={"a/b/c/d": [["610113", "all", 1, {}]]}), "malformed"),
        (delta(relayed={"yanta": "610113"}), "malformed"),
        (delta(relayed=[["610113", "all", 1, {}]]), "malformed"),
        (delta(relayed={"yanta": [["610113", "all", 1]]}), "malformed"),
        (delta(kind="resync"), "malformed"),  # a chunk without its version
        (delta(cells=[["61", "all", 1, [3]]]), "malformed"),  # values not an object
        (delta(cells=[["61", "all", "1", {}]]), "malformed"),  # version not a number
        ({"kind": "resync_end", "version": 3}, "malformed"),
        ({"kind": "resync_end", "version": "3", "total": 1}, "malformed"),
        ({"kind": "snapshot", "cells": []}, "malformed"),
    ],
)  # fmt: skip
def test_an_upstream_refuses(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(Refused) as err:
        check(body, PROVINCE, "federation-shaanxi")
    assert err.value.reason == reason


def test_an_end_marker_carries_no_cells() -> None:
    end = {"kind": "resync_end", "version": 12, "chunks": 3, "total": 5000}
    check(end, PROVINCE, None)
    assert cells_of("shaanxi", end) == []


def test_a_removal_travels_as_null_values() -> None:
    """A relay forwards a downstream's cell it removed with values null."""
    body = message("shaanxi", "hours_rollup", "delta",
                   [Cell("yanta", "610113009", "2020-01", None, 40)])  # fmt: skip
    assert body["relayed"] == {"yanta": [["610113009", "2020-01", 40, None]]}
    check(body, PROVINCE, "federation-shaanxi")
    assert cells_of("shaanxi", body) == [
        ["shaanxi/yanta", "610113009", "2020-01", 40, None]
    ]
