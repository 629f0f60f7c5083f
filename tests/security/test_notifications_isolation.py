"""A volunteer's inbox is that volunteer's alone (issue 13), on the real api
role, worker, broker and PostgreSQL, with notification ids harvested from
other volunteers' own accounts: one of the same home township, one of
another township of the county, one of a neighbour county. Marking another's
notification read is NOT_FOUND exactly like an id that exists nowhere, with
nothing written; read-all marks only one's own; a list shows only one's own;
an office account is refused every inbox call, through gRPC and the
gateway alike."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.config import load
from services.common.testing import wait_for
from services.gateway.app import create_app
from tests.helpers import assert_field, auth, rejected
from tests.integration.test_hours_flow import publish, verified_volunteer
from tests.integration.test_hours_self_service import volunteer_token
from tests.integration.test_notifications import COMMENDATION, stars_event
from tests.security.matrix import PD, check_indistinguishable, outcome

pytestmark = pytest.mark.integration

COUNTY, TOWN, NEAR_TOWN = "610113", "610113005", "610113010"
OTHER_COUNTY, OTHER_TOWN = "610103", "610103005"
OTHERS = ("housemate", "neighbour", "elsewhere")


@dataclass
class Person:
    vol: Any
    tok: str
    note: str  # its one notification, as its own list shows it


def unread_ids() -> set[str]:
    """Every unread notification, read as the database's owner."""
    engine = create_engine(os.environ["REGISTRATION_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            got = conn.execute(
                text("SELECT id FROM notifications WHERE read_at IS NULL")
            )
            return {str(r[0]) for r in got}
    finally:
        engine.dispose()


def mine(stub: Any, tok: str) -> list[Any]:
    return list(
        stub.ListMyNotifications(
            pb.ListMyNotificationsRequest(), metadata=auth(tok)
        ).notifications
    )


def person(stub: Any, office: str, home: str, amqp: str) -> Person:
    vol = verified_volunteer(stub, office, home=home)
    tok = volunteer_token(vol, home)
    publish(amqp, "stars.approved", stars_event(vol), COMMENDATION)
    (note,) = wait_for(lambda: mine(stub, tok), what="the notification")
    return Person(vol, tok, note.id)


@pytest.fixture(scope="module")
def people(stub, token, worker, amqp_uri) -> dict[str, Person]:  # type: ignore[no-untyped-def]
    county, other = token(COUNTY), token(OTHER_COUNTY)
    return {
        "me": person(stub, county, TOWN, amqp_uri),
        # Same home: only the volunteer id, not row security, keeps them apart.
        "housemate": person(stub, county, TOWN, amqp_uri),
        "neighbour": person(stub, county, NEAR_TOWN, amqp_uri),
        "elsewhere": person(stub, other, OTHER_TOWN, amqp_uri),
        "reader": person(stub, county, TOWN, amqp_uri),
    }


def _read(stub: Any, tok: str) -> Callable[[str], Any]:
    return lambda ident: stub.MarkNotificationRead(
        pb.MarkNotificationReadRequest(notification_id=ident), metadata=auth(tok)
    )


@pytest.mark.parametrize("other", OTHERS)
def test_marking_anothers_notification_read_is_not_found_and_writes_nothing(
    stub, people, other
) -> None:
    me, them = people["me"], people[other]
    before = unread_ids()
    assert them.note in before
    check_indistinguishable(_read(stub, me.tok), them.note, str(uuid.uuid4()))
    assert unread_ids() == before


def test_each_list_shows_only_its_own(stub, people) -> None:
    for p in people.values():
        assert [n.id for n in mine(stub, p.tok)] == [p.note]


def test_read_all_marks_only_ones_own(stub, people) -> None:
    reader = people["reader"]
    others = {p.note for name, p in people.items() if name != "reader"}
    assert others <= unread_ids()
    got = stub.MarkAllNotificationsRead(
        pb.MarkAllNotificationsReadRequest(), metadata=auth(reader.tok)
    )
    assert got.marked == 1
    assert reader.note not in unread_ids()
    assert others <= unread_ids()


@pytest.mark.parametrize("scope", [TOWN, COUNTY, "61", "CN"])  # CN: the nation
def test_an_office_account_is_refused_every_inbox_call(
    stub, token, people, scope
) -> None:
    office = token(scope)
    before = unread_ids()
    calls = {
        "ListMyNotifications": lambda: mine(stub, office),
        "MarkNotificationRead": lambda: _read(stub, office)(people["me"].note),
        "MarkAllNotificationsRead": lambda: stub.MarkAllNotificationsRead(
            pb.MarkAllNotificationsReadRequest(), metadata=auth(office)
        ),
    }
    for name, call in calls.items():
        status, _ = outcome(call)
        assert status == PD, name
    assert unread_ids() == before


@pytest.mark.parametrize("ident", ["not-an-id", "", "   "])
def test_a_malformed_id_names_the_field_and_writes_nothing(stub, people, ident) -> None:
    before = unread_ids()
    trailers = rejected(lambda: _read(stub, people["me"].tok)(ident))
    rule = "notification_id.format" if ident == "not-an-id" else None
    assert_field(trailers, "notification_id", rule)
    assert unread_ids() == before


@pytest.fixture(scope="module")
def http(apis: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


def test_through_the_gateway(http: TestClient, people, token) -> None:
    me = people["me"]
    headers = {"Authorization": f"Bearer {me.tok}"}
    before = unread_ids()
    for other in OTHERS:
        got = http.post(
            f"/api/v1/me/notifications/{people[other].note}/read", headers=headers
        )
        assert got.status_code == 404, got.text
        assert got.json()["error"]["field"] == "notification_id"
    assert unread_ids() == before
    listed = http.get("/api/v1/me/notifications?unread=true", headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [n["id"] for n in body["notifications"]] == [me.note]
    assert body["unread_count"] == 1
    bad = http.post("/api/v1/me/notifications/nonsense/read", headers=headers)
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "notification_id")
    office = {"Authorization": f"Bearer {token(COUNTY)}"}
    for method, path in (
        ("GET", "/api/v1/me/notifications"),
        ("POST", f"/api/v1/me/notifications/{me.note}/read"),
        ("POST", "/api/v1/me/notifications/read-all"),
    ):
        assert http.request(method, path, headers=office).status_code == 403, path
    assert unread_ids() == before
