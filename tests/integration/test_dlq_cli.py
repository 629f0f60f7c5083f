"""``zhiyuan dlq list|show|replay|purge`` on a real DLQ: a registration
worker on its own vhost dead-letters an event whose database is missing (its
retries are short here), a body that is not JSON and a broken envelope;
the operator inspects them, replays (the event is then applied once) and
purges."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services import cli
from services.common import deadletter as dl
from services.common.testing import wait_for
from tests.integration.test_worker_retry import (
    DLQ,
    QUEUE,
    Stage,
    dead_letters,
    depth,
    event,
    publish,
    start_stage,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    yield from start_stage(tmp_path_factory.mktemp("dlq"), "0.2,0.2")


@pytest.fixture(scope="module")
def failed(stage: Stage) -> dict[str, str]:
    """Three dead letters: transient retries spent, undecodable, broken."""
    good = event("ZY610000030001")
    not_json = str(uuid.uuid4())
    broken = str(uuid.uuid4())
    publish(stage.amqp_uri, good)
    publish(
        stage.amqp_uri,
        b"<xml/>",
        content_type="application/json",
        content_encoding="utf-8",
        message_id=not_json,
    )
    publish(stage.amqp_uri, {"event_id": broken, "data": {}})
    wait_for(lambda: depth(stage.amqp_uri, DLQ) == 3, timeout=30, what="3 dead letters")
    return {"good": good["event_id"], "not_json": not_json, "broken": broken}


@pytest.fixture
def zhiyuan(stage, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """zhiyuan(*argv) → (exit code, stdout) against the stage's broker."""
    monkeypatch.setenv("AMQP_URI", stage.amqp_uri)

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = cli.main(["dlq", *argv])
        return code, capsys.readouterr().out

    return run


def test_list_counts_and_describes_each_message(stage, failed, zhiyuan):
    code, out = zhiyuan("list", "--queue", "registration.on_volunteer_registered")
    assert code == 0
    assert f"{DLQ}: 3 message(s)" in out
    good = next(line for line in out.splitlines() if failed["good"] in line)
    assert "registration.volunteer.registered" in good
    assert "attempts=3" in good and "transient" in good
    assert "OperationalError" in good
    assert "undecodable" in next(
        line for line in out.splitlines() if failed["not_json"] in line
    )
    code, out = zhiyuan("list", "--event-id", failed["broken"])
    assert failed["broken"] in out and failed["good"] not in out
    code, out = zhiyuan("list", "--limit", "1")
    assert sum(1 for line in out.splitlines() if "attempts=" in line) == 1
    assert "more: use --limit" in out
    # Listing takes nothing away.
    assert len(dead_letters(stage.amqp_uri)) == 3


def test_show_prints_headers_and_body(failed, zhiyuan):
    code, out = zhiyuan("show", "--event-id", failed["good"])
    assert code == 0
    assert f"queue: {DLQ}" in out
    assert f'"{dl.QUEUE}": "{QUEUE}"' in out
    assert '"volunteer_number": "ZY610000030001"' in out
    code, out = zhiyuan("show", "--event-id", failed["not_json"])
    assert "<xml/>" in out
    code, _ = zhiyuan("show", "--event-id", str(uuid.uuid4()))
    assert code == 1


def test_replay_applies_the_event_once(stage, failed, zhiyuan):
    stage.create_database()
    code, out = zhiyuan("replay", "--event-id", failed["good"])
    assert code == 0 and "1 event(s) replayed" in out
    wait_for(lambda: stage.feed_copies(failed["good"]) == 1, what="replayed event")
    # Replay everything: the applied event is not in the DLQ any more; the
    # other two fail again and come back.
    code, out = zhiyuan("replay")
    assert "2 event(s) replayed" in out
    wait_for(
        lambda: depth(stage.amqp_uri, DLQ) == 2 and depth(stage.amqp_uri, QUEUE) == 0,
        timeout=30,
        what="the two broken messages back in the DLQ",
    )
    ids = {m["headers"][dl.EVENT_ID] for m in dead_letters(stage.amqp_uri)}
    assert ids == {failed["not_json"], failed["broken"]}
    again = [m for m in dead_letters(stage.amqp_uri)
             if m["headers"][dl.EVENT_ID] == failed["not_json"]]  # fmt: skip
    assert again[0]["headers"][dl.REPLAYED] == 1
    # The same event replayed a second time is skipped by the consumer.
    publish(stage.amqp_uri, {**event("ZY610000030001"), "event_id": failed["good"]})
    wait_for(lambda: depth(stage.amqp_uri, QUEUE) == 0, what="queue drained")
    assert stage.feed_copies(failed["good"]) == 1


def test_purge_needs_confirmation(stage, failed, zhiyuan):
    before = depth(stage.amqp_uri, DLQ)
    assert before > 0
    code, _ = zhiyuan("purge")
    assert code == 2
    assert depth(stage.amqp_uri, DLQ) == before
    code, out = zhiyuan("purge", "--event-id", failed["not_json"], "--yes")
    assert code == 0 and "1 event(s) purged" in out
    ids = {m["headers"][dl.EVENT_ID] for m in dead_letters(stage.amqp_uri)}
    assert failed["not_json"] not in ids and ids
    code, out = zhiyuan("purge", "--yes")
    assert code == 0
    assert depth(stage.amqp_uri, DLQ) == 0
    code, out = zhiyuan("list")
    assert "no dead-lettered events" in out
