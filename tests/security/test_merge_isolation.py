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

Hours follows a merge (migration 0011's SECURITY DEFINER functions, which
move records, certificates, conduct rows and the time bank across tenants)
only for a merge homed inside the calling transaction's scope: from
Lantian's, a merge homed at a neighbour's, a parent's or an unknown node is
refused (42501), and a revert of a neighbour's, a parent's or a random
merge id finds nothing; each writes nothing to either pair's rows.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.config import load
from services.common.db import Database
from services.common.tenancy import Scope
from services.hours.application import HoursApp
from tests.helpers import assert_field, auth, new_id_number, new_phone
from tests.integration.test_merge_hours import approved, conduct, deposit
from tests.security.matrix import NF, OK, PD, national_token, no_scope_token, outcome

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
                pb.RevertMergeRequest(id=ident, reason="核实为两人"),
                metadata=auth(tok),
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
        "national": (national_token(), PD),  # scope CN: rollups only
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


# -- hours: a merge moves rows only inside the caller's scope ----------------

# Each table's rows of the volunteers ``:v`` (other tests' workers may write
# elsewhere in the shared database meanwhile).
HOURS_ROWS = {
    "hours_merges": "survivor_id = ANY(:v) OR merged_id = ANY(:v)",
    "hour_records": "volunteer_id = ANY(:v)",
    "hours_presence": "volunteer_id = ANY(:v)",
    "hour_objections": "volunteer_id = ANY(:v)",
    "hour_complaints": "volunteer_id = ANY(:v)",
    "hour_evaluations": "volunteer_id = ANY(:v)",
    "timebank_accounts": "volunteer_id = ANY(:v)",
    "timebank_transactions": "volunteer_id = ANY(:v)",
    "timebank_entries": "account_id IN (SELECT id FROM timebank_accounts"
    " WHERE volunteer_id = ANY(:v))",
}
REFUSED = "42501"


@pytest.fixture(scope="module")
def hours(migrated: dict[str, str]) -> Iterator[HoursApp]:
    svc = dataclasses.replace(load().service("hours"), database_pool_size=2)
    db = Database(svc)
    yield HoursApp(db)
    db.dispose()


@pytest.fixture(scope="module")
def hours_engine(migrated: dict[str, str]) -> Iterator[Any]:
    eng = create_engine(migrated["HOURS_DATABASE_URL"], pool_size=1, max_overflow=0)
    yield eng
    eng.dispose()


def hours_rows(engine: Any, vols: list[str]) -> dict[str, tuple[int, int]]:
    """Rows and the newest row version of the volunteers' hours rows (as
    the tables' owner: row security does not hide them)."""
    sql = " UNION ALL ".join(
        f"SELECT '{t}', count(*), coalesce(max(xmin::text::bigint), 0)"
        f" FROM {t} WHERE {where}"
        for t, where in HOURS_ROWS.items()
    )
    with engine.connect() as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(text(sql), {"v": vols})}


def _pair(hours: HoursApp, town: str) -> tuple[str, str]:
    """A survivor and a merged volunteer, the merged one with an approved
    record at ``town``, its deposit, an objection, a complaint and an
    evaluation."""
    survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
    record = approved(hours, merged, "ZY6100000M", town, 20)
    deposit(hours, record, town)
    conduct(hours, merged, "ZY6100000M", record, town)
    return survivor, merged


def _merge(hours: HoursApp, scope: str, ident: str, code: str, pair: Any) -> int:
    with hours.ctx.db.session(Scope(scope)) as s:
        return int(
            s.execute(
                text(
                    "SELECT hours_merge_volunteer(:id, :code, :s, 'ZY6100000S',"
                    " :m, 'ZY6100000M', now())"
                ),
                {"id": ident, "code": code, "s": pair[0], "m": pair[1]},
            ).scalar_one()
        )


def _unmerge(hours: HoursApp, scope: str, ident: str, code: str) -> int:
    with hours.ctx.db.session(Scope(scope)) as s:
        return int(
            s.execute(
                text("SELECT hours_unmerge_volunteer(:id, :code, now())"),
                {"id": ident, "code": code},
            ).scalar_one()
        )


def _refused(call: Any, *args: Any) -> str:
    """The SQLSTATE ``call(*args)`` fails with."""
    with pytest.raises(DBAPIError) as raised:
        call(*args)
    return str(getattr(raised.value.orig, "sqlstate", ""))


def test_hours_merge_homed_outside_the_scope_is_refused(
    hours: HoursApp, hours_engine: Any
) -> None:
    pair = _pair(hours, TOWN)
    vols = list(pair)
    before = hours_rows(hours_engine, vols)
    assert before["timebank_entries"][0] == 1 and before["hour_objections"][0] == 1
    for who, code in (
        ("neighbour", N_TOWN),
        ("parent", P_TOWN),
        ("city", CITY),
        ("random", "999999999"),
    ):
        ident = str(uuid.uuid4())
        got = _refused(_merge, hours, OWNER, ident, code, pair)
        assert got == REFUSED, (who, got)
        assert hours_rows(hours_engine, vols) == before, who
    ident = str(uuid.uuid4())
    assert _merge(hours, OWNER, ident, TOWN, pair) == 1
    moved = hours_rows(hours_engine, vols)
    assert moved["hours_merges"][0] == 1
    for table in ("hour_objections", "hour_complaints", "hour_evaluations"):
        assert moved[table][1] > before[table][1], table  # re-pointed
    assert _unmerge(hours, OWNER, ident, TOWN) == 1


def test_hours_revert_of_a_foreign_or_random_merge_finds_nothing(
    hours: HoursApp, hours_engine: Any
) -> None:
    merges = {}
    for who, town, scope in (
        ("neighbour", N_TOWN, NEIGHBOUR),
        ("parent", P_TOWN, CITY),
    ):
        pair, ident = _pair(hours, town), str(uuid.uuid4())
        assert _merge(hours, scope, ident, town, pair) == 1
        merges[who] = (ident, town, scope, list(pair))
    vols = [v for _, _, _, pair in merges.values() for v in pair]
    before = hours_rows(hours_engine, vols)
    for who, (ident, town, _, _) in merges.items():
        # Named under the owner's own home, or under theirs, alike refused.
        assert _unmerge(hours, OWNER, ident, TOWN) == 0, who
        assert _unmerge(hours, OWNER, str(uuid.uuid4()), TOWN) == 0, who
        got = _refused(_unmerge, hours, OWNER, ident, town)
        assert got == REFUSED, (who, got)
        assert hours_rows(hours_engine, vols) == before, who
    for who, (ident, town, scope, _) in merges.items():
        assert _unmerge(hours, scope, ident, town) == 1, who  # theirs to revert
