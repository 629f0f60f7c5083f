"""A volunteer's own account reaches only that volunteer (issue 13), on the
real api role and the real PostgreSQL.

Three volunteers register themselves: ``me`` and a ``neighbour`` in the same
township (610113001) and ``away`` in another township of the same county.
Their ids are harvested from their own tokens (``GetMe``), as an attacker
holding one account would see them. With ``me``'s token every read of
another volunteer (the neighbour's, another township's, the county's list,
a random id, even ``me``'s own id through the office routes) is
PERMISSION_DENIED alike, and every office write (verify, reject, team
membership, accounts) is refused with nothing written. Only its own identity
(name for its own certificate) is open to it, by design."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.config import load
from services.common.rpc import CLIENT_ADDRESS_KEY
from services.gateway.app import create_app
from tests.helpers import auth, new_id_number, new_phone, rejected

pytestmark = pytest.mark.integration

COUNTY, TOWN, OTHER_TOWN = "610113", "610113001", "610113002"
SECRET = "my-own-password"  # noqa: S105 - test volunteers' password
DENIED = grpc.StatusCode.PERMISSION_DENIED


@dataclass
class Person:
    id: str
    number: str
    token: str


@dataclass
class World:
    stub: Any
    office: str
    me: Person
    neighbour: Person
    away: Person
    team: str


def sign_up(stub: Any, home: str) -> Person:
    got = stub.SelfRegister(
        pb.SelfRegisterRequest(
            name="李自助",
            id_number=new_id_number(COUNTY),
            phone=new_phone(),
            home_division_code=home,
            service_fields=["elderly_care"],
            password=SECRET,
        ),
        metadata=[(CLIENT_ADDRESS_KEY, f"iso-{uuid.uuid4().hex[:12]}")],
    )
    login = stub.Login(pb.LoginRequest(username=got.volunteer_number, password=SECRET))
    mine = stub.GetMe(pb.GetMeRequest(), metadata=auth(login.access_token))
    return Person(
        mine.volunteer.id, mine.volunteer.volunteer_number, login.access_token
    )


@pytest.fixture(scope="module")
def w(stub: Any, token: Callable[..., str]) -> World:
    office = token(COUNTY)
    team = stub.CreateOrganisation(
        pb.CreateOrganisationRequest(
            name="小寨志愿服务队",
            kind=pb.ORGANISATION_KIND_TEAM,
            division_code=TOWN,
        ),
        metadata=auth(office),
    ).organisation.id
    return World(
        stub,
        office,
        sign_up(stub, TOWN),
        sign_up(stub, TOWN),
        sign_up(stub, OTHER_TOWN),
        team,
    )


def status_of(w: World, vid: str) -> int:
    got = w.stub.GetVolunteer(pb.GetVolunteerRequest(id=vid), metadata=auth(w.office))
    return int(got.volunteer.status)


def test_get_me_is_each_volunteers_own_record(w: World) -> None:
    for person in (w.me, w.neighbour, w.away):
        got = w.stub.GetMe(pb.GetMeRequest(), metadata=auth(person.token))
        assert (got.volunteer.id, got.account.username) == (person.id, person.number)


def test_an_office_account_has_no_own_record(w: World, token: Any) -> None:
    nation = token("CN", "province_admin")
    for tok in (
        w.office,
        token("61", "province_admin"),
        token(TOWN, "volunteer"),
        nation,
    ):
        rejected(
            lambda t=tok: w.stub.GetMe(pb.GetMeRequest(), metadata=auth(t)), DENIED
        )


def targets(w: World) -> dict[str, str]:
    return {
        "own": w.me.id,
        "neighbour": w.neighbour.id,
        "other-township": w.away.id,
        "random": str(uuid.uuid4()),
    }


def test_a_volunteer_reads_no_volunteer_by_id_the_answers_alike(w: World) -> None:
    answers = set()
    for vid in targets(w).values():
        trailers = rejected(
            lambda v=vid: w.stub.GetVolunteer(
                pb.GetVolunteerRequest(id=v), metadata=auth(w.me.token)
            ),
            DENIED,
        )
        answers.add(trailers.get("zhiyuan-message-en-bin"))
    assert len(answers) == 1  # whoever the id names, or none


def test_a_volunteer_reveals_no_one_elses_identity(w: World, migrated) -> None:
    for who, vid in targets(w).items():
        if who == "own":
            continue  # its own name, for its own certificate (by design)
        rejected(
            lambda v=vid: w.stub.GetVolunteerIdentity(
                pb.GetVolunteerIdentityRequest(id=v, purpose="curiosity"),
                metadata=auth(w.me.token),
            ),
            DENIED,
        )
    engine = create_engine(migrated["REGISTRATION_DATABASE_URL"])
    with engine.connect() as conn:
        revealed = conn.execute(
            text("SELECT count(*) FROM pii_access_log WHERE volunteer_id IN (:a, :b)"),
            {"a": w.neighbour.id, "b": w.away.id},
        ).scalar_one()
    engine.dispose()
    assert revealed == 0


@pytest.mark.parametrize("node", [TOWN, OTHER_TOWN, COUNTY, "61", ""])
def test_a_volunteer_lists_no_volunteers(w: World, node: str) -> None:
    for status in (pb.VOLUNTEER_STATUS_UNSPECIFIED, pb.VOLUNTEER_STATUS_PENDING):
        rejected(
            lambda s=status: w.stub.ListVolunteers(
                pb.ListVolunteersRequest(
                    division_code=node,
                    status=s,
                    page=common.PageRequest(page_size=500),
                ),
                metadata=auth(w.me.token),
            ),
            DENIED,
        )
    rejected(
        lambda: w.stub.ListVolunteers(
            pb.ListVolunteersRequest(query=w.neighbour.number),
            metadata=auth(w.me.token),
        ),
        DENIED,
    )


@pytest.mark.parametrize("target", ["own", "neighbour", "other-township"])
def test_a_volunteer_cannot_review_or_place_anyone(w: World, target: str) -> None:
    vid = targets(w)[target]
    md = auth(w.me.token)
    rejected(
        lambda: w.stub.VerifyVolunteer(pb.VerifyVolunteerRequest(id=vid), metadata=md),
        DENIED,
    )
    rejected(
        lambda: w.stub.RejectVolunteer(
            pb.RejectVolunteerRequest(id=vid, reason="x"), metadata=md
        ),
        DENIED,
    )
    rejected(
        lambda: w.stub.AddTeamMembership(
            pb.AddTeamMembershipRequest(volunteer_id=vid, organisation_id=w.team),
            metadata=md,
        ),
        DENIED,
    )
    assert status_of(w, vid) == pb.VOLUNTEER_STATUS_PENDING
    got = w.stub.GetVolunteer(pb.GetVolunteerRequest(id=vid), metadata=auth(w.office))
    assert list(got.volunteer.team_ids) == []


def test_a_volunteer_creates_no_account_and_reads_none(w: World, migrated) -> None:
    username = f"vol-made-{uuid.uuid4().hex[:8]}"
    for scope in (TOWN, COUNTY):
        rejected(
            lambda s=scope: w.stub.CreateAccount(
                pb.CreateAccountRequest(
                    username=username,
                    password="a-long-password",
                    scope_code=s,
                    roles=["volunteer"],
                ),
                metadata=auth(w.me.token),
            ),
            DENIED,
        )
    rejected(
        lambda: w.stub.ListAccounts(
            pb.ListAccountsRequest(scope_code=TOWN), metadata=auth(w.me.token)
        ),
        DENIED,
    )
    engine = create_engine(migrated["REGISTRATION_DATABASE_URL"])
    with engine.connect() as conn:
        made = conn.execute(
            text("SELECT count(*) FROM accounts WHERE username = :u"), {"u": username}
        ).scalar_one()
    engine.dispose()
    assert made == 0


@pytest.fixture(scope="module")
def http(apis: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


def test_through_the_gateway_the_office_routes_are_closed_to_a_volunteer(
    w: World, http: TestClient
) -> None:
    headers = {"Authorization": f"Bearer {w.me.token}"}
    for vid in targets(w).values():
        got = http.get(f"/api/v1/volunteers/{vid}", headers=headers)
        assert got.status_code == 403, got.text
        got = http.post(f"/api/v1/volunteers/{vid}/verify", headers=headers)
        assert got.status_code == 403, got.text
    for path in ("/api/v1/volunteers", f"/api/v1/volunteers?division_code={TOWN}"):
        assert http.get(path, headers=headers).status_code == 403
    me = http.get("/api/v1/me", headers=headers).json()
    assert me["volunteer"]["id"] == w.me.id
    assert status_of(w, w.neighbour.id) == pb.VOLUNTEER_STATUS_PENDING
