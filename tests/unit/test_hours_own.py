"""A volunteer's own objections and certificates through hours' use cases,
in memory (the fakes of ``hours_fakes``; the integration and security tiers
prove the same on PostgreSQL through gRPC): an objection lands under the
record's division, only on the volunteer's own record, one open at a time,
and the office resolves it through the correction path or dismisses it;
a certificate of the volunteer's own hours is issued at its home."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.hours.models import Certificate, Correction, Objection
from tests.unit.test_hours_usecases import (
    ELSEWHERE,
    MORNING,
    NOW,
    TOWN,
    VID,
    VID2,
    Kit,
    approved,
    draft,
    kit,
    who,
)

__all__ = ["kit"]  # the fixture, used by name
HOME = "610113002"  # the volunteer's home township, beside TOWN


def me(vid: str = VID, home: str = HOME) -> Principal:
    """A volunteer's own account (role volunteer, claim vol)."""
    return Principal(f"a-{vid}", f"N-{vid}", home, frozenset({"volunteer"}), 0,
                     volunteer_id=vid)  # fmt: skip


def test_an_objection_lands_with_the_records_office(kit: Kit) -> None:
    record = approved(kit)
    found = kit.app.objections.file(me(), record.id, "  实际服务两小时  ")
    assert (found.division_code, found.status, found.reason) == (
        TOWN,
        "open",
        "实际服务两小时",
    )
    assert found.volunteer_id == VID and found.filed_at == NOW
    assert kit.uow.events[-1][:2] == ("hours.objection.filed", TOWN)
    assert VID in kit.store.locked  # filings of one volunteer are serialised


def test_an_objection_in_another_tenant_is_filed_by_the_volunteer_id(kit: Kit) -> None:
    record = kit.ingest(draft(code=ELSEWHERE))
    assert record is not None
    assert kit.app.objections.file(me(), record.id, "不是我").division_code == ELSEWHERE


def test_anothers_record_is_not_found_and_nothing_is_written(kit: Kit) -> None:
    theirs = kit.ingest(draft(vid=VID2))
    assert theirs is not None
    for ident in (theirs.id, "00000000-0000-4000-8000-00000000ffff"):
        with pytest.raises(NotFound) as err:
            kit.app.objections.file(me(), ident, "不对")
        assert err.value.field == "record_id"
    assert kit.store.of(Objection) == [] and "hours.objection.filed" not in kit.types()


def test_one_open_objection_a_record(kit: Kit) -> None:
    record = approved(kit)
    first = kit.app.objections.file(me(), record.id, "少计")
    with pytest.raises(AlreadyExists) as err:
        kit.app.objections.file(me(), record.id, "还是少计")
    assert err.value.rule == "objection.open"
    kit.app.objections.resolve(who(), first.id, "dismissed", "记录无误")
    assert kit.app.objections.file(me(), record.id, "有照片").status == "open"


@pytest.mark.parametrize(
    ("reason", "rule"),
    [("", "reason.required"), ("长" * 501, "reason.max_length"),
     ("a\x00b", "reason.characters"), ("\x1b[31m", "reason.characters")],
)  # fmt: skip
def test_a_bad_reason_names_the_field(kit: Kit, reason: str, rule: str) -> None:
    record = approved(kit)
    with pytest.raises(InvalidArgument) as err:
        kit.app.objections.file(me(), record.id, reason)
    assert (err.value.field, err.value.rule) == ("reason", rule)
    assert kit.store.of(Objection) == []


def test_only_a_volunteers_own_account_files(kit: Kit) -> None:
    record = approved(kit)
    office_with_claim = Principal("s", "u", HOME, frozenset({"tenant_admin"}), 0,
                                  volunteer_id=VID)  # fmt: skip
    for p in (who(), who(HOME, "volunteer"), office_with_claim):
        with pytest.raises(PermissionDenied):
            kit.app.objections.file(p, record.id, "少计")
    assert kit.store.of(Objection) == []


def test_corrected_with_new_hours_is_the_correction_path(kit: Kit) -> None:
    record = approved(kit, minutes=180)
    found = kit.app.objections.file(me(), record.id, "只服务了两小时")
    done, fix = kit.app.objections.resolve(who(), found.id, "corrected", "核实", 2.0)
    assert fix is not None and (fix.delta_hours, fix.reason) == (
        Decimal("-1.00"),
        "核实",
    )
    assert done.correction_id == fix.id and done.resolved_by == "u-610113"
    assert kit.types()[-2:] == ["hours.record.corrected", "hours.objection.resolved"]
    # The correction path's own rules hold: no more than served.
    found = kit.app.objections.file(me(), record.id, "再核")
    with pytest.raises(InvalidArgument) as err:
        kit.app.objections.resolve(who(), found.id, "corrected", "核实", 5.0)
    assert err.value.rule == "new_hours.max"
    assert kit.store.of(Objection)[-1].status == "open"
    assert len(kit.store.of(Correction)) == 1


def test_corrected_without_a_change_links_the_correction_made_since(kit: Kit) -> None:
    record = approved(kit, minutes=180)
    found = kit.app.objections.file(me(), record.id, "多计")
    with pytest.raises(FailedPrecondition) as err:
        kit.app.objections.resolve(who(), found.id, "corrected", "已更正")
    assert err.value.rule == "objection.correction_required"
    kit.uow.set_clock(NOW + timedelta(minutes=5))
    _, fix, _ = kit.app.review.correct(who(), record.id, None, True, "未参加")
    done, linked = kit.app.objections.resolve(who(), found.id, "corrected", "已撤销")
    assert linked is fix and done.correction_id == fix.id


def test_a_dismissal_changes_no_hours_and_happens_once(kit: Kit) -> None:
    record = approved(kit)
    found = kit.app.objections.file(me(), record.id, "多计")
    with pytest.raises(InvalidArgument) as err:
        kit.app.objections.resolve(who(), found.id, "dismissed", "x", reverse=True)
    assert err.value.field == "reverse"
    done, fix = kit.app.objections.resolve(who(), found.id, "dismissed", "记录无误")
    assert (done.status, done.resolution_note, fix) == ("dismissed", "记录无误", None)
    with pytest.raises(FailedPrecondition):
        kit.app.objections.resolve(who(), found.id, "corrected", "改", 1.0)
    assert kit.store.of(Correction) == []


def test_an_office_outside_the_records_division_cannot_resolve(kit: Kit) -> None:
    record = approved(kit)
    found = kit.app.objections.file(me(), record.id, "多计")
    for p in (who("610103"), who("610113002"), who("620102")):
        with pytest.raises(NotFound):
            kit.app.objections.resolve(p, found.id, "dismissed", "无误")
    with pytest.raises(PermissionDenied):
        kit.app.objections.resolve(
            who("610113", "reviewer"), found.id, "dismissed", "无误"
        )
    assert found.status == "open"
    kit.app.objections.resolve(who("6101"), found.id, "dismissed", "无误")
    assert found.status == "dismissed"


def test_my_certificate_is_issued_at_home_for_my_hours_everywhere(kit: Kit) -> None:
    approved(kit, minutes=180)  # 3 h in TOWN
    away = kit.ingest(draft(MORNING + timedelta(days=1), 60, code=ELSEWHERE))
    assert away is not None
    kit.app.review.approve(who("62"), away.id)
    cert = kit.app.certificates.request_own(me(), "2026-05", "")
    assert cert.hours == Decimal("4.00") and cert.division_code == HOME
    assert cert.issuer_name == "雁塔区" and cert.volunteer_id == VID
    assert (
        cert.issued_by == f"N-{VID}" and kit.types()[-1] == "hours.certificate.issued"
    )
    got, document = kit.app.certificates.own_pdf(me(), cert.number)
    assert got is cert and document.startswith(b"%PDF")
    with pytest.raises(NotFound):
        kit.app.certificates.own_pdf(me(VID2), cert.number)


def test_no_certificate_of_mine_without_approved_hours_in_the_period(kit: Kit) -> None:
    approved(kit)  # May 2026
    with pytest.raises(FailedPrecondition) as err:
        kit.app.certificates.request_own(me(), "2026-06", "")
    assert (err.value.field, err.value.rule) == ("period_start", "certificate.no_hours")
    assert kit.registration.asked == [] and kit.store.of(Certificate) == []
    with pytest.raises(InvalidArgument) as bad:
        kit.app.certificates.request_own(me(), "2026-06", "2026-05")
    assert bad.value.field == "period_end"
