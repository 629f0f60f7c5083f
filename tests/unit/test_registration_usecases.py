"""Registration's rules through its use cases, in memory: the kernel's fake
unit of work (events and rollup bumps kept in lists, dropped when a unit
raises) and an in-memory repository (``registration_fakes``). The same
rules are proven through gRPC and PostgreSQL in the integration and security
tiers; here each runs in milliseconds."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from argon2 import PasswordHasher

from services.common import auth
from services.common.auth import Principal, TokenIssuer, TokenVerifier
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from services.common.pii import PiiCipher
from services.common.rollup import month_of
from services.registration.application import Guardian, RegistrationApp
from services.registration.idcard import make_id_number
from services.registration.models import (
    ROLLUP,
    Account,
    Division,
    DivisionChange,
    Organisation,
    PiiAccess,
    TenantSetting,
    Volunteer,
)
from services.registration.usecases import accounts
from tests.unit.registration_fakes import (
    FakeLoginGuard,
    FakeRepository,
    FakeStore,
    TransactionalFakeUoW,
)

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
MONTH = month_of(NOW)
COUNTY = "610113"  # 雁塔区, a county of Xi'an (6101) in Shaanxi (61)
TOWN = "610113001"
OTHER = "610116"  # 长安区, a sibling county
ADULT = make_id_number(COUNTY, date(1990, 3, 1), 11)
PASSWORD = "long-enough-pw"


@dataclass
class Kit:
    store: FakeStore
    uow: TransactionalFakeUoW
    guard: FakeLoginGuard
    app: RegistrationApp
    cipher: PiiCipher
    verifier: TokenVerifier

    def types(self) -> list[str]:
        return [t for t, _, _ in self.uow.events]

    def bump(self, code: str, metric: str) -> float:
        return self.uow.bumps.get((ROLLUP.table_name, code, MONTH, metric), 0)

    def volunteers(self) -> list[Volunteer]:
        return self.store.of(Volunteer)


def division(
    code: str, name: str, parent: str | None, status: str = "active"
) -> Division:
    level = {2: 1, 4: 2, 6: 3, 9: 4, 12: 5}[len(code)]
    return Division(
        code=code, name=name, level=level, parent_code=parent, status=status
    )


@pytest.fixture
def kit(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    yield from make_kit(monkeypatch)


def make_kit(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    """The use cases over the fakes (the ``kit`` fixture; other modules'
    fixtures yield from it too)."""
    # The KDF's strength is not under test: a cheap one keeps each test fast.
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(1, 8, 1))
    accounts._dummy_hash.cache_clear()
    store = FakeStore()
    store.put(
        division("61", "陕西省", None),
        division("6101", "西安市", "61"),
        division(COUNTY, "雁塔区", "6101"),
        division(TOWN, "小寨路街道", COUNTY),
        division("610113002", "大雁塔街道", COUNTY, status="retired"),
        division(OTHER, "长安区", "6101"),
    )
    uow = TransactionalFakeUoW(store, NOW)
    guard = FakeLoginGuard()
    cipher = PiiCipher.from_base64(base64.b64encode(bytes(range(32))).decode())
    private, public = auth.generate_keypair()
    app = RegistrationApp(
        None,  # type: ignore[arg-type]  # no database: the fakes stand in
        cipher,
        TokenIssuer(private, "zhiyuan", "zhiyuan-api"),
        uow.clock,
        uow=uow,
        repository=lambda work: FakeRepository(store, work.scope),  # type: ignore[arg-type,return-value]
        login_guard=lambda policy: guard,  # type: ignore[arg-type,return-value]
    )
    yield Kit(
        store, uow, guard, app, cipher, TokenVerifier(public, "zhiyuan", "zhiyuan-api")
    )
    accounts._dummy_hash.cache_clear()  # made with the cheap KDF above


def who(scope: str, *roles: str, org: str = "", subject: str = "") -> Principal:
    return Principal(
        subject or f"s-{scope}", f"u-{scope}", scope, frozenset(roles), 0,
        organisation_id=org,
    )  # fmt: skip


ADMIN = who(COUNTY, "tenant_admin")


def register(kit: Kit, p: Principal = ADMIN, **kw: Any) -> Volunteer:
    args: dict[str, Any] = {
        "name": "王小明",
        "id_number": ADULT,
        "phone": "13800138000",
        "home": TOWN,
        "fields": ["elderly_care"],
        "guardian": None,
        "request_id": "",
    }
    args.update(kw)
    return kit.app.people.register_volunteer(p, **args)


def org(
    kit: Kit, code: str = TOWN, kind: str = "organisation", parent: str = ""
) -> Any:
    return kit.app.people.create_organisation(
        ADMIN, "小寨志愿服务队", kind, code, parent, ["elderly_care"], "", ""
    )


# -- registering volunteers ---------------------------------------------------------
def test_a_registration_is_pending_masked_counted_and_announced(kit: Kit) -> None:
    vol = register(kit)
    assert vol.status == "pending" and vol.volunteer_number == "ZY610000000001"
    assert (vol.name_masked, vol.id_number_masked) == ("王**", "6101**********0119")
    assert kit.cipher.decrypt(vol.name_enc, context="volunteer.name") == "王小明"
    assert (vol.sex, vol.birth_date) == ("male", date(1990, 3, 1))
    assert kit.bump(TOWN, "volunteers_registered") == 1
    ((kind, code, data),) = kit.uow.events
    assert (kind, code) == ("registration.volunteer.registered", TOWN)
    # The event carries what consumers need and no personal data.
    assert data["volunteer_id"] == vol.id and data["birth_date"] == "1990-03-01"
    assert ADULT not in json.dumps(data) and "王小明" not in json.dumps(data)


def test_the_same_person_registers_once_and_a_refusal_leaves_nothing(
    kit: Kit,
) -> None:
    register(kit)
    with pytest.raises(AlreadyExists) as err:
        register(kit, name="王小明", phone="13900139000")
    assert (err.value.field, err.value.rule) == ("id_number", "id_number.unique")
    assert len(kit.volunteers()) == 1 and len(kit.uow.events) == 1
    assert kit.bump(TOWN, "volunteers_registered") == 1
    assert kit.store.serials == {"volunteer_number": 1}  # the serial rolled back


def test_a_retried_request_answers_with_the_first_volunteer(kit: Kit) -> None:
    first = register(kit, request_id="r-1")
    again = register(kit, request_id="r-1")
    assert again.id == first.id and len(kit.uow.events) == 1
    # Another client's key of the same text is its own: it never meets the first.
    other = who(COUNTY, "tenant_admin", subject="another-client")
    with pytest.raises(AlreadyExists) as err:
        register(kit, other, request_id="r-1")
    assert err.value.field == "id_number"
    second = register(
        kit, other, id_number=make_id_number(COUNTY, date(1991, 1, 1), 22),
        request_id="r-1",
    )  # fmt: skip
    assert second.id != first.id and second.request_id == "another-client/r-1"


def test_under_14s_register_only_with_a_guardians_consent(kit: Kit) -> None:
    child = make_id_number(COUNTY, date(2015, 6, 1), 12)
    with pytest.raises(InvalidArgument) as err:
        register(kit, id_number=child)
    assert err.value.rule == "guardian.required_under_14"
    refusing = Guardian("王大明", "13800138001", "父亲", consent=False)
    with pytest.raises(InvalidArgument) as err:
        register(kit, id_number=child, guardian=refusing)
    assert err.value.field == "guardian.consent"
    assert kit.volunteers() == [] and kit.uow.events == []
    consenting = Guardian("王大明", "13800138001", "父亲", consent=True)
    vol = register(kit, id_number=child, guardian=consenting)
    assert vol.guardian_enc is not None
    blob = kit.cipher.decrypt(vol.guardian_enc, context="volunteer.guardian")
    assert json.loads(blob)["consent_at"] == NOW.isoformat()


def test_a_home_outside_the_scope_or_retired_is_refused(kit: Kit) -> None:
    with pytest.raises(PermissionDenied):
        register(kit, home=OTHER)
    with pytest.raises(FailedPrecondition) as err:
        register(kit, home="610113002")
    assert err.value.field == "home_division_code"
    assert kit.volunteers() == [] and kit.uow.bumps == {}


def test_an_id_number_from_outside_the_division_tree_is_refused(kit: Kit) -> None:
    with pytest.raises(InvalidArgument) as err:
        register(kit, id_number=make_id_number("620102", date(1990, 1, 1), 11))
    assert err.value.rule == "id_number.address_code"
    # A county code since retired is known by its city: numbers keep it for life.
    vol = register(kit, id_number=make_id_number("610199", date(1990, 1, 1), 11))
    assert vol.status == "pending"


# -- reviewing volunteers -----------------------------------------------------------
def test_verifying_is_one_transition_counted_and_announced_once(kit: Kit) -> None:
    vol = register(kit)
    done = kit.app.people.review_volunteer(ADMIN, vol.id, True, "")
    assert (done.status, done.reviewed_by, done.reviewed_at) == (
        "verified", ADMIN.username, NOW,
    )  # fmt: skip
    with pytest.raises(FailedPrecondition):
        kit.app.people.review_volunteer(ADMIN, vol.id, False, "changed my mind")
    assert kit.types() == [
        "registration.volunteer.registered",
        "registration.volunteer.verified",
    ]
    assert kit.bump(TOWN, "volunteers_verified") == 1
    assert kit.bump(TOWN, "volunteers_rejected") == 0
    assert vol.status == "verified" and vol.rejection_reason == ""


def test_a_rejection_needs_a_reason_and_keeps_it(kit: Kit) -> None:
    vol = register(kit)
    with pytest.raises(InvalidArgument) as err:
        kit.app.people.review_volunteer(ADMIN, vol.id, False, "  ")
    assert err.value.field == "reason" and vol.status == "pending"
    kit.app.people.review_volunteer(ADMIN, vol.id, False, "证件照片不清晰")
    assert (vol.status, vol.rejection_reason) == ("rejected", "证件照片不清晰")
    assert kit.types()[-1] == "registration.volunteer.rejected"
    assert kit.bump(TOWN, "volunteers_rejected") == 1


def test_another_tenants_volunteer_is_not_found_and_leaders_do_not_review(
    kit: Kit,
) -> None:
    vol = register(kit)
    neighbour, nobody = who(OTHER, "tenant_admin"), str(uuid.uuid4())
    with pytest.raises(NotFound) as err:
        kit.app.people.review_volunteer(neighbour, vol.id, True, "")
    with pytest.raises(NotFound) as none:
        kit.app.people.review_volunteer(neighbour, nobody, True, "")
    # Another tenant's volunteer and no volunteer at all: the same answer.
    assert str(err.value).replace(vol.id, "?") == str(none.value).replace(nobody, "?")
    with pytest.raises(PermissionDenied):
        kit.app.people.review_volunteer(who(COUNTY, "org_leader"), vol.id, True, "")
    assert vol.status == "pending" and len(kit.uow.events) == 1


def test_revealing_a_name_is_logged_with_its_purpose(kit: Kit) -> None:
    vol = register(kit)
    with pytest.raises(InvalidArgument):
        kit.app.people.volunteer_identity(ADMIN, vol.id, "")
    assert kit.store.of(PiiAccess) == []
    got, name = kit.app.people.volunteer_identity(ADMIN, vol.id, "核对证书信息")
    assert (got.id, name) == (vol.id, "王小明")
    (log,) = kit.store.of(PiiAccess)
    assert (log.actor, log.actor_scope, log.volunteer_id, log.purpose) == (
        ADMIN.username, COUNTY, vol.id, "核对证书信息",
    )  # fmt: skip
    assert (log.division_code, log.fields, log.accessed_at) == (TOWN, "name", NOW)
    with pytest.raises(NotFound):
        kit.app.people.volunteer_identity(who(OTHER, "tenant_admin"), vol.id, "查看")
    assert len(kit.store.of(PiiAccess)) == 1


# -- organisations and teams --------------------------------------------------------
def test_organisations_and_teams_are_counted_apart_and_nest_downwards(
    kit: Kit,
) -> None:
    parent = org(kit, COUNTY)
    team = org(kit, TOWN, "team", parent.id)
    assert team.parent_id == parent.id
    assert kit.bump(COUNTY, "organisations") == 1 and kit.bump(TOWN, "teams") == 1
    assert kit.types() == ["registration.organisation.created"] * 2
    assert kit.uow.events[1][2]["parent_id"] == parent.id
    deeper = org(kit, TOWN)
    with pytest.raises(InvalidArgument) as err:
        org(kit, COUNTY, "team", deeper.id)  # above its parent
    assert err.value.rule == "division_code.within_parent"
    with pytest.raises(InvalidArgument) as err:
        org(kit, TOWN, "club")
    assert err.value.field == "kind"
    assert len(kit.store.of(Organisation)) == 3


def test_only_verified_volunteers_join_a_team_once(kit: Kit) -> None:
    team = org(kit, TOWN, "team")
    vol = register(kit)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.people.add_membership(ADMIN, vol.id, team.id, "member")
    assert err.value.field == "volunteer_id"
    kit.app.people.review_volunteer(ADMIN, vol.id, True, "")
    got, teams = kit.app.people.add_membership(ADMIN, vol.id, team.id, "member")
    assert got.id == vol.id and teams == [team.id]
    with pytest.raises(AlreadyExists) as twice:
        kit.app.people.add_membership(ADMIN, vol.id, team.id, "leader")
    assert twice.value.field == "organisation_id"
    assert kit.app.people.get_volunteer(ADMIN, vol.id)[1] == [team.id]


def test_a_team_leader_adds_members_to_its_own_team_only(kit: Kit) -> None:
    mine, theirs = org(kit, TOWN, "team"), org(kit, TOWN, "team")
    vol = register(kit)
    kit.app.people.review_volunteer(ADMIN, vol.id, True, "")
    leader = who(COUNTY, "org_leader", org=mine.id)
    with pytest.raises(PermissionDenied):
        kit.app.people.add_membership(leader, vol.id, theirs.id, "member")
    kit.app.people.add_membership(leader, vol.id, mine.id, "member")
    assert kit.app.people.get_volunteer(ADMIN, vol.id)[1] == [mine.id]


# -- accounts and login -------------------------------------------------------------
def test_accounts_are_granted_only_held_roles_inside_the_scope(kit: Kit) -> None:
    app = kit.app
    with pytest.raises(PermissionDenied):
        app.accounts.create_account(
            ADMIN, "prov", PASSWORD, "", COUNTY, ["province_admin"]
        )
    with pytest.raises(PermissionDenied):
        app.accounts.create_account(
            ADMIN, "next-door", PASSWORD, "", OTHER, ["reviewer"]
        )
    with pytest.raises(InvalidArgument) as err:
        app.accounts.create_account(ADMIN, "leader", PASSWORD, "", TOWN, ["org_leader"])
    assert err.value.field == "organisation_id"
    made = app.accounts.create_account(
        ADMIN, "xiaozhai", PASSWORD, "", TOWN, ["reviewer"]
    )
    assert (made.display_name, made.roles, made.created_by) == (
        "xiaozhai", ["reviewer"], ADMIN.username,
    )  # fmt: skip
    with pytest.raises(AlreadyExists) as taken:
        app.accounts.create_account(
            ADMIN, "xiaozhai", PASSWORD, "", COUNTY, ["reviewer"]
        )
    assert taken.value.field == "username"
    assert [a.username for a in kit.store.of(Account)] == ["xiaozhai"]


def test_a_leaders_organisation_must_lie_inside_the_accounts_scope(
    kit: Kit,
) -> None:
    at_town, at_county = org(kit, TOWN), org(kit, COUNTY)
    with pytest.raises(InvalidArgument) as err:
        kit.app.accounts.create_account(
            ADMIN, "leader", PASSWORD, "", TOWN, ["org_leader"], at_county.id
        )
    assert err.value.rule == "scope.contains"
    with pytest.raises(InvalidArgument) as err:
        kit.app.accounts.create_account(
            ADMIN, "leader", PASSWORD, "", TOWN, ["org_leader"], str(uuid.uuid4())
        )
    assert err.value.rule == "organisation_id.exists"
    made = kit.app.accounts.create_account(
        ADMIN, "leader", PASSWORD, "", TOWN, ["org_leader"], at_town.id
    )
    assert made.organisation_id == at_town.id


def test_login_answers_alike_for_unknown_and_wrong_and_counts_failures(
    kit: Kit,
) -> None:
    made = kit.app.accounts.create_account(
        ADMIN, "xiaozhai", PASSWORD, "小寨", TOWN, ["reviewer"]
    )
    answers = []
    for username, password in (("xiaozhai", "wrong-pw-123"), ("nobody", PASSWORD)):
        with pytest.raises(Unauthenticated) as err:
            kit.app.accounts.login(username, password, "203.0.113.7")
        answers.append(str(err.value))
    assert answers[0] == answers[1]
    assert kit.guard.failures == [
        ["account:xiaozhai", "client:203.0.113.7"],
        ["account:nobody", "client:203.0.113.7"],
    ]
    token, expires, acc = kit.app.accounts.login("xiaozhai", PASSWORD, "203.0.113.7")
    claims = kit.verifier.verify(token)
    assert claims.expires_at == expires
    assert (claims.subject, claims.scope_code, claims.roles) == (
        made.id, TOWN, frozenset({"reviewer"}),
    )  # fmt: skip
    assert acc.display_name == "小寨"
    # The account had failures on record: the success clears them; a login
    # with none on record has nothing to clear.
    assert kit.guard.cleared == [["account:xiaozhai", "client:203.0.113.7"]]
    kit.app.accounts.login("xiaozhai", PASSWORD, "198.51.100.1")
    assert len(kit.guard.cleared) == 1
    made.active = False
    with pytest.raises(Unauthenticated):
        kit.app.accounts.login("xiaozhai", PASSWORD)


# -- divisions and settings ---------------------------------------------------------
OPERATOR = who("61", "operator")


def test_divisions_are_created_under_active_parents_once_with_history(
    kit: Kit,
) -> None:
    with pytest.raises(FailedPrecondition):
        kit.app.directory.create_division(OPERATOR, "610113002001", "某社区", "")
    with pytest.raises(AlreadyExists):
        kit.app.directory.create_division(OPERATOR, TOWN, "重复", "")
    with pytest.raises(PermissionDenied):
        kit.app.directory.create_division(
            ADMIN, "610113003", "新街道", ""
        )  # not an operator
    made = kit.app.directory.create_division(
        OPERATOR, "610113003", "新街道", "区划调整"
    )
    assert (made.level, made.parent_code, made.status) == (4, COUNTY, "active")
    ((kind, code, data),) = kit.uow.events
    assert (kind, code, data["kind"], data["name"]) == (
        "registration.division.changed", "610113003", "created", "新街道",
    )  # fmt: skip
    (change,) = kit.store.of(DivisionChange)
    assert (change.actor, change.reason) == (OPERATOR.username, "区划调整")


def test_retiring_names_an_active_successor_of_the_same_level(kit: Kit) -> None:
    with pytest.raises(InvalidArgument) as err:
        kit.app.directory.retire_division(OPERATOR, TOWN, OTHER, "合并")
    assert err.value.rule == "successor_code.same_level_active"
    with pytest.raises(InvalidArgument):
        kit.app.directory.retire_division(
            OPERATOR, TOWN, "610113002", "合并"
        )  # retired
    assert kit.store.of(DivisionChange) == [] and kit.uow.events == []
    kit.app.directory.create_division(OPERATOR, "610113003", "新街道", "")
    div = kit.app.directory.retire_division(OPERATOR, TOWN, "610113003", "合并")
    assert (div.status, div.successor_code) == ("retired", "610113003")
    assert kit.uow.events[-1][2]["successor_code"] == "610113003"
    with pytest.raises(FailedPrecondition):
        kit.app.directory.retire_division(OPERATOR, TOWN, "", "again")


def test_a_rename_is_seen_at_once_by_the_cached_division_reads(kit: Kit) -> None:
    assert kit.app.directory.get_division(ADMIN, TOWN)[0].name == "小寨路街道"
    (town,) = [d for d in kit.store.of(Division) if d.code == TOWN]
    kit.store.rows.remove(town)  # another replica renames it
    kit.store.put(division(TOWN, "changed behind the cache", COUNTY))
    assert kit.app.directory.get_division(ADMIN, TOWN)[0].name == "小寨路街道"  # cached
    kit.app.directory.rename_division(OPERATOR, TOWN, "小寨街道", "更名")
    div, chain = kit.app.directory.get_division(ADMIN, TOWN)
    assert div.name == "小寨街道"
    assert [d.code for d in chain] == ["61", "6101", COUNTY]
    assert kit.uow.events[-1][2] == {
        "code": TOWN, "kind": "renamed", "name": "小寨街道", "successor_code": "",
    }  # fmt: skip


def test_settings_override_inherit_and_announce_the_nodes_overrides(
    kit: Kit,
) -> None:
    kit.store.put(
        TenantSetting(division_code="61", key="hours.daily_cap", value_json="10")
    )
    got = kit.app.directory.update_settings(
        ADMIN, TOWN, {"hours.daily_cap": "6", "hours.rounding": '"chongqing"'}, []
    )
    rows = {key: (value, source) for key, value, source in got}
    assert rows["hours.daily_cap"] == ("6", TOWN)
    assert rows["hours.rounding"] == ('"chongqing"', TOWN)
    ((kind, code, data),) = kit.uow.events
    assert (kind, code) == ("registration.settings.changed", TOWN)
    assert data["overrides"] == {
        "hours.daily_cap": "6",
        "hours.rounding": '"chongqing"',
    }
    got = kit.app.directory.update_settings(ADMIN, TOWN, {}, ["hours.daily_cap"])
    rows = {key: (value, source) for key, value, source in got}
    assert rows["hours.daily_cap"] == ("10", "61")  # inherited again
    with pytest.raises(InvalidArgument) as err:
        kit.app.directory.update_settings(
            ADMIN, TOWN, {"hours.daily_cap": "8"}, ["nope"]
        )
    assert err.value.rule == "settings.known_key"
    with pytest.raises(PermissionDenied):
        kit.app.directory.update_settings(ADMIN, OTHER, {"hours.daily_cap": "8"}, [])
    assert len(kit.uow.events) == 2
    assert [r.value_json for r in kit.store.of(TenantSetting)] == ["10", '"chongqing"']
