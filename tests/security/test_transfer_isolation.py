"""The isolation matrix of registration's transfer RPCs (issue 14).

A transfer has two homes, so the callers are the owner (Yanta 610113, the
old home), the new home (Chang'an 610116), a sibling county that is neither
(Beilin 610103), the city and province holding both, a township of the owner
that does not hold the volunteer, and a token with no scope:

    RPC               owner  newhome  sibling  city  province  child  noscope
    RequestTransfer   OK     NF       NF       OK    OK        NF     PD
    ListTransfers     OK     OK       OK*      OK    OK        OK*    PD
    AcceptTransfer    PD     OK       NF       OK    OK        NF     PD
    RefuseTransfer    PD     OK       NF       OK    OK        NF     PD
    CancelTransfer    OK     PD       NF       OK    OK        NF     PD

(* listed without the transfer: it is neither's.) Every refusal writes
nothing: the transfer stays pending, the volunteer at home.

Beyond the matrix: the ids of a neighbour's transfer (between two other
counties), a parent's (filed by the city in another county) and a random id
are refused alike by the owner, nothing written; a volunteer's own RPCs
reach only their own transfers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import grpc
import jwt
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.auth import TokenIssuer
from services.common.testing import PRIVATE_PEM
from tests.helpers import auth, new_id_number, new_phone
from tests.security.matrix import (
    NF,
    OK,
    PD,
    Spec,
    caller_token,
    check_indistinguishable,
    check_isolation,
    outcome,
    params,
    rpc_names,
    with_national,
)

pytestmark = pytest.mark.integration

OWNER, TOWN = "610113", "610113008"
NEW, NEW_TOWN = "610116", "610116003"
SIBLING, SIB_TOWN = "610103", "610103006"
CITY, PROVINCE, CHILD = "6101", "61", "610113001"
ELSE_TOWN = "610115003"  # 临潼区: where the foreign transfers go
PARENT_TOWN = "610104002"  # 莲湖区: the city's own volunteer lives there
SCOPES = {
    "owner": OWNER,
    "newhome": NEW,
    "sibling": SIBLING,
    "city": CITY,
    "province": PROVINCE,
    "child": CHILD,
}
# ``national``: scope CN (the ministry), rollups and the division tree only.
CALLERS = (*SCOPES, "noscope", "national")
ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")

# The RPCs this file covers (test_isolation_matrix.py leaves them here).
OFFICE_RPCS = {
    "RequestTransfer",
    "ListTransfers",
    "AcceptTransfer",
    "RefuseTransfer",
    "CancelTransfer",
}
OWN_RPCS = {"RequestMyTransfer", "ListMyTransfers"}


@dataclass
class World:
    stub: Any
    token: Callable[..., str]
    # Registration's database as its owner: what was written, row security
    # aside.
    engine: Any

    def caller(self, who: str) -> str:
        return caller_token(self.token, SCOPES, who)

    def volunteer(self, home: str = TOWN, tok: str = "") -> pb.Volunteer:
        tok = tok or self.token(OWNER)
        vol = self.stub.RegisterVolunteer(
            pb.RegisterVolunteerRequest(
                name="李志愿", id_number=new_id_number(home[:6]), phone=new_phone(),
                home_division_code=home, service_fields=["elderly_care"],
            ),
            metadata=auth(tok),
        ).volunteer  # fmt: skip
        return vol

    def transfer(
        self, vol: pb.Volunteer, to: str = NEW_TOWN, tok: str = ""
    ) -> pb.Transfer:
        return self.stub.RequestTransfer(
            pb.RequestTransferRequest(
                volunteer_id=vol.id, to_division_code=to, consent=True,
                consent_note="签字同意书已存档",
            ),
            metadata=auth(tok or self.token(OWNER)),
        ).transfer  # fmt: skip

    def pending(self) -> pb.Transfer:
        return self.transfer(self.volunteer())


@pytest.fixture(scope="module")
def w(stub, token) -> Iterator[World]:  # type: ignore[no-untyped-def]
    url = os.environ["REGISTRATION_DATABASE_URL"]
    engine = create_engine(url, pool_size=1, max_overflow=0)
    yield World(stub, token, engine)
    engine.dispose()


def stored(engine: Any, transfer_id: str) -> tuple[str, str] | None:
    """(status, the volunteer's home) of a transfer, as stored."""
    with engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT t.status, v.home_division_code FROM transfers t"
                " JOIN volunteers v ON v.id = t.volunteer_id WHERE t.id = :t"
            ),
            {"t": transfer_id},
        ).first()
    return (str(got[0]), str(got[1])) if got else None


def transfers_of(engine: Any, volunteer_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM transfers WHERE volunteer_id = :v"),
                {"v": volunteer_id},
            ).scalar_one()
        )


# -- the specs -------------------------------------------------------------------


def _request(w: World, vol: pb.Volunteer, tok: str) -> Any:
    return w.stub.RequestTransfer(
        pb.RequestTransferRequest(
            volunteer_id=vol.id, to_division_code=NEW_TOWN, consent=True,
            consent_note="签字同意书已存档",
        ),
        metadata=auth(tok),
    )  # fmt: skip


def _requested(w: World, vol: pb.Volunteer, resp: Any) -> None:
    t = resp.transfer
    assert t.volunteer_id == vol.id and t.status == pb.TRANSFER_STATUS_PENDING
    assert stored(w.engine, t.id) == ("pending", TOWN)


def _nothing_requested(w: World, vol: pb.Volunteer) -> None:
    assert transfers_of(w.engine, vol.id) == 0


def _list(w: World, t: pb.Transfer, tok: str) -> Any:
    return w.stub.ListTransfers(
        pb.ListTransfersRequest(page=common.PageRequest(page_size=500)),
        metadata=auth(tok),
    )


def _scope_of(tok: str) -> str:
    claims = jwt.decode(tok, options={"verify_signature": False})
    return str(claims.get("scope") or "")


def _list_checked(w: World, t: pb.Transfer, tok: str) -> Any:
    resp = _list(w, t, tok)
    scope = _scope_of(tok)
    ids = {x.id for x in resp.transfers}
    assert scope, "a listed answer needs a scoped caller"
    for x in resp.transfers:
        assert x.from_division_code.startswith(scope) or x.to_division_code.startswith(
            scope
        ), (scope, x.id)
    either = TOWN.startswith(scope) or NEW_TOWN.startswith(scope)
    assert (t.id in ids) == either, (scope, either)
    return resp


def _decide(rpc: str) -> Callable[[World, pb.Transfer, str], Any]:
    def act(w: World, t: pb.Transfer, tok: str) -> Any:
        req = getattr(pb, f"{rpc}Request")(id=t.id)
        if rpc == "RefuseTransfer":
            req.reason = "无法核实新居住地"
        return getattr(w.stub, rpc)(req, metadata=auth(tok))

    return act


def _became(status: str, home: str) -> Callable[[World, pb.Transfer, Any], None]:
    def check(w: World, t: pb.Transfer, resp: Any) -> None:
        assert stored(w.engine, t.id) == (status, home)

    return check


def _still_pending(w: World, t: pb.Transfer) -> None:
    assert stored(w.engine, t.id) == ("pending", TOWN)


BY_ID = dict(
    owner=PD, newhome=OK, sibling=NF, city=OK, province=OK, child=NF, noscope=PD
)
SPECS: dict[str, Spec] = {
    "RequestTransfer": Spec(
        dict(
            owner=OK, newhome=NF, sibling=NF, city=OK, province=OK, child=NF, noscope=PD
        ),  # fmt: skip
        _request,
        prepare=lambda w: w.volunteer(),
        succeeded=_requested,
        unchanged=_nothing_requested,
    ),
    "ListTransfers": Spec(
        dict(
            owner=OK, newhome=OK, sibling=OK, city=OK, province=OK, child=OK, noscope=PD
        ),  # fmt: skip
        _list_checked,
        prepare=World.pending,
    ),
    "AcceptTransfer": Spec(
        BY_ID,
        _decide("AcceptTransfer"),
        prepare=World.pending,
        succeeded=_became("accepted", NEW_TOWN),
        unchanged=_still_pending,
    ),
    "RefuseTransfer": Spec(
        BY_ID,
        _decide("RefuseTransfer"),
        prepare=World.pending,
        succeeded=_became("refused", TOWN),
        unchanged=_still_pending,
    ),
    "CancelTransfer": Spec(
        dict(
            owner=OK, newhome=PD, sibling=NF, city=OK, province=OK, child=NF, noscope=PD
        ),  # fmt: skip
        _decide("CancelTransfer"),
        prepare=World.pending,
        succeeded=_became("cancelled", TOWN),
        unchanged=_still_pending,
    ),
}
SPECS = with_national(SPECS)
MATRIX = params(SPECS, CALLERS)


def test_the_matrix_covers_every_office_transfer_rpc() -> None:
    names = rpc_names(pb, "RegistrationService")
    transfer_rpcs = {n for n in names if "Transfer" in n}
    assert transfer_rpcs == OFFICE_RPCS | OWN_RPCS
    assert set(SPECS) == OFFICE_RPCS


@pytest.mark.parametrize(("rpc", "who"), MATRIX)
def test_isolation(w: World, rpc: str, who: str) -> None:
    check_isolation(
        w, SPECS[rpc], rpc, who, caller=w.caller, not_revealed=(TOWN, NEW_TOWN)
    )


# -- a neighbour's, a parent's and a random id -----------------------------------


@pytest.fixture(scope="module")
def foreign(w: World) -> dict[str, pb.Transfer]:
    """A transfer between two other counties (the sibling's volunteer to
    Lintong) and one the city filed for its volunteer in Lianhu (to
    Lintong): neither touches the owner's subtree."""
    sib = w.token(SIBLING)
    city = w.token(CITY)
    n_vol = w.volunteer(SIB_TOWN, sib)
    p_vol = w.volunteer(PARENT_TOWN, city)
    return {
        "neighbour": w.transfer(n_vol, ELSE_TOWN, sib),
        "parent": w.transfer(p_vol, ELSE_TOWN, city),
    }


@pytest.mark.parametrize("rpc", ["AcceptTransfer", "RefuseTransfer", "CancelTransfer"])
@pytest.mark.parametrize("variant", ["neighbour", "parent"])
def test_foreign_transfer_is_refused_like_a_missing_one(
    w: World, foreign: dict[str, pb.Transfer], rpc: str, variant: str
) -> None:
    t = foreign[variant]
    act = _decide(rpc)
    owner = w.token(OWNER)
    before = stored(w.engine, t.id)
    assert before is not None and before[0] == "pending"
    check_indistinguishable(
        lambda ident: act(w, pb.Transfer(id=ident), owner), t.id, str(uuid.uuid4())
    )
    assert stored(w.engine, t.id) == before


@pytest.mark.parametrize("variant", ["neighbour", "parent"])
def test_foreign_volunteer_cannot_be_transferred(
    w: World, foreign: dict[str, pb.Transfer], variant: str
) -> None:
    vid = foreign[variant].volunteer_id
    before = transfers_of(w.engine, vid)
    owner = w.token(OWNER)
    check_indistinguishable(
        lambda ident: _request(w, pb.Volunteer(id=ident), owner),
        vid,
        str(uuid.uuid4()),
    )
    assert transfers_of(w.engine, vid) == before


def test_owner_lists_no_foreign_transfer(
    w: World, foreign: dict[str, pb.Transfer]
) -> None:
    ids = {x.id for x in _list(w, pb.Transfer(), w.token(OWNER)).transfers}
    assert not ids & {t.id for t in foreign.values()}


# -- a volunteer's own ---------------------------------------------------------------


def volunteer_token(vol: pb.Volunteer, home: str = TOWN) -> str:
    value, _ = ISSUER.issue(
        subject=f"acct-{vol.id}", username=vol.volunteer_number, scope_code=home,
        roles=["volunteer"], ttl=600, volunteer_id=vol.id,
    )  # fmt: skip
    return value


def test_a_volunteer_reaches_only_their_own_transfers(w: World) -> None:
    me, housemate = w.volunteer(), w.volunteer()
    mine = w.transfer(me)
    theirs = w.transfer(housemate)
    tok = volunteer_token(me)
    listed = w.stub.ListMyTransfers(pb.ListMyTransfersRequest(), metadata=auth(tok))
    assert [t.id for t in listed.transfers] == [mine.id]
    # The housemate's (same home: only the volunteer id keeps them apart).
    check_indistinguishable(
        lambda ident: _decide("CancelTransfer")(w, pb.Transfer(id=ident), tok),
        theirs.id,
        str(uuid.uuid4()),
    )
    assert stored(w.engine, theirs.id) == ("pending", TOWN)
    # A volunteer neither accepts, refuses nor lists the office's queue.
    for rpc in ("AcceptTransfer", "RefuseTransfer"):
        act = _decide(rpc)
        status, _ = outcome(partial(act, w, mine, tok))
        assert status == PD
    status, _ = outcome(lambda: _list(w, mine, tok))
    assert status == PD
    assert stored(w.engine, mine.id) == ("pending", TOWN)


def test_an_office_account_has_no_own_transfer(w: World) -> None:
    office = w.token(OWNER)
    for call in (
        lambda: w.stub.RequestMyTransfer(
            pb.RequestMyTransferRequest(to_division_code=NEW_TOWN, consent=True),
            metadata=auth(office),
        ),
        lambda: w.stub.ListMyTransfers(
            pb.ListMyTransfersRequest(), metadata=auth(office)
        ),
    ):
        status, err = outcome(call)
        assert status == grpc.StatusCode.PERMISSION_DENIED
        assert dict(err.trailing_metadata())["zhiyuan-field"] == "volunteer_id"
