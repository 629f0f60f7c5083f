"""Isolation and bad input of registration's merge RPCs (issue 14), over
gRPC against the real api and PostgreSQL.

A merge names two volunteers, so the owner (Lantian 610122, tenant_admin) is
refused a neighbour's (Chang'an 610116), a parent's (Xi'an's own, homed in
Lianhu 610104) and a random id as survivor or as merged alike, and a
neighbour's, a parent's and a random merge alike for a revert; other
callers are refused the owner's pair (a township holding one of the two, a
neighbour county, a reviewer, a token with no scope), and the city holding
both may merge. Every refusal writes nothing (row counts and the newest row
version of registration's merge, volunteer, membership, account and outbox
tables).

    RPC               owner  city  neighbour  child  reviewer  noscope
    MergeVolunteers   OK     OK    NF         NF     PD        PD
    RevertMerge       OK     OK    NF         NF     PD        PD
    ListMerges        own    all   none       none   PD        PD
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from tests.helpers import assert_field, auth, new_id_number, new_phone
from tests.security.matrix import NF, OK, PD, no_scope_token, outcome

pytestmark = pytest.mark.integration

OWNER, TOWN, CHILD_TOWN = "610122", "610122102", "610122103"
OTHER_TOWN = "610122001"  # the owner's township holding neither record
NEIGHBOUR, N_TOWN = "610116", "610116004"
CITY, P_TOWN = "6101", "610104003"
TABLES = ("volunteer_merges", "volunteers", "team_memberships", "accounts", "outbox")
IA = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def engine(migrated: dict[str, str]) -> Iterator[Any]:
    eng = create_engine(
        migrated["REGISTRATION_DATABASE_URL"], pool_size=1, max_overflow=0
    )
    yield eng
    eng.dispose()


def snapshot(engine: Any) -> dict[str, tuple[int, int]]:
    """Rows and the newest row version of each table a merge writes. The
    outbox is shared with the suite's other tests, whose relays mark rows
    published at any time: there, the merge events are counted by sequence."""
    sql = " UNION ALL ".join(
        f"SELECT '{t}', count(*), coalesce(max(xmin::text::bigint), 0) FROM {t}"
        if t != "outbox"
        else "SELECT 'outbox', count(*), coalesce(max(seq), 0) FROM outbox"
        " WHERE event_type LIKE 'registration.volunteer.%merged'"
        for t in TABLES
    )
    with engine.connect() as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(text(sql))}


class Calls:
    def __init__(self, stub: Any, token: Any):
        self.stub, self.token = stub, token

    def volunteer(self, home: str, scope: str) -> str:
        tok = self.token(scope)
        vol = self.stub.RegisterVolunteer(
            pb.RegisterVolunteerRequest(
                name="王重复", id_number=new_id_number(home[:6]), phone=new_phone(),
                home_division_code=home, service_fields=["elderly_care"],
            ),
            metadata=auth(tok),
        ).volunteer  # fmt: skip
        self.stub.VerifyVolunteer(
            pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(tok)
        )
        return str(vol.id)

    def merge(self, tok: str, survivor: str, merged: str, reason: str = "重复") -> Any:
        return outcome(
            lambda: self.stub.MergeVolunteers(
                pb.MergeVolunteersRequest(
                    survivor_id=survivor, merged_id=merged, reason=reason
                ),
                metadata=auth(tok),
            )
        )

    def revert(self, tok: str, ident: str) -> Any:
        return outcome(
            lambda: self.stub.RevertMerge(
                pb.RevertMergeRequest(id=ident), metadata=auth(tok)
            )
        )

    def listed(self, tok: str, volunteer_id: str = "") -> set[str]:
        rows = self.stub.ListMerges(
            pb.ListMergesRequest(
                volunteer_id=volunteer_id, page=common.PageRequest(page_size=500)
            ),
            metadata=auth(tok),
        )
        return {m.id for m in rows.merges}


@pytest.fixture(scope="module")
def c(stub: Any, token: Any, apis: dict[str, str]) -> Calls:
    return Calls(stub, token)


def _shape(status: Any, result: Any, value: str) -> Any:
    trailers = {
        k: (v.decode() if isinstance(v, bytes) else v).replace(value, "ID")
        for k, v in (result.trailing_metadata() or ())
    }
    return status, (result.details() or "").replace(value, "ID"), trailers


def test_foreign_and_random_volunteers_are_refused_alike(c: Calls, engine: Any) -> None:
    own = c.volunteer(TOWN, OWNER)
    foreign = {
        "neighbour": c.volunteer(N_TOWN, NEIGHBOUR),
        "parent": c.volunteer(P_TOWN, CITY),
    }
    tok = c.token(OWNER)
    for field in ("survivor_id", "merged_id"):
        for who, other in foreign.items():
            missing = str(uuid.uuid4())

            def call(value: str, field: str = field) -> Any:
                pair = {"survivor_id": own, "merged_id": own, field: value}
                return c.merge(tok, pair["survivor_id"], pair["merged_id"])

            before = snapshot(engine)
            status, result = call(other)
            r_status, r_result = call(missing)
            assert snapshot(engine) == before, (field, who, "a refusal wrote")
            assert status == NF, (field, who, status)
            assert _shape(status, result, other) == _shape(
                r_status, r_result, missing
            ), (field, who)
            assert dict(result.trailing_metadata())["zhiyuan-field"] == field


def test_callers_holding_one_or_neither_record_are_refused(
    c: Calls, engine: Any
) -> None:
    survivor, merged = c.volunteer(TOWN, OWNER), c.volunteer(CHILD_TOWN, OWNER)
    refused = {
        "neighbour": (c.token(NEIGHBOUR), NF),
        "child": (c.token(TOWN), NF),  # holds the survivor, not the other
        "reviewer": (c.token(OWNER, "reviewer"), PD),
        "noscope": (no_scope_token(), PD),
    }
    before = snapshot(engine)
    for who, (tok, code) in refused.items():
        status, result = c.merge(tok, survivor, merged)
        assert status == code, (who, status)
        assert "Traceback" not in result.details()
    assert snapshot(engine) == before
    status, done = c.merge(c.token(OWNER), survivor, merged, "同一人两次登记")
    assert status == OK and done.merge.survivor_id == survivor
    merge_id = done.merge.id
    # The merge's audit trail: read by an office holding either record (the
    # owner, the city, each record's township), no one else.
    assert merge_id in c.listed(c.token(OWNER), merged)
    assert merge_id in c.listed(c.token(CITY))
    assert merge_id in c.listed(c.token(CHILD_TOWN))
    assert merge_id not in c.listed(c.token(NEIGHBOUR))
    assert merge_id not in c.listed(c.token(OTHER_TOWN))
    before = snapshot(engine)
    for who, (tok, code) in refused.items():
        status, result = c.revert(tok, merge_id)
        assert status == code, (who, status)
    assert snapshot(engine) == before
    status, back = c.revert(c.token(CITY), merge_id)
    assert status == OK and back.merge.reverted_by


def test_foreign_and_random_merges_are_refused_alike_for_a_revert(
    c: Calls, engine: Any
) -> None:
    merges = {}
    for who, home, scope in (
        ("neighbour", N_TOWN, NEIGHBOUR),
        ("parent", P_TOWN, CITY),
    ):
        a, b = c.volunteer(home, scope), c.volunteer(home, scope)
        status, done = c.merge(c.token(scope), a, b)
        assert status == OK
        merges[who] = done.merge.id
    tok = c.token(OWNER)
    for who, ident in merges.items():
        missing = str(uuid.uuid4())
        before = snapshot(engine)
        status, result = c.revert(tok, ident)
        r_status, r_result = c.revert(tok, missing)
        assert snapshot(engine) == before, who
        assert status == NF
        assert _shape(status, result, ident) == _shape(r_status, r_result, missing)
        assert ident not in c.listed(tok)


def test_bad_input_names_the_field(c: Calls, engine: Any) -> None:
    a, b = c.volunteer(TOWN, OWNER), c.volunteer(TOWN, OWNER)
    tok = c.token(OWNER)
    before = snapshot(engine)
    cases = [
        ((a, a, "重复"), "merged_id", "merged_id.distinct"),
        (("", b, "重复"), "survivor_id", None),
        ((a, "", "重复"), "merged_id", None),
        (("\x00\ufffd'; --", b, "重复"), "survivor_id", "survivor_id.format"),
        ((a, "not-a-uuid", "重复"), "merged_id", "merged_id.format"),
        ((a, b, ""), "reason", None),
        ((a, b, "长" * 501), "reason", None),
    ]
    for args, field, rule in cases:
        status, result = c.merge(tok, *args)
        assert status == IA, (args, status)
        assert_field(dict(result.trailing_metadata()), field, rule)
    status, result = c.revert(tok, "\x00bad")
    assert status == IA
    assert_field(dict(result.trailing_metadata()), "id", "id.format")
    assert snapshot(engine) == before
    status, done = c.merge(tok, a, b, "重复注册")
    assert status == OK
    status, result = c.merge(tok, b, a, "重复注册")  # the survivor is merged
    assert status == grpc.StatusCode.FAILED_PRECONDITION
    assert_field(dict(result.trailing_metadata()), "survivor_id", None)
    c.revert(tok, done.merge.id)
    status, result = c.revert(tok, done.merge.id)
    assert status == grpc.StatusCode.FAILED_PRECONDITION
    assert_field(dict(result.trailing_metadata()), "id", "merge.not_reverted")
