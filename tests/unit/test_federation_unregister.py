"""``zhiyuan federation unregister``'s refusals, before anything is
touched: a malformed name and a name not registered here are refused with
the field and the rule, and the downstreams file is left as it was (no
broker is needed: the management API is never reached)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.common.errors import InvalidArgument
from services.common.federation import FederationConfig
from services.common.federation_links import unregister


def _fed(path: Path) -> FederationConfig:
    cfg = {
        "federation.role": "upstream",
        "federation.downstreams_file": str(path),
        # A port nothing listens on: reaching it would fail the test.
        "federation.management_url": "http://guest:guest@127.0.0.1:9",
    }
    return FederationConfig.from_config(cfg)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Yanta", "pattern"),  # upper case
        ("yanta/xi", "pattern"),  # a path, not a name
        ("ｙａｎｔａ", "pattern"),  # full-width letters
        ("yanta\r", "pattern"),  # a bare CR
        ("", "pattern"),
        ("zhouzhi", "registered"),  # well formed, not registered here
    ],
)
def test_a_bad_or_unknown_name_is_refused_and_the_file_kept(
    tmp_path: Path, name: str, rule: str
) -> None:
    path = tmp_path / "downstreams.json"
    known = [{"name": "yanta", "subtree": "610113", "username": "federation-yanta"}]
    path.write_text(json.dumps(known), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(InvalidArgument) as err:
        unregister(_fed(path), name, "amqp://guest:guest@127.0.0.1:9/", ["hours"])
    assert (err.value.field, err.value.rule) == ("federation.name", rule)
    assert err.value.message_zh and err.value.message_en
    assert path.read_bytes() == before
