"""Insurance cover through activity's use cases, in memory (the fakes of
``activity_fakes``): the tenant's policy, publishing refused without a cover
holding every session, bad input naming its field, the insurer's CSV.
The same rules run through gRPC and PostgreSQL in
tests/integration/test_activity_insurance.py."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from services.activity import insurance as rules
from services.activity import models as m
from services.activity.application import ActivityApp
from services.activity.insurance import RosterRow
from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.pii import PiiCipher
from tests.unit.activity_fakes import FakeRepository, FakeStore, unit_of_work
from tests.unit.test_activity_usecases import (
    ADMIN,
    COUNTY,
    MAY,
    NOW,
    ORG,
    SIBLING,
    org,
    raw,
    volunteer,
    who,
)

# MAY's session runs on 2026-05-20 (China time).
COVER = ("中国人民财产保险", "PEAC2026610113", "2026-05-01", "2026-05-31")


class Identities:
    """Registration's answer for the insurer's list, as the client gives it."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def identity(self, volunteer_id: str, number: str, purpose: str) -> RosterRow:
        self.asked.append((volunteer_id, purpose))
        return RosterRow(
            f"姓名{volunteer_id}", "resident_id", "6101**********001X", number
        )


class Kit:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.store.put(org(ORG, COUNTY), org("org-beilin", SIBLING))
        self.store.put(*(volunteer(f"v{i}") for i in range(1, 4)))
        self.uow = unit_of_work(self.store, NOW)
        self.names = Identities()
        self.app = ActivityApp(
            None,  # type: ignore[arg-type]  # no database: the fakes stand in
            PiiCipher(bytes(32)),
            self.uow.clock,
            uow=self.uow,
            repository=lambda work: FakeRepository(self.store, work.scope),  # type: ignore[arg-type,return-value]
            registration=self.names,
        )

    def approved(self, organisation: str = ORG, **over: Any) -> str:
        by = ADMIN if organisation == ORG else who(SIBLING, "tenant_admin")
        view = self.app.projects.create_project(by, organisation, raw(MAY, **over))
        ident = view.project.id
        self.app.projects.submit_project(by, ident)
        self.app.projects.approve_project(who(by.scope_code, "reviewer"), ident)
        return ident

    def status(self, ident: str) -> str:
        (p,) = [x for x in self.store.of(m.Project) if x.id == ident]
        return p.status

    def covers(self) -> list[m.InsuranceCover]:
        return self.store.of(m.InsuranceCover)

    def policy(self, code: str, fields: str) -> None:
        self.store.put(
            m.PolicyNode(
                division_code=code,
                overrides={rules.SETTING: fields},
                changed_at=NOW,
            )
        )


@pytest.fixture
def kit() -> Kit:
    return Kit()


# -- the tenant's policy and publishing ---------------------------------------
def test_an_emergency_project_is_refused_recruiting_without_cover(kit: Kit) -> None:
    ident = kit.approved(service_field="emergency")
    with pytest.raises(FailedPrecondition) as err:
        kit.app.projects.publish_project(ADMIN, ident)
    assert (err.value.field, err.value.rule) == ("insurance", "insurance.required")
    assert "保险" in err.value.message_zh and "insurance" in err.value.message_en
    assert kit.status(ident) == "approved"
    assert kit.uow.events == []  # nothing announced, nothing counted
    kit.app.insurance.set_cover(ADMIN, ident, *COVER)
    assert kit.app.projects.publish_project(ADMIN, ident).project.status == (
        "recruiting"
    )


def test_a_field_outside_the_policy_recruits_without_cover(kit: Kit) -> None:
    ident = kit.approved(service_field="elderly_care")
    assert kit.app.projects.publish_project(ADMIN, ident).project.status == (
        "recruiting"
    )


def test_a_cover_that_does_not_hold_the_sessions_is_refused(kit: Kit) -> None:
    ident = kit.approved(service_field="large_events")
    kit.app.insurance.set_cover(
        ADMIN, ident, COVER[0], COVER[1], "2026-05-01", "2026-05-19"
    )
    with pytest.raises(FailedPrecondition) as err:
        kit.app.projects.publish_project(ADMIN, ident)
    assert (err.value.field, err.value.rule) == ("insurance", "insurance.period")
    assert "2026-05-20" in err.value.message_en
    assert kit.status(ident) == "approved"


def test_the_policy_is_inherited_and_overridden_down_the_tree(kit: Kit) -> None:
    # The city adds elderly care; the county drops every field.
    kit.policy("6101", '["elderly_care"]')
    care = kit.approved(service_field="elderly_care")
    with pytest.raises(FailedPrecondition):
        kit.app.projects.publish_project(ADMIN, care)
    view = kit.app.insurance.get_cover(ADMIN, care)
    assert (view.required, view.cover, view.covers_sessions) == (True, None, False)
    kit.policy(COUNTY, "[]")
    rescue = kit.approved(service_field="emergency")
    assert kit.app.projects.publish_project(ADMIN, rescue).project.status == (
        "recruiting"
    )


def test_replacing_keeps_the_old_cover_as_history(kit: Kit) -> None:
    ident = kit.approved(service_field="emergency")
    kit.app.insurance.set_cover(ADMIN, ident, *COVER)
    view = kit.app.insurance.set_cover(ADMIN, ident, "中国人寿", "GL-2", *COVER[2:])
    assert view.cover is not None and view.cover.insurer == "中国人寿"
    assert (view.required, view.covers_sessions) == (True, True)
    old, new = sorted(kit.covers(), key=lambda c: c.replaced_at is None)
    assert old.policy_number == "PEAC2026610113" and old.replaced_at == NOW
    assert new.replaced_at is None


def test_a_recruiting_project_keeps_a_cover_that_holds_it(kit: Kit) -> None:
    ident = kit.approved(service_field="emergency")
    kit.app.insurance.set_cover(ADMIN, ident, *COVER)
    kit.app.projects.publish_project(ADMIN, ident)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.insurance.set_cover(
            ADMIN, ident, "人保", "P2", "2026-06-01", "2026-06-30"
        )
    assert err.value.rule == "insurance.period"
    assert [c.policy_number for c in kit.covers()] == ["PEAC2026610113"]
    assert kit.covers()[0].replaced_at is None


# -- scope ------------------------------------------------------------
@pytest.mark.parametrize(
    "caller",
    [
        who(SIBLING, "tenant_admin"),  # a neighbour
        who("610103001", "tenant_admin"),  # below the neighbour
        who("610113001", "tenant_admin"),  # the project's child township
    ],
)
def test_another_tenants_project_is_not_found_and_nothing_written(
    kit: Kit, caller: Any
) -> None:
    ident = kit.approved(service_field="emergency")
    for call in (
        lambda: kit.app.insurance.set_cover(caller, ident, *COVER),
        lambda: kit.app.insurance.get_cover(caller, ident),
        lambda: kit.app.insurance.covered(caller, ident, 0, ""),
        lambda: kit.app.insurance.roster(caller, ident),
    ):
        with pytest.raises(NotFound) as err:
            call()
        assert err.value.field == "project_id"
    assert kit.covers() == [] and kit.names.asked == []


def test_an_ancestor_records_cover_and_a_leader_only_for_its_own(kit: Kit) -> None:
    ident = kit.approved(service_field="emergency")
    kit.app.insurance.set_cover(who("61", "province_admin"), ident, *COVER)
    other = who(COUNTY, "org_leader", organisation="org-else")
    with pytest.raises(PermissionDenied):
        kit.app.insurance.set_cover(other, ident, "人保", "P3", *COVER[2:])
    with pytest.raises(PermissionDenied):
        kit.app.insurance.set_cover(who(COUNTY, "reviewer"), ident, *COVER)
    assert [c.policy_number for c in kit.covers()] == ["PEAC2026610113"]


# -- bad input ------------------------------------------------------------
@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [
        ({"policy_number": ""}, "policy_number", "policy_number.required"),
        ({"policy_number": "  "}, "policy_number", "policy_number.required"),
        ({"policy_number": "P" * 51}, "policy_number", "policy_number.max_length"),
        ({"policy_number": "PA\r001"}, "policy_number", "policy_number.characters"),
        ({"policy_number": "PA 001"}, "policy_number", "policy_number.format"),
        ({"policy_number": "保单001"}, "policy_number", "policy_number.format"),
        ({"insurer": ""}, "insurer", "insurer.required"),
        ({"insurer": "人保\r财险"}, "insurer", "insurer.characters"),
        ({"insurer": "险" * 101}, "insurer", "insurer.max_length"),
        ({"starts_on": ""}, "starts_on", "starts_on.required"),
        ({"starts_on": "2026/05/01"}, "starts_on", "starts_on.format"),
        ({"ends_on": "2026-02-30"}, "ends_on", "ends_on.format"),
        ({"ends_on": "2026-04-30"}, "ends_on", "ends_on.after_start"),
    ],
)
def test_bad_cover_names_field_and_rule_and_writes_nothing(
    kit: Kit, over: dict[str, str], field: str, rule: str
) -> None:
    ident = kit.approved(service_field="emergency")
    values = dict(
        zip(("insurer", "policy_number", "starts_on", "ends_on"), COVER, strict=True)
    )
    values.update(over)
    with pytest.raises(InvalidArgument) as err:
        kit.app.insurance.set_cover(ADMIN, ident, **values)
    assert (err.value.field, err.value.rule) == (field, rule)
    assert err.value.message_en and err.value.message_zh
    assert kit.covers() == []


def test_full_width_policy_numbers_become_ascii(kit: Kit) -> None:
    ident = kit.approved(service_field="emergency")
    view = kit.app.insurance.set_cover(
        ADMIN, ident, "人保", "ｐｅａｃ－２０２６－００１", *COVER[2:]
    )
    assert view.cover is not None and view.cover.policy_number == "PEAC-2026-001"


def test_a_bad_project_id_names_its_field(kit: Kit) -> None:
    with pytest.raises(InvalidArgument) as err:
        kit.app.insurance.set_cover(ADMIN, "not-an-id", *COVER)
    assert (err.value.field, err.value.rule) == ("project_id", "project_id.format")


# -- the insurer's list ------------------------------------------------------------
def test_the_insurers_csv_lists_the_confirmed_volunteers(kit: Kit) -> None:
    ident = kit.approved(service_field="emergency", title="=防汛值守")
    kit.app.insurance.set_cover(ADMIN, ident, *COVER)
    view = kit.app.projects.publish_project(ADMIN, ident)
    session = view.sessions[0].id
    kit.uow.set_clock(NOW.replace(day=10))
    for vid in ("v1", "v2", "v3"):
        kit.app.signups.sign_up(ADMIN, session, vid)  # capacity 2: v3 waits
    page = kit.app.insurance.covered(ADMIN, ident, 0, "")
    assert (page.items, page.total) == ([("v1", "N-v1", 1), ("v2", "N-v2", 1)], 2)
    body = kit.app.insurance.roster(ADMIN, ident)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(rules.CSV_HEADER)
    assert rows[1] == [
        "姓名v1", "居民身份证", "6101**********001X", "N-v1", "'=防汛值守",
        COVER[0], COVER[1], COVER[2], COVER[3],
    ]  # fmt: skip
    assert [r[3] for r in rows[1:]] == ["N-v1", "N-v2"]
    assert kit.names.asked == [("v1", "insurance"), ("v2", "insurance")]


def test_no_cover_no_list(kit: Kit) -> None:
    ident = kit.approved(service_field="elderly_care")
    with pytest.raises(FailedPrecondition) as err:
        kit.app.insurance.roster(ADMIN, ident)
    assert err.value.field == "insurance"
    assert kit.names.asked == []
