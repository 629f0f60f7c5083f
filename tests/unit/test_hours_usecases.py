"""Hours' rules through its use cases, in memory: the kernel's fake unit of
work (events kept in a list, dropped when a unit raises, as the rows are)
and an in-memory repository (``hours_fakes``). The same rules are proven
through gRPC and PostgreSQL in the integration tier; here each runs in
milliseconds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.common.auth import Principal
from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.unit_of_work import TransactionalFakeUnitOfWork
from services.hours.application import Draft, HoursApp
from services.hours.domain import Interval
from services.hours.lines_client import LineSource
from services.hours.models import (
    BankEntry,
    BankTransaction,
    Certificate,
    Correction,
    HourRecord,
)
from services.hours.registration_client import Identity
from tests.unit.hours_fakes import FakeRepository, FakeStore

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 in China
MORNING = datetime(2026, 5, 5, 1, 0, tzinfo=UTC)  # 09:00 the day before
TOWN = "610113001"  # a township of Yanta district (610113), Xi'an
COUNTY = "610113"
ELSEWHERE = "620102001"  # a township in Gansu: another tenant
VID = "00000000-0000-4000-8000-000000000001"  # volunteer ids are UUIDs
VID2 = "00000000-0000-4000-8000-000000000002"
ORG = "00000000-0000-4000-8000-0000000000a1"
OTHER_ORG = "00000000-0000-4000-8000-0000000000a2"
CONSUMER = "hours.attendance"
MONTH = "2026-05"


class FakeRegistration:
    """Registration's answers, and who asked what (a name's reveal is logged
    there, so a refusal must come before it)."""

    remote = None

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.asked: list[tuple[str, str]] = []

    def volunteer(self, volunteer_id: str) -> tuple[str, str]:
        self.asked.append(("volunteer", volunteer_id))
        return f"N-{volunteer_id}", self.status.get(volunteer_id, "verified")

    def identity(self, volunteer_id: str, purpose: str) -> Identity:
        self.asked.append(("identity", volunteer_id))
        return Identity(f"N-{volunteer_id}", "张三丰", "resident_id", "1101**2X")


@dataclass
class Kit:
    store: FakeStore
    uow: TransactionalFakeUnitOfWork
    registration: FakeRegistration
    app: HoursApp

    def types(self) -> list[str]:
        return [t for t, _, _ in self.uow.events]

    def records(self, status: str | None = None) -> list[HourRecord]:
        rows = self.store.of(HourRecord)
        return [r for r in rows if status is None or r.status == status]

    def counted(self, metric: str, code: str = TOWN) -> Decimal:
        return self.store.rollup.get((code, MONTH, metric), Decimal(0))

    def ingest(self, d: Draft, event_id: str = "") -> HourRecord | None:
        return self.app.records.ingest(CONSUMER, event_id or str(uuid.uuid4()), d)


def make_kit(lines: LineSource | None = None) -> Kit:
    """The app over the in-memory fakes (``lines``: a certificate's training
    and awards source, for the certificate-lines tests)."""
    store = FakeStore()
    uow = TransactionalFakeUnitOfWork(store, NOW)
    registration = FakeRegistration()
    fake = lambda work: FakeRepository(store, work.scope)  # noqa: E731
    app = HoursApp(
        None,  # type: ignore[arg-type]  # no database: the fakes stand in
        registration,  # type: ignore[arg-type]
        uow.clock,
        uow=uow,
        repository=fake,  # type: ignore[arg-type]
        bank_repository=fake,  # type: ignore[arg-type]
        lines=lines,
    )
    return Kit(store, uow, registration, app)


@pytest.fixture
def kit() -> Kit:
    return make_kit()


def who(scope: str = COUNTY, *roles: str, org: str = "") -> Principal:
    roles = roles or ("tenant_admin",)
    return Principal(f"s-{scope}", f"u-{scope}", scope, frozenset(roles), 0, "", org)


def draft(
    start: datetime = MORNING,
    minutes: int = 60,
    vid: str = VID,
    code: str = TOWN,
    kind: str = "service",
    counted: bool = True,
) -> Draft:
    end = start + timedelta(minutes=minutes)
    return Draft(
        "attendance", str(uuid.uuid4()), vid, f"N-{vid}", code, ORG,
        "雁塔区志愿者协会", "elderly_care", kind, "重阳敬老", start, end,
        Interval(start, end) if counted else None, "system",
    )  # fmt: skip


def approved(kit: Kit, minutes: int = 180, start: datetime = MORNING) -> HourRecord:
    record = kit.ingest(draft(start, minutes))
    assert record is not None and record.status == "pending"
    kit.app.review.approve(who(), record.id)
    return record


def honour(kit: Kit, p: Principal | None = None, **given: object) -> HourRecord:
    args: dict[str, object] = {
        "volunteer_id": VID, "code": TOWN, "org_id": "", "org_name": "雁塔区",
        "field": "elderly_care", "content": "重阳敬老",
        "start": "2026-05-05T09:00:00+08:00", "end": "2026-05-05T12:00:00+08:00",
        "amount": 2.5, "reason": "签到设备故障",
    }  # fmt: skip
    args.update(given)
    record, _ = kit.app.records.record_honour(p or who(), **args)  # type: ignore[arg-type]
    return record


# -- records from events: policy, overlap, daily cap ------------------------------
def test_an_event_is_applied_once_with_the_tenants_rounding(kit: Kit) -> None:
    kit.store.set_policy(COUNTY, **{"hours.rounding": "chongqing"})
    d = draft(minutes=50)
    record = kit.ingest(d, "e-1")
    assert record is not None and record.status == "pending"
    assert (record.rounding, record.hours) == ("chongqing", Decimal("1.00"))
    assert kit.ingest(d, "e-1") is None  # redelivered
    assert kit.ingest(d, "e-2") is None  # the same check-out announced twice
    assert len(kit.records()) == 1
    assert kit.uow.events == [] and kit.store.rollup == {}  # pending counts nothing


def test_a_donation_is_stored_rejected_with_no_hours(kit: Kit) -> None:
    record = kit.ingest(draft(kind="donation"))
    assert record is not None
    assert (record.status, record.status_reason) == ("rejected", "excluded_kind")
    assert record.hours == 0 and "捐赠" in record.note


def test_time_outside_the_session_or_rounded_away_counts_nothing(kit: Kit) -> None:
    outside = kit.ingest(draft(counted=False))
    kit.store.set_policy(COUNTY, **{"hours.rounding": "chongqing"})
    short = kit.ingest(draft(MORNING + timedelta(hours=2), minutes=10))
    assert outside is not None and short is not None
    assert [outside.status_reason, short.status_reason] == ["no_service_time"] * 2
    assert (short.rounded_hours, short.hours) == (Decimal("0.00"), Decimal(0))


def test_overlapping_time_is_refused_but_touching_time_is_not(kit: Kit) -> None:
    first = kit.ingest(draft(minutes=60))
    over = kit.ingest(draft(MORNING + timedelta(minutes=30), minutes=60))
    after = kit.ingest(draft(MORNING + timedelta(minutes=60), minutes=60))
    assert first is not None and over is not None and after is not None
    assert (over.status, over.status_reason) == ("rejected", "overlap")
    assert (after.status, after.hours) == ("pending", Decimal("1.00"))


def test_an_overlap_in_another_tenant_counts_too(kit: Kit) -> None:
    kit.ingest(draft(code=ELSEWHERE, minutes=60))
    here = kit.ingest(draft(minutes=60))
    assert here is not None and here.status_reason == "overlap"


def test_the_daily_cap_credits_what_fits_and_refuses_the_rest(kit: Kit) -> None:
    kit.store.set_policy("6101", **{"hours.daily_cap": 8})  # set by the city
    five = kit.ingest(draft(minutes=300))
    more = kit.ingest(draft(MORNING + timedelta(hours=5), minutes=300))
    full = kit.ingest(draft(MORNING + timedelta(hours=10), minutes=60))
    assert five is not None and more is not None and full is not None
    assert (more.rounded_hours, more.hours, more.capped_hours) == (
        Decimal("5.00"),
        Decimal("3.00"),
        Decimal("2.00"),
    )
    assert more.status == "pending" and "每日上限 8.00" in more.note
    assert (full.status, full.status_reason, full.hours) == (
        "rejected",
        "daily_cap",
        Decimal(0),
    )


def test_a_batch_sees_its_own_records_and_locks_volunteers_in_order(kit: Kit) -> None:
    items = [
        ("e-1", draft(vid=VID2, minutes=60)),
        ("e-2", draft(vid=VID, minutes=60)),
        ("e-3", draft(vid=VID2, start=MORNING + timedelta(minutes=30))),
    ]
    first, second, third = kit.app.records.ingest_batch(CONSUMER, items)
    assert kit.store.locked[:2] == [VID, VID2]  # before any record
    assert first is not None and second is not None and third is not None
    assert [first.status, second.status] == ["pending", "pending"]
    assert third.status_reason == "overlap"  # against the batch's own first
    assert kit.app.records.ingest_batch(CONSUMER, items) == [None, None, None]


def test_a_failing_batch_writes_nothing(kit: Kit) -> None:
    good = ("e-1", draft())
    backwards = replace(draft(), interval=Interval(MORNING, MORNING - timedelta(1)))
    with pytest.raises(ValueError, match="negative"):
        kit.app.records.ingest_batch(CONSUMER, [good, ("e-2", backwards)])
    assert kit.records() == [] and kit.store.claimed == set()
    [record] = kit.app.records.ingest_batch(CONSUMER, [good])
    assert record is not None and record.status == "pending"


# -- honour hours (by hand) --------------------------------------------------------
def test_honour_hours_are_manual_and_a_repeated_request_answers_the_first(
    kit: Kit,
) -> None:
    record = honour(kit, request_id="r-1")
    again, created = kit.app.records.record_honour(
        who(), VID, TOWN, "", "雁塔区", "elderly_care", "重阳敬老",
        "2026-05-05T09:00:00+08:00", "2026-05-05T12:00:00+08:00", 2.5,
        "签到设备故障", request_id="r-1",
    )  # fmt: skip
    assert (again, created) == (record, False)
    assert (record.status, record.rounding, record.hours) == (
        "pending",
        "manual",
        Decimal("2.50"),
    )
    assert record.source == "honour" and "补录：签到设备故障" in record.note
    assert len(kit.records()) == 1


def test_honour_hours_never_exceed_the_session(kit: Kit) -> None:
    with pytest.raises(InvalidArgument) as err:
        honour(kit, amount=3.5)  # the session lasted 3 hours
    assert (err.value.field, err.value.rule) == ("hours", "hours.max")
    assert kit.records() == [] and kit.registration.asked == []


def test_only_verified_volunteers_receive_honour_hours(kit: Kit) -> None:
    kit.registration.status[VID] = "pending"
    with pytest.raises(FailedPrecondition) as err:
        honour(kit)
    assert err.value.rule == "volunteer.verified" and kit.records() == []


def test_an_overlapping_honour_request_is_refused_and_writes_nothing(
    kit: Kit,
) -> None:
    kit.ingest(draft(MORNING, minutes=60))
    with pytest.raises(FailedPrecondition) as err:
        honour(kit)
    assert (err.value.field, err.value.rule) == ("session_start", "record.overlap")
    assert len(kit.records()) == 1


def test_honour_hours_outside_the_callers_scope_are_refused(kit: Kit) -> None:
    with pytest.raises(PermissionDenied):
        honour(kit, code=ELSEWHERE)
    with pytest.raises(PermissionDenied):
        honour(kit, who(COUNTY, "reviewer"))  # reviewers read, never record
    assert kit.records() == [] and kit.registration.asked == []


# -- review ------------------------------------------------------------------------
def test_approval_counts_the_record_and_announces_the_platform_total(
    kit: Kit,
) -> None:
    kit.ingest(draft(code=ELSEWHERE, start=MORNING - timedelta(days=1)))
    [there] = kit.records()
    kit.app.review.approve(who("62"), there.id)  # an hour in Gansu
    record = approved(kit, minutes=180)
    assert (record.status, record.reviewed_by) == ("approved", "u-610113")
    assert record.reviewed_at == NOW
    assert (kit.counted("hours"), kit.counted("records")) == (Decimal(3), 1)
    event_type, code, data = kit.uow.events[-1]
    assert (event_type, code) == ("hours.record.approved", TOWN)
    assert (data["hours"], data["volunteer_total_hours"]) == (3.0, 4.0)
    assert VID in kit.store.locked


def test_a_record_is_reviewed_once(kit: Kit) -> None:
    record = approved(kit)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.review.approve(who(), record.id)
    assert err.value.rule == "state.transition"
    with pytest.raises(FailedPrecondition):
        kit.app.review.reject(who(), record.id, "重复")
    assert kit.types() == ["hours.record.approved"]
    assert kit.counted("records") == 1


def test_a_rejected_record_counts_nothing_and_cannot_be_approved(kit: Kit) -> None:
    record = kit.ingest(draft())
    assert record is not None
    kit.app.review.reject(who(), record.id, "未实际参加")
    assert (record.status, record.status_reason) == ("rejected", "未实际参加")
    with pytest.raises(FailedPrecondition):
        kit.app.review.approve(who(), record.id)
    assert kit.uow.events == [] and kit.store.rollup == {}


def test_another_tenants_record_is_not_found_like_an_unknown_one(kit: Kit) -> None:
    record = kit.ingest(draft(code=ELSEWHERE))
    assert record is not None
    for ident in (record.id, str(uuid.uuid4())):
        with pytest.raises(NotFound) as err:
            kit.app.review.approve(who(), ident)
        assert (err.value.field, err.value.rule) == ("id", "id.exists")
    assert record.status == "pending"


def test_an_org_leader_reviews_only_its_own_organisations_hours(kit: Kit) -> None:
    record = kit.ingest(draft())
    assert record is not None
    with pytest.raises(PermissionDenied):
        kit.app.review.approve(who(COUNTY, "org_leader", org=OTHER_ORG), record.id)
    assert record.status == "pending" and kit.uow.events == []
    kit.app.review.approve(who(COUNTY, "org_leader", org=ORG), record.id)
    assert record.status == "approved"


# -- corrections: new entries, never an edit -----------------------------------
def test_an_amendment_is_a_new_entry_and_moves_the_rollup_by_the_delta(
    kit: Kit,
) -> None:
    record = approved(kit, minutes=180)
    _, fix, now = kit.app.review.correct(who(), record.id, 2.0, False, "提前离开")
    assert (record.status, record.hours) == ("approved", Decimal("3.00"))
    assert (fix.kind, fix.previous_hours, fix.delta_hours) == (
        "amend",
        Decimal("3.00"),
        Decimal("-1.00"),
    )
    assert now == Decimal("2.00") and kit.store.of(Correction) == [fix]
    assert (kit.counted("hours"), kit.counted("records")) == (Decimal(2), 1)
    event_type, _, data = kit.uow.events[-1]
    assert event_type == "hours.record.corrected"
    assert (data["delta_hours"], data["volunteer_total_hours"]) == (-1.0, 2.0)


def test_a_reversal_counts_the_record_out_and_ends_its_corrections(
    kit: Kit,
) -> None:
    record = approved(kit, minutes=180)
    kit.app.review.correct(who(), record.id, 2.0, False, "提前离开")
    kit.app.review.correct(who(), record.id, None, True, "未实际参加")
    assert record.status == "reversed"
    assert (kit.counted("hours"), kit.counted("records")) == (Decimal(0), 0)
    assert kit.uow.events[-1][2]["volunteer_total_hours"] == 0.0
    with pytest.raises(FailedPrecondition):
        kit.app.review.correct(who(), record.id, 1.0, False, "再改")


@pytest.mark.parametrize(
    ("new_hours", "reverse", "rule"),
    [
        (None, False, "change.required"),
        (3.5, False, "new_hours.max"),  # more than the 3 hours served
        (3.0, False, "new_hours.unchanged"),
    ],
)
def test_an_amendment_is_checked_and_a_refused_one_writes_nothing(
    kit: Kit, new_hours: float | None, reverse: bool, rule: str
) -> None:
    record = approved(kit, minutes=180)
    with pytest.raises(InvalidArgument) as err:
        kit.app.review.correct(who(), record.id, new_hours, reverse, "改")
    assert err.value.rule == rule
    assert kit.store.of(Correction) == [] and kit.types() == ["hours.record.approved"]


def test_raising_hours_respects_the_daily_cap(kit: Kit) -> None:
    kit.store.set_policy(COUNTY, **{"hours.daily_cap": 4})
    record = approved(kit, minutes=180)
    kit.app.review.correct(who(), record.id, 2.0, False, "提前离开")
    kit.ingest(draft(MORNING + timedelta(hours=4), minutes=120))  # 2 h pending
    with pytest.raises(InvalidArgument) as err:
        kit.app.review.correct(who(), record.id, 3.0, False, "核实后恢复")
    assert err.value.rule == "new_hours.daily_cap"
    kit.app.review.correct(who(), record.id, 1.5, False, "再核")  # lowering is fine
    assert kit.counted("hours") == Decimal("1.5")


# -- the time bank -------------------------------------------------------------------
def test_deposits_follow_the_records_effective_hours_exactly_once(kit: Kit) -> None:
    kit.store.set_policy(COUNTY, **{"timebank.deposit_ratio": 0.5})
    record = approved(kit, minutes=240)
    kit.app.bank.reconcile("hours.bank", "e-approved", record.id, TOWN)
    kit.app.bank.reconcile("hours.bank", "e-approved", record.id, TOWN)  # redelivered
    repo = FakeRepository(kit.store, None).within(COUNTY)
    account = repo.account(COUNTY, VID)
    assert repo.balance(account.id) == Decimal("2.00")
    assert repo.balance(repo.account(COUNTY, "").id) == Decimal("-2.00")
    kit.app.review.correct(who(), record.id, 3.0, False, "提前离开")
    kit.app.bank.reconcile("hours.bank", "e-corrected", record.id, TOWN)
    assert repo.balance(account.id) == Decimal("1.50")
    kinds = [t.kind for t in kit.store.of(BankTransaction)]
    assert kinds == ["deposit", "adjustment"]
    assert sum((e.amount for e in kit.store.of(BankEntry)), Decimal(0)) == 0


def test_a_withdrawal_never_exceeds_the_balance_and_is_idempotent(kit: Kit) -> None:
    record = approved(kit, minutes=120)
    kit.app.bank.reconcile("hours.bank", "e-1", record.id, TOWN)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.bank.withdraw(who(), VID, COUNTY, 2.5, "理发服务", "w-1")
    assert err.value.rule == "timebank.balance"
    assert [t.kind for t in kit.store.of(BankTransaction)] == ["deposit"]
    tx, legs, left = kit.app.bank.withdraw(who(), VID, COUNTY, 1.5, "理发服务", "w-2")
    again, legs_again, left_again = kit.app.bank.withdraw(
        who(), VID, COUNTY, 1.5, "理发服务", "w-2"
    )
    assert (again.id, legs_again) == (tx.id, legs)
    assert left == left_again == Decimal("0.50")
    assert len(kit.store.of(BankTransaction)) == 2


def test_a_clawback_never_takes_the_balance_below_zero(kit: Kit) -> None:
    record = approved(kit, minutes=120)
    kit.app.bank.reconcile("hours.bank", "e-1", record.id, TOWN)
    kit.app.bank.withdraw(who(), VID, COUNTY, 1.5, "理发服务", "w-1")
    kit.app.review.correct(who(), record.id, None, True, "未实际参加")
    kit.app.bank.reconcile("hours.bank", "e-2", record.id, TOWN)
    repo = FakeRepository(kit.store, None).within(COUNTY)
    assert repo.balance(repo.account(COUNTY, VID).id) == Decimal(0)
    clawback = kit.store.of(BankTransaction)[-1]
    assert clawback.kind == "adjustment" and "1.50 小时已兑换" in clawback.description


# -- certificates -----------------------------------------------------------------
def test_no_certificate_without_approved_hours_and_no_name_revealed(
    kit: Kit,
) -> None:
    kit.ingest(draft())  # pending only
    with pytest.raises(FailedPrecondition) as err:
        kit.app.certificates.issue(
            who(), VID, ("", ""), "", "", "雁塔区", "王主任", "", "029"
        )
    assert err.value.rule == "certificate.no_hours"
    assert kit.registration.asked == [] and kit.store.of(Certificate) == []


def test_a_certificate_certifies_effective_hours_and_is_revoked_once(
    kit: Kit,
) -> None:
    record = approved(kit, minutes=180)
    kit.app.review.correct(who(), record.id, 2.0, False, "提前离开")
    # 谁记录谁证明: the recording organisation issues, under its own name.
    cert = kit.app.certificates.issue(
        who(), VID, ("", ""), "", ORG, "", "王主任", "", "029"
    )
    assert cert.hours == Decimal("2.00") and cert.number.startswith("ZYC-61-2026-")
    assert cert.name_masked != "张三丰" and cert.issuer_name == "雁塔区志愿者协会"
    assert cert.pdf.startswith(b"%PDF")
    assert kit.types()[-1] == "hours.certificate.issued"
    assert kit.app.certificates.verify(cert.number)["status"] == "valid"
    kit.app.certificates.revoke(who(), cert.number, "信息有误")
    assert kit.app.certificates.verify(cert.number)["status"] == "revoked"
    with pytest.raises(FailedPrecondition):
        kit.app.certificates.revoke(who(), cert.number, "再撤")


# -- the policy replica -------------------------------------------------------------
def test_an_older_policy_change_does_not_overwrite_a_newer_one(kit: Kit) -> None:
    newer, older = NOW, NOW - timedelta(hours=1)
    half = {"hours.rounding": '"half_hour"'}
    assert kit.app.policy.replicate("hours.settings", "e-2", COUNTY, half, newer)
    exact = {"hours.rounding": '"exact"'}
    assert not kit.app.policy.replicate("hours.settings", "e-1", COUNTY, exact, older)
    assert not kit.app.policy.replicate("hours.settings", "e-2", COUNTY, half, newer)
    record = kit.ingest(draft(minutes=50))
    assert record is not None and record.hours == Decimal("1.00")  # half hours
