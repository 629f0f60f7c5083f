"""Tenant isolation, RPC by RPC and caller by caller, on the real api role.

The owner is Yanta district (610113). Its data lives at the county itself
(organisations, accounts) and in the township 大雁塔街道 (610113002:
volunteers, a team), so the child caller (township 610113001) sits below the
county but outside the subtree of the owner's volunteers. Callers:

    owner     610113     tenant_admin     (everything works)
    sibling   610103     tenant_admin     (Beilin: sees nothing of Yanta)
    city      6101       tenant_admin     (Xi'an: reads and writes its subtree)
    province  61         province_admin
    child     610113001  tenant_admin     (a township: cannot look upward)
    noscope   ""         tenant_admin     (no scope claim: default deny)

Expected outcomes, as the product decided them:

* division reads (GetDivision, ListDivisions, ListDivisionHistory) are public
  reference data: any caller with a scope may read any node, ancestors and
  other counties included; only the scope-less caller is refused;
* a request naming a division code outside the caller's subtree is
  PERMISSION_DENIED;
* a request addressing another tenant's entity by id is NOT_FOUND, exactly as
  if the id did not exist (the entity is not revealed);
* a refused write leaves nothing changed, checked afterwards with the
  owner's token.

Division writes need the ``operator`` or ``province_admin`` role; there every
caller holds ``operator`` so that the scope check is what is tested.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.rpc import error_details
from services.common.testing import wait_for
from tests.helpers import auth, new_id_number, new_phone
from tests.security import matrix
from tests.security.matrix import (
    NF,
    OK,
    PD,
    caller_token,
    check_indistinguishable,
    check_isolation,
    federated_read,
    outcome,
    params,
    rpc_names,
    with_national,
)

pytestmark = pytest.mark.integration

OWNER, SIBLING, CITY, PROVINCE, CHILD = "610113", "610103", "6101", "61", "610113001"
TOWN = "610113002"  # where the owner's volunteers and team live
SIB_TOWN = "610103002"
SCOPES = {
    "owner": OWNER,
    "sibling": SIBLING,
    "city": CITY,
    "province": PROVINCE,
    "child": CHILD,
}
# ``national``: scope CN (the ministry), rollups and the division tree only.
CALLERS = (*SCOPES, "noscope", "national")

# Expectation rows shared by many RPCs.
PUBLIC = dict(owner=OK, sibling=OK, city=OK, province=OK, child=OK, noscope=PD)
SCOPED = dict(owner=OK, sibling=PD, city=OK, province=OK, child=PD, noscope=PD)
BY_ID = dict(owner=OK, sibling=NF, city=OK, province=OK, child=NF, noscope=PD)


# -- the owner's and the sibling's data ---------------------------------------


@dataclass
class World:
    stub: Any
    token: Callable[..., str]
    tag: str
    org: pb.Organisation = None  # type: ignore[assignment]
    team: pb.Organisation = None  # type: ignore[assignment]
    vol: pb.Volunteer = None  # type: ignore[assignment]
    account: pb.Account = None  # type: ignore[assignment]
    town: str = ""  # a township the province created under the owner
    sib_org: pb.Organisation = None  # type: ignore[assignment]
    sib_team: pb.Organisation = None  # type: ignore[assignment]
    sib_vol: pb.Volunteer = None  # type: ignore[assignment]
    sib_account: pb.Account = None  # type: ignore[assignment]
    counter: list[int] = field(default_factory=lambda: [0])

    # tokens
    @property
    def own(self) -> str:
        return self.token(OWNER)

    @property
    def prov(self) -> str:
        return self.token(PROVINCE, "province_admin")

    def caller(self, who: str, roles: tuple[str, ...] = ()) -> str:
        return caller_token(self.token, SCOPES, who, roles)

    def unique(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}-{self.tag}-{self.counter[0]}"

    # calls with the owner's (or another) token
    def register(self, tok: str | None = None, home: str = TOWN, **over: Any):  # type: ignore[no-untyped-def]
        req = dict(
            name="李志愿",
            id_number=new_id_number(home[:6]),
            phone=new_phone(),
            home_division_code=home,
            service_fields=["elderly_care"],
        )
        req.update(over)
        return self.stub.RegisterVolunteer(
            pb.RegisterVolunteerRequest(**req), metadata=auth(tok or self.own)
        ).volunteer

    def verified(self) -> pb.Volunteer:
        vol = self.register()
        return self.stub.VerifyVolunteer(
            pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(self.own)
        ).volunteer

    def org_create(self, tok: str, code: str, kind: int, parent: str = ""):  # type: ignore[no-untyped-def]
        return self.stub.CreateOrganisation(
            pb.CreateOrganisationRequest(
                name=self.unique("队"), kind=kind, division_code=code, parent_id=parent
            ),
            metadata=auth(tok),
        ).organisation

    def get_volunteer(self, ident: str) -> pb.Volunteer:
        return self.stub.GetVolunteer(
            pb.GetVolunteerRequest(id=ident), metadata=auth(self.own)
        ).volunteer

    def get_division(self, code: str) -> pb.Division:
        return self.stub.GetDivision(
            pb.GetDivisionRequest(code=code), metadata=auth(self.prov)
        ).division

    def summary(self, code: str) -> dict[str, float]:
        q = common.RollupQuery(division_code=code)
        return dict(
            self.stub.Summarize(
                pb.SummarizeRequest(query=q), metadata=auth(self.prov)
            ).rollup.total.metrics
        )

    def volunteers_total(self, code: str) -> int:
        return self.stub.ListVolunteers(
            pb.ListVolunteersRequest(division_code=code), metadata=auth(self.prov)
        ).page.total_size

    def setting(self, key: str, code: str = OWNER) -> tuple[str, str]:
        rows = self.stub.GetEffectiveSettings(
            pb.GetEffectiveSettingsRequest(division_code=code), metadata=auth(self.own)
        ).settings
        return {s.key: (s.value_json, s.source_code) for s in rows}[key]

    def free_township(self) -> str:
        """A township code under the owner that no division uses yet."""
        for n in range(980, 900, -1):
            code = f"{OWNER}{n:03d}"
            status, _ = outcome(lambda c=code: self.get_division(c))
            if status == NF:
                return code
        raise AssertionError("no free township code left under 610113")

    def new_township(self) -> str:
        code = self.free_township()
        self.stub.CreateDivision(
            pb.CreateDivisionRequest(
                code=code, name=self.unique("街道"), reason="测试"
            ),
            metadata=auth(self.prov),
        )
        return code


def feed_numbers(stub, tok: str, code: str = "") -> set[str]:  # type: ignore[no-untyped-def]
    items = stub.ListActivityFeed(
        pb.ListActivityFeedRequest(
            division_code=code, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    ).items
    return {i.summary for i in items}


@pytest.fixture(scope="module")
def w(stub, token, worker) -> World:  # type: ignore[no-untyped-def]
    world = World(stub, token, uuid.uuid4().hex[:8])
    sib = token(SIBLING)
    world.org = world.org_create(world.own, OWNER, pb.ORGANISATION_KIND_ORGANISATION)
    world.team = world.org_create(
        world.own, TOWN, pb.ORGANISATION_KIND_TEAM, world.org.id
    )
    world.vol = world.register()
    world.account = stub.CreateAccount(
        pb.CreateAccountRequest(
            username=world.unique("yanta"),
            password="a-long-password",
            scope_code=OWNER,
            roles=["reviewer"],
        ),
        metadata=auth(world.own),
    ).account
    world.town = world.new_township()
    world.sib_org = world.org_create(sib, SIBLING, pb.ORGANISATION_KIND_ORGANISATION)
    world.sib_team = world.org_create(
        sib, SIB_TOWN, pb.ORGANISATION_KIND_TEAM, world.sib_org.id
    )
    world.sib_vol = world.register(sib, home=SIB_TOWN)
    world.sib_account = stub.CreateAccount(
        pb.CreateAccountRequest(
            username=world.unique("beilin"),
            password="a-long-password",
            scope_code=SIBLING,
            roles=["reviewer"],
        ),
        metadata=auth(sib),
    ).account
    # The worker builds the activity feed from the outbox events.
    for tok, number in (
        (world.own, world.vol.volunteer_number),
        (sib, world.sib_vol.volunteer_number),
    ):
        wait_for(
            lambda t=tok, n=number: any(n in s for s in feed_numbers(stub, t)),
            timeout=30,
            what=f"feed item for {number}",
        )
    return world


# -- one specification per RPC ------------------------------------------------


@dataclass(frozen=True)
class Spec(matrix.Spec):
    """The shared spec, plus the roles every caller holds for this RPC
    (``unchanged`` checks with the owner's token)."""

    roles: tuple[str, ...] = ()


def _get_division(w: World, _: Any, tok: str) -> Any:
    return w.stub.GetDivision(pb.GetDivisionRequest(code=OWNER), metadata=auth(tok))


def _got_division(w: World, _: Any, resp: Any) -> None:
    assert resp.division.name == "雁塔区"
    assert [a.code for a in resp.ancestors] == [PROVINCE, CITY]


def _list_divisions(w: World, _: Any, tok: str) -> Any:
    return w.stub.ListDivisions(
        pb.ListDivisionsRequest(
            parent_code=OWNER, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    )


def _listed_divisions(w: World, _: Any, resp: Any) -> None:
    codes = [d.code for d in resp.divisions]
    assert CHILD in codes and TOWN in codes
    assert all(c.startswith(OWNER) for c in codes)


def _create_division(w: World, code: str, tok: str) -> Any:
    return w.stub.CreateDivision(
        pb.CreateDivisionRequest(code=code, name="矩阵街道", reason="测试"),
        metadata=auth(tok),
    )


def _created_division(w: World, code: str, resp: Any) -> None:
    assert w.get_division(code).name == "矩阵街道"


def _no_division(w: World, code: str) -> None:
    status, _ = outcome(lambda: w.get_division(code))
    assert status == NF


def _rename_division(w: World, code: str, tok: str) -> Any:
    return w.stub.RenameDivision(
        pb.RenameDivisionRequest(code=code, name="改名街道", reason="测试"),
        metadata=auth(tok),
    )


def _renamed(w: World, code: str, resp: Any) -> None:
    assert w.get_division(code).name == "改名街道"


def _history_kinds(w: World, code: str) -> list[str]:
    changes = w.stub.ListDivisionHistory(
        pb.ListDivisionHistoryRequest(code=code), metadata=auth(w.prov)
    ).changes
    return [c.kind for c in changes]


def _division_untouched(w: World, code: str) -> None:
    div = w.get_division(code)
    assert div.name != "改名街道"
    assert div.status == pb.DIVISION_STATUS_ACTIVE
    assert _history_kinds(w, code) == ["created"]


def _retire_division(w: World, code: str, tok: str) -> Any:
    return w.stub.RetireDivision(
        pb.RetireDivisionRequest(code=code, successor_code=TOWN, reason="合并"),
        metadata=auth(tok),
    )


def _retired(w: World, code: str, resp: Any) -> None:
    div = w.get_division(code)
    assert div.status == pb.DIVISION_STATUS_RETIRED and div.successor_code == TOWN


def _division_history(w: World, _: Any, tok: str) -> Any:
    return w.stub.ListDivisionHistory(
        pb.ListDivisionHistoryRequest(code=w.town), metadata=auth(tok)
    )


def _history_listed(w: World, _: Any, resp: Any) -> None:
    assert [c.kind for c in resp.changes][:1] == ["created"]
    assert all(c.code == w.town for c in resp.changes)


def _get_settings(w: World, _: Any, tok: str) -> Any:
    return w.stub.GetEffectiveSettings(
        pb.GetEffectiveSettingsRequest(division_code=OWNER), metadata=auth(tok)
    )


def _got_settings(w: World, _: Any, resp: Any) -> None:
    assert "stars.thresholds_hours" in {s.key for s in resp.settings}


KEY = "awards.categories"


def _settings_target(w: World) -> tuple[str, tuple[str, str]]:
    return json.dumps([w.unique("类别")], ensure_ascii=False), w.setting(KEY)


def _update_settings(w: World, t: tuple[str, Any], tok: str) -> Any:
    return w.stub.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(division_code=OWNER, set_json={KEY: t[0]}),
        metadata=auth(tok),
    )


def _settings_updated(w: World, t: tuple[str, Any], resp: Any) -> None:
    try:
        assert w.setting(KEY) == (t[0], OWNER)
    finally:  # leave the owner's settings as they were
        w.stub.UpdateTenantSettings(
            pb.UpdateTenantSettingsRequest(division_code=OWNER, clear=[KEY]),
            metadata=auth(w.own),
        )


def _settings_unchanged(w: World, t: tuple[str, Any]) -> None:
    assert w.setting(KEY) == t[1]


def _create_account(w: World, username: str, tok: str) -> Any:
    return w.stub.CreateAccount(
        pb.CreateAccountRequest(
            username=username,
            password="a-long-password",
            scope_code=OWNER,
            roles=["tenant_admin"],
        ),
        metadata=auth(tok),
    )


def _login(w: World, username: str) -> Any:
    return w.stub.Login(pb.LoginRequest(username=username, password="a-long-password"))


def _account_created(w: World, username: str, resp: Any) -> None:
    assert resp.account.scope_code == OWNER
    assert _login(w, username).account.scope_code == OWNER


def _no_account(w: World, username: str) -> None:
    status, _ = outcome(lambda: _login(w, username))
    assert status == grpc.StatusCode.UNAUTHENTICATED
    listed = w.stub.ListAccounts(
        pb.ListAccountsRequest(
            scope_code=OWNER, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(w.own),
    ).accounts
    assert username not in {a.username for a in listed}


def _list_accounts(w: World, _: Any, tok: str) -> Any:
    return w.stub.ListAccounts(
        pb.ListAccountsRequest(
            scope_code=OWNER, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    )


def _accounts_listed(w: World, _: Any, resp: Any) -> None:
    assert w.account.id in {a.id for a in resp.accounts}
    assert all(a.scope_code.startswith(OWNER) for a in resp.accounts)


def _create_org(w: World, name: str, tok: str) -> Any:
    return w.stub.CreateOrganisation(
        pb.CreateOrganisationRequest(
            name=name, kind=pb.ORGANISATION_KIND_ORGANISATION, division_code=OWNER
        ),
        metadata=auth(tok),
    )


def _owner_org_names(w: World) -> set[str]:
    orgs = w.stub.ListOrganisations(
        pb.ListOrganisationsRequest(
            division_code=OWNER, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(w.own),
    ).organisations
    return {o.name for o in orgs}


def _org_created(w: World, name: str, resp: Any) -> None:
    got = w.stub.GetOrganisation(
        pb.GetOrganisationRequest(id=resp.organisation.id), metadata=auth(w.own)
    ).organisation
    assert got.name == name and got.division_code == OWNER


def _no_org(w: World, name: str) -> None:
    assert name not in _owner_org_names(w)


def _get_org(w: World, _: Any, tok: str) -> Any:
    return w.stub.GetOrganisation(
        pb.GetOrganisationRequest(id=w.org.id), metadata=auth(tok)
    )


def _got_org(w: World, _: Any, resp: Any) -> None:
    assert resp.organisation.id == w.org.id
    assert w.team.id in [c.id for c in resp.children]


def _list_orgs(w: World, _: Any, tok: str) -> Any:
    return w.stub.ListOrganisations(
        pb.ListOrganisationsRequest(
            division_code=OWNER, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    )


def _orgs_listed(w: World, _: Any, resp: Any) -> None:
    ids = {o.id for o in resp.organisations}
    assert {w.org.id, w.team.id} <= ids and w.sib_org.id not in ids
    assert all(o.division_code.startswith(OWNER) for o in resp.organisations)


def _register_target(w: World) -> tuple[str, int]:
    return new_id_number(OWNER), w.volunteers_total(TOWN)


def _register(w: World, t: tuple[str, int], tok: str) -> Any:
    return w.stub.RegisterVolunteer(
        pb.RegisterVolunteerRequest(
            name="赵志愿",
            id_number=t[0],
            phone=new_phone(),
            home_division_code=TOWN,
            service_fields=["medical"],
        ),
        metadata=auth(tok),
    )


def _registered(w: World, t: tuple[str, int], resp: Any) -> None:
    assert resp.volunteer.home_division_code == TOWN
    assert w.get_volunteer(resp.volunteer.id).status == pb.VOLUNTEER_STATUS_PENDING


def _not_registered(w: World, t: tuple[str, int]) -> None:
    assert w.volunteers_total(TOWN) == t[1]
    # The ID number is still free: the refused call stored nothing under it.
    assert w.register(id_number=t[0]).home_division_code == TOWN


def _get_vol(w: World, _: Any, tok: str) -> Any:
    return w.stub.GetVolunteer(pb.GetVolunteerRequest(id=w.vol.id), metadata=auth(tok))


def _got_vol(w: World, _: Any, resp: Any) -> None:
    assert resp.volunteer.volunteer_number == w.vol.volunteer_number


def _identity(w: World, _: Any, tok: str) -> Any:
    return w.stub.GetVolunteerIdentity(
        pb.GetVolunteerIdentityRequest(id=w.vol.id, purpose="certificate"),
        metadata=auth(tok),
    )


def _got_identity(w: World, _: Any, resp: Any) -> None:
    assert resp.volunteer_number == w.vol.volunteer_number
    assert resp.name and "*" not in resp.name
    assert "*" in resp.id_number_masked


def _list_vols(w: World, _: Any, tok: str) -> Any:
    return w.stub.ListVolunteers(
        pb.ListVolunteersRequest(
            division_code=OWNER, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    )


def _vols_listed(w: World, _: Any, resp: Any) -> None:
    ids = {v.id for v in resp.volunteers}
    assert w.vol.id in ids and w.sib_vol.id not in ids
    assert all(v.home_division_code.startswith(OWNER) for v in resp.volunteers)


def _review_target(w: World) -> tuple[pb.Volunteer, dict[str, float]]:
    return w.register(), w.summary(TOWN)


def _verify(w: World, t: tuple[pb.Volunteer, Any], tok: str) -> Any:
    return w.stub.VerifyVolunteer(
        pb.VerifyVolunteerRequest(id=t[0].id), metadata=auth(tok)
    )


def _reject(w: World, t: tuple[pb.Volunteer, Any], tok: str) -> Any:
    return w.stub.RejectVolunteer(
        pb.RejectVolunteerRequest(id=t[0].id, reason="材料不全"), metadata=auth(tok)
    )


def _reviewed(status: int) -> Callable[[World, Any, Any], None]:
    def check(w: World, t: tuple[pb.Volunteer, Any], resp: Any) -> None:
        assert w.get_volunteer(t[0].id).status == status

    return check


def _still_pending(w: World, t: tuple[pb.Volunteer, dict[str, float]]) -> None:
    vol = w.get_volunteer(t[0].id)
    assert vol.status == pb.VOLUNTEER_STATUS_PENDING and vol.rejection_reason == ""
    after = w.summary(TOWN)
    for metric in ("volunteers_verified", "volunteers_rejected"):
        assert after[metric] == t[1][metric]


def _membership_target(w: World) -> pb.Volunteer:
    return w.verified()


def _add_membership(w: World, vol: pb.Volunteer, tok: str) -> Any:
    return w.stub.AddTeamMembership(
        pb.AddTeamMembershipRequest(
            volunteer_id=vol.id, organisation_id=w.team.id, role="member"
        ),
        metadata=auth(tok),
    )


def _member(w: World, vol: pb.Volunteer, resp: Any) -> None:
    assert list(w.get_volunteer(vol.id).team_ids) == [w.team.id]


def _not_member(w: World, vol: pb.Volunteer) -> None:
    assert list(w.get_volunteer(vol.id).team_ids) == []


def _summarize(w: World, _: Any, tok: str) -> Any:
    return w.stub.Summarize(
        pb.SummarizeRequest(query=common.RollupQuery(division_code=OWNER)),
        metadata=auth(tok),
    )


def _summarized(w: World, _: Any, resp: Any) -> None:
    rollup = resp.rollup
    assert rollup.total.division.code == OWNER
    assert rollup.total.metrics["volunteers_registered"] >= 1
    assert TOWN in {r.division.code for r in rollup.rows}
    assert all(r.division.code.startswith(OWNER) for r in rollup.rows)


def _feed(w: World, _: Any, tok: str) -> Any:
    return w.stub.ListActivityFeed(
        pb.ListActivityFeedRequest(
            division_code=OWNER, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    )


def _fed(w: World, _: Any, resp: Any) -> None:
    summaries = " ".join(i.summary for i in resp.items)
    assert w.vol.volunteer_number in summaries
    assert w.sib_vol.volunteer_number not in summaries
    assert all(i.division_code.startswith(OWNER) for i in resp.items)


DIVISION_WRITE = ("operator",)

SPECS: dict[str, Spec] = {
    "GetDivision": Spec(PUBLIC, _get_division, succeeded=_got_division),
    "ListDivisions": Spec(PUBLIC, _list_divisions, succeeded=_listed_divisions),
    "CreateDivision": Spec(
        SCOPED,
        _create_division,
        prepare=World.free_township,
        succeeded=_created_division,
        unchanged=_no_division,
        roles=DIVISION_WRITE,
    ),
    "RenameDivision": Spec(
        SCOPED,
        _rename_division,
        prepare=World.new_township,
        succeeded=_renamed,
        unchanged=_division_untouched,
        roles=DIVISION_WRITE,
    ),
    "RetireDivision": Spec(
        SCOPED,
        _retire_division,
        prepare=World.new_township,
        succeeded=_retired,
        unchanged=_division_untouched,
        roles=DIVISION_WRITE,
    ),
    "ListDivisionHistory": Spec(PUBLIC, _division_history, succeeded=_history_listed),
    "GetEffectiveSettings": Spec(SCOPED, _get_settings, succeeded=_got_settings),
    "UpdateTenantSettings": Spec(
        SCOPED,
        _update_settings,
        prepare=_settings_target,
        succeeded=_settings_updated,
        unchanged=_settings_unchanged,
    ),
    "CreateAccount": Spec(
        SCOPED,
        _create_account,
        prepare=lambda w: w.unique("acct"),
        succeeded=_account_created,
        unchanged=_no_account,
    ),
    "ListAccounts": Spec(SCOPED, _list_accounts, succeeded=_accounts_listed),
    "CreateOrganisation": Spec(
        SCOPED,
        _create_org,
        prepare=lambda w: w.unique("雁塔志愿服务组织"),
        succeeded=_org_created,
        unchanged=_no_org,
    ),
    "GetOrganisation": Spec(BY_ID, _get_org, succeeded=_got_org),
    "ListOrganisations": Spec(SCOPED, _list_orgs, succeeded=_orgs_listed),
    "RegisterVolunteer": Spec(
        SCOPED,
        _register,
        prepare=_register_target,
        succeeded=_registered,
        unchanged=_not_registered,
    ),
    "GetVolunteer": Spec(BY_ID, _get_vol, succeeded=_got_vol),
    "GetVolunteerIdentity": Spec(BY_ID, _identity, succeeded=_got_identity),
    "ListVolunteers": Spec(SCOPED, _list_vols, succeeded=_vols_listed),
    "VerifyVolunteer": Spec(
        BY_ID,
        _verify,
        prepare=_review_target,
        succeeded=_reviewed(pb.VOLUNTEER_STATUS_VERIFIED),
        unchanged=_still_pending,
    ),
    "RejectVolunteer": Spec(
        BY_ID,
        _reject,
        prepare=_review_target,
        succeeded=_reviewed(pb.VOLUNTEER_STATUS_REJECTED),
        unchanged=_still_pending,
    ),
    "AddTeamMembership": Spec(
        BY_ID,
        _add_membership,
        prepare=_membership_target,
        succeeded=_member,
        unchanged=_not_member,
    ),
    "Summarize": Spec(SCOPED, _summarize, succeeded=_summarized),
    "SummarizeFederated": Spec(
        SCOPED,
        lambda w, _, tok: w.stub.SummarizeFederated(
            pb.SummarizeFederatedRequest(query=common.RollupQuery(division_code=OWNER)),
            metadata=auth(tok),
        ),
        succeeded=federated_read(OWNER, "volunteers_registered"),
    ),
    "ListActivityFeed": Spec(SCOPED, _feed, succeeded=_fed),
}
SPECS = with_national(SPECS)

MATRIX = params(SPECS, CALLERS)


# Public, or the caller's own record with no id to name: a volunteer's
# account is refused everything else (tests/security/test_self_isolation.py).
# The inbox is the volunteer's own, an office account refused every call
# (tests/security/test_notifications_isolation.py).
OWN_OR_PUBLIC = {
    "Login",
    "SelfRegister",
    "ListPublicDivisions",
    "GetMe",
    "RefreshMyToken",
    "ListMyNotifications",
    "MarkNotificationRead",
    "MarkAllNotificationsRead",
}


# Transfers have two homes: their own matrix, with a new-home caller
# (tests/security/test_transfer_isolation.py).
TRANSFERS = {
    "RequestTransfer",
    "RequestMyTransfer",
    "ListTransfers",
    "ListMyTransfers",
    "AcceptTransfer",
    "RefuseTransfer",
    "CancelTransfer",
}

# Merges of duplicate registrations name two volunteers: their own matrix,
# with callers holding one, neither or both records
# (tests/security/test_merge_isolation.py).
MERGES = {"MergeVolunteers", "RevertMerge", "ListMerges"}

# Service positions (issue 14): their own matrix, with the same callers
# (tests/security/test_position_isolation.py, which checks it covers these).
POSITIONS = {"CreatePosition", "UpdatePosition", "GetPosition", "ListPositions"}


def test_every_rpc_but_login_is_in_the_matrix() -> None:
    elsewhere = OWN_OR_PUBLIC | TRANSFERS | POSITIONS | MERGES
    assert rpc_names(pb, "RegistrationService") - elsewhere == set(SPECS)


@pytest.mark.parametrize(("rpc", "who"), MATRIX)
def test_isolation(w: World, rpc: str, who: str) -> None:
    spec = SPECS[rpc]
    # Every caller holds the spec's extra roles (division writes: operator).
    # A NOT_FOUND refusal does not say the entity exists elsewhere.
    check_isolation(
        w,
        spec,
        rpc,
        who,
        caller=lambda x: w.caller(x, spec.roles),
        not_revealed=(OWNER, TOWN),
    )


# -- lists without a division code: the caller's own subtree only ---------------


def _listing(w: World, rpc: str, tok: str) -> tuple[set[str], set[str]]:
    """(ids or markers, division codes) of a list call with no division code."""
    page = common.PageRequest(page_size=500)
    md = auth(tok)
    if rpc == "ListVolunteers":
        rows = w.stub.ListVolunteers(pb.ListVolunteersRequest(page=page), metadata=md)
        return {v.id for v in rows.volunteers}, {
            v.home_division_code for v in rows.volunteers
        }
    if rpc == "ListOrganisations":
        rows = w.stub.ListOrganisations(
            pb.ListOrganisationsRequest(page=page), metadata=md
        )
        return {o.id for o in rows.organisations}, {
            o.division_code for o in rows.organisations
        }
    if rpc == "ListAccounts":
        rows = w.stub.ListAccounts(pb.ListAccountsRequest(page=page), metadata=md)
        return {a.id for a in rows.accounts}, {a.scope_code for a in rows.accounts}
    rows = w.stub.ListActivityFeed(pb.ListActivityFeedRequest(page=page), metadata=md)
    return {i.summary for i in rows.items}, {i.division_code for i in rows.items}


def _marker(w: World, rpc: str, sibling: bool) -> str:
    vol, org, acc = (
        (w.sib_vol, w.sib_org, w.sib_account) if sibling else (w.vol, w.org, w.account)
    )
    return {
        "ListVolunteers": vol.id,
        "ListOrganisations": org.id,
        "ListAccounts": acc.id,
        "ListActivityFeed": vol.volunteer_number,
    }[rpc]


LISTS = ("ListVolunteers", "ListOrganisations", "ListAccounts", "ListActivityFeed")


@pytest.mark.parametrize("viewer", ["owner", "sibling"])
@pytest.mark.parametrize("rpc", LISTS)
def test_list_without_division_code_shows_only_own_subtree(
    w: World, rpc: str, viewer: str
) -> None:
    scope = SCOPES[viewer]
    found, codes = _listing(w, rpc, w.caller(viewer))
    own, other = (
        _marker(w, rpc, viewer == "sibling"),
        _marker(w, rpc, viewer == "owner"),
    )
    text = " ".join(found)
    assert own in text  # the listing is not simply empty
    assert other not in text
    assert codes and all(c.startswith(scope) for c in codes)


def test_list_divisions_without_parent_lists_own_children(w: World) -> None:
    got = w.stub.ListDivisions(
        pb.ListDivisionsRequest(page=common.PageRequest(page_size=500)),
        metadata=auth(w.caller("sibling")),
    ).divisions
    codes = {d.code for d in got}
    assert "610103001" in codes and not any(c.startswith(OWNER) for c in codes)


def test_team_children_of_another_tenant_are_not_listed(w: World) -> None:
    got = w.stub.ListOrganisations(
        pb.ListOrganisationsRequest(parent_id=w.org.id),
        metadata=auth(w.caller("sibling")),
    )
    assert list(got.organisations) == [] and got.page.total_size == 0


# -- by-id refusals look exactly like a missing id ------------------------------

BY_ID_CALLS = {
    "GetVolunteer": lambda s, i, md: s.GetVolunteer(
        pb.GetVolunteerRequest(id=i), metadata=md
    ),
    "VerifyVolunteer": lambda s, i, md: s.VerifyVolunteer(
        pb.VerifyVolunteerRequest(id=i), metadata=md
    ),
    "GetVolunteerIdentity": lambda s, i, md: s.GetVolunteerIdentity(
        pb.GetVolunteerIdentityRequest(id=i, purpose="certificate"), metadata=md
    ),
    "GetOrganisation": lambda s, i, md: s.GetOrganisation(
        pb.GetOrganisationRequest(id=i), metadata=md
    ),
}


@pytest.mark.parametrize("rpc", list(BY_ID_CALLS))
def test_other_tenants_entity_is_indistinguishable_from_a_missing_one(
    w: World, rpc: str
) -> None:
    call = BY_ID_CALLS[rpc]
    real = w.vol.id if "Volunteer" in rpc else w.org.id
    missing = str(uuid.uuid4())
    md = auth(w.caller("sibling"))
    check_indistinguishable(lambda ident: call(w.stub, ident, md), real, missing)


# -- references to another tenant's entity inside a request ---------------------


def test_owner_cannot_put_own_volunteer_into_siblings_team(w: World) -> None:
    vol = w.verified()
    status, _ = outcome(
        lambda: w.stub.AddTeamMembership(
            pb.AddTeamMembershipRequest(
                volunteer_id=vol.id, organisation_id=w.sib_team.id
            ),
            metadata=auth(w.own),
        )
    )
    assert status == NF
    assert list(w.get_volunteer(vol.id).team_ids) == []


def test_sibling_cannot_put_owners_volunteer_into_its_own_team(w: World) -> None:
    vol = w.verified()
    status, _ = outcome(
        lambda: w.stub.AddTeamMembership(
            pb.AddTeamMembershipRequest(
                volunteer_id=vol.id, organisation_id=w.sib_team.id
            ),
            metadata=auth(w.caller("sibling")),
        )
    )
    assert status == NF
    assert list(w.get_volunteer(vol.id).team_ids) == []


@pytest.mark.parametrize(
    ("who", "code", "parent"),
    [
        pytest.param("owner", OWNER, "sib_org", id="owner-under-sibling-parent"),
        pytest.param("sibling", SIBLING, "org", id="sibling-under-owner-parent"),
    ],
)
def test_sub_team_under_another_tenants_parent_is_refused(
    w: World, who: str, code: str, parent: str
) -> None:
    name = w.unique("越界服务队")
    status, _ = outcome(
        lambda: w.stub.CreateOrganisation(
            pb.CreateOrganisationRequest(
                name=name,
                kind=pb.ORGANISATION_KIND_TEAM,
                division_code=code,
                parent_id=getattr(w, parent).id,
            ),
            metadata=auth(w.caller(who)),
        )
    )
    assert status == NF
    for tok, node in ((w.own, OWNER), (w.caller("sibling"), SIBLING)):
        orgs = w.stub.ListOrganisations(
            pb.ListOrganisationsRequest(
                division_code=node, page=common.PageRequest(page_size=500)
            ),
            metadata=auth(tok),
        ).organisations
        assert name not in {o.name for o in orgs}


# -- the child township inside its own subtree, and roles --------------------


def test_child_township_works_inside_its_own_subtree(w: World) -> None:
    child = w.caller("child")
    vol = w.register(child, home=CHILD)
    verified = w.stub.VerifyVolunteer(
        pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(child)
    ).volunteer
    assert verified.status == pb.VOLUNTEER_STATUS_VERIFIED
    listed = w.stub.ListVolunteers(
        pb.ListVolunteersRequest(page=common.PageRequest(page_size=500)),
        metadata=auth(child),
    ).volunteers
    assert vol.id in {v.id for v in listed}
    assert all(v.home_division_code.startswith(CHILD) for v in listed)
    # Ancestors' settings are inherited, so readable at the child's own node.
    got = w.stub.GetEffectiveSettings(
        pb.GetEffectiveSettingsRequest(division_code=CHILD), metadata=auth(child)
    ).settings
    assert {s.key for s in got} >= {"stars.thresholds_hours", KEY}


def test_county_admin_without_operator_role_cannot_create_divisions(w: World) -> None:
    code = w.free_township()
    status, _ = outcome(lambda: _create_division(w, code, w.own))
    assert status == PD
    _no_division(w, code)


@pytest.mark.parametrize(
    "who", ["owner", "sibling", "noscope"], ids=lambda x: f"volunteer-role-{x}"
)
def test_volunteer_role_reads_no_tenant_data(w: World, who: str) -> None:
    tok = w.caller(who, ("volunteer",))
    status, _ = outcome(lambda: _list_vols(w, None, tok))
    assert status == PD


# -- idempotency keys must not cross tenants -----------------------------------


def test_request_id_reused_by_another_tenant_is_not_an_internal_error(w: World) -> None:
    key = w.unique("form")
    first = w.register(request_id=key)
    status, result = outcome(
        lambda: w.register(w.caller("sibling"), home=SIB_TOWN, request_id=key)
    )
    if status == OK:  # the sibling's own, new volunteer, not the owner's
        assert result.id != first.id and result.home_division_code == SIB_TOWN
    else:
        assert status in (
            grpc.StatusCode.ALREADY_EXISTS,
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert dict(result.trailing_metadata()).get("zhiyuan-field") == "request_id"
        assert OWNER not in result.details()


# -- exact search by volunteer number or ID number stays inside the scope ----


@pytest.mark.parametrize("by", ["number", "id_number"])
def test_search_finds_a_volunteer_only_inside_the_callers_scope(
    w: World, by: str
) -> None:
    id_number = new_id_number(TOWN[:6])
    vol = w.register(id_number=id_number)
    term = vol.volunteer_number if by == "number" else id_number.lower()

    def found(tok: str) -> list[str]:
        return [
            v.id
            for v in w.stub.ListVolunteers(
                pb.ListVolunteersRequest(query=term), metadata=auth(tok)
            ).volunteers
        ]

    assert found(w.own) == [vol.id]
    assert found(w.prov) == [vol.id]  # the province sees its whole subtree
    # A neighbour holding the full ID number learns nothing, not even that
    # the person is registered somewhere.
    assert found(w.caller("sibling")) == []
    assert found(w.caller("child")) == []  # a township outside the home
    # The answer carries masked data only, whatever the search term.
    listed = w.stub.ListVolunteers(
        pb.ListVolunteersRequest(query=term), metadata=auth(w.own)
    ).volunteers[0]
    assert id_number not in str(listed) and listed.id_number.count("*") >= 8


@pytest.mark.parametrize(
    "term", ["ZY61", "张三", "6101131990", "ZY610000000001X", "1" * 19]
)
def test_search_term_of_no_known_shape_is_refused_naming_query(
    w: World, term: str
) -> None:
    status, err = outcome(
        lambda: w.stub.ListVolunteers(
            pb.ListVolunteersRequest(query=term), metadata=auth(w.own)
        )
    )
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    details = error_details(err)
    assert (details["field"], details["rule"]) == ("query", "query.format")


# -- org_leader accounts are bound to one organisation (or team) ------------------


def _leader_account(
    w: World, tok: str, scope: str, organisation_id: str, *roles: str
) -> Any:
    return w.stub.CreateAccount(
        pb.CreateAccountRequest(
            username=w.unique("leader"),
            password="a-long-password",
            scope_code=scope,
            roles=list(roles or ("org_leader",)),
            organisation_id=organisation_id,
        ),
        metadata=auth(tok),
    ).account


def _claims(access_token: str) -> dict[str, Any]:
    import jwt

    return jwt.decode(access_token, options={"verify_signature": False})


@pytest.mark.parametrize("target", ["org", "team"])
def test_org_leader_account_names_its_organisation_and_login_carries_it(
    w: World, target: str
) -> None:
    org, scope = (w.org, OWNER) if target == "org" else (w.team, TOWN)
    acc = _leader_account(w, w.own, scope, org.id)
    assert acc.organisation_id == org.id
    listed = w.stub.ListAccounts(
        pb.ListAccountsRequest(
            scope_code=scope, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(w.own),
    ).accounts
    assert {a.id: a.organisation_id for a in listed}[acc.id] == org.id
    login = _login(w, acc.username)
    assert login.account.organisation_id == org.id
    assert _claims(login.access_token)["org"] == org.id


def test_accounts_without_organisation_log_in_without_org_claim(w: World) -> None:
    login = _login(w, w.account.username)
    assert "org" not in _claims(login.access_token)
    assert login.account.organisation_id == ""


def _refused_account(w: World, tok: str, scope: str, org_id: str) -> dict[str, Any]:
    username = w.unique("leader")
    status, err = outcome(
        lambda: w.stub.CreateAccount(
            pb.CreateAccountRequest(
                username=username,
                password="a-long-password",
                scope_code=scope,
                roles=["org_leader"],
                organisation_id=org_id,
            ),
            metadata=auth(tok),
        )
    )
    assert status == grpc.StatusCode.INVALID_ARGUMENT, status
    assert "Traceback" not in err.details()
    _no_account(w, username)
    return dict(err.trailing_metadata())


def test_org_leader_of_another_tenants_organisation_is_refused(w: World) -> None:
    trailers = _refused_account(w, w.own, OWNER, w.sib_org.id)
    assert trailers["zhiyuan-field"] == "organisation_id"
    assert trailers["zhiyuan-rule"] == "organisation_id.exists"
    assert w.sib_org.division_code not in err_text(trailers)


def test_org_leader_organisation_outside_the_accounts_scope_is_refused(
    w: World,
) -> None:
    # The county organisation lies above the township account's scope.
    trailers = _refused_account(w, w.own, TOWN, w.org.id)
    assert trailers["zhiyuan-field"] == "organisation_id"
    assert trailers["zhiyuan-rule"] == "scope.contains"


def test_org_leader_without_organisation_is_refused(w: World) -> None:
    trailers = _refused_account(w, w.own, OWNER, "")
    assert trailers["zhiyuan-field"] == "organisation_id"
    assert trailers["zhiyuan-rule"] == "organisation_id.required"


def err_text(trailers: dict[str, Any]) -> str:
    return " ".join(
        v.decode() if isinstance(v, bytes) else str(v) for v in trailers.values()
    )


def _join(w: World, vol: pb.Volunteer, team: str, tok: str) -> Any:
    return w.stub.AddTeamMembership(
        pb.AddTeamMembershipRequest(
            volunteer_id=vol.id, organisation_id=team, role="member"
        ),
        metadata=auth(tok),
    )


def test_org_leader_adds_members_to_its_own_team_only(w: World) -> None:
    other = w.org_create(w.own, TOWN, pb.ORGANISATION_KIND_TEAM, w.org.id)
    leader = w.token(OWNER, "org_leader", username=w.unique("lead"), org=w.team.id)
    vol = w.verified()
    # Another team of the same county, its parent organisation, another
    # tenant's team: refused alike, before any look-up.
    for team in (other.id, w.org.id, w.sib_team.id, str(uuid.uuid4())):
        status, err = outcome(lambda t=team: _join(w, vol, t, leader))
        assert status == PD, (team, status)
        md = dict(err.trailing_metadata())
        assert md["zhiyuan-field"] == "organisation_id"
        assert md["zhiyuan-rule"] == "organisation.own"
        assert md.get("zhiyuan-message-zh-bin", b"").decode().strip()
    _not_member(w, vol)
    unbound = w.token(OWNER, "org_leader", username=w.unique("unbound"))
    status, err = outcome(lambda: _join(w, vol, w.team.id, unbound))
    assert status == PD
    assert dict(err.trailing_metadata())["zhiyuan-rule"] == "organisation.bound"
    _not_member(w, vol)
    _join(w, vol, w.team.id, leader)
    _member(w, vol, None)
