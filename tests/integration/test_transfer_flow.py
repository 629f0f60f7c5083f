"""Transfers between regions (记录转移接续, issue 14), for real: registration,
hours and commendation servers and workers, events over RabbitMQ.

A volunteer of Yanliang (610114) with approved hours and a pending star
request moves to Chang'an (610116, same city) or to Xigu, Lanzhou (620104,
another province). After the new home's office accepts:

* the old office loses the person (GetVolunteer NOT_FOUND, their stars
  NOT_FOUND) and the new office has them;
* the old office keeps the history: the hours rollups of the old county are
  exactly what they were (the records stay where the service was done), and
  the transfer itself stays in its list;
* stars are re-rated by the new home's thresholds and the request goes to
  the new home's approval level;
* a certificate issued before the move still verifies;
* a third county sees nothing of it, and only the new home may accept.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest
from zhiyuan.commendation.v1 import commendation_pb2 as cpb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.rollup import CST
from services.common.rpc import CLIENT_ADDRESS_KEY
from services.common.testing import PRIVATE_PEM, PUBLIC_PEM, wait_for
from tests.helpers import auth, new_id_number, new_phone
from tests.security.matrix import OK, outcome

pytestmark = pytest.mark.integration

OLD, OLD_TOWN = "610114", "610114001"  # 阎良区, 凤凰路街道
NEW, NEW_TOWN = "610116", "610116002"  # 长安区
FAR, FAR_TOWN = "620104", "620104001"  # 兰州市西固区, 陈坪街道
THIRD = "610115"  # 临潼区: neither home
# Thresholds of the towns' own (settings inherit down; no other test's).
OLD_RULES = {
    "stars.thresholds_hours": json.dumps([2, 4, 6, 8, 10]),
    "hours.rounding": json.dumps("exact"),
    "hours.daily_cap": "12",
}
NEW_RULES = {"stars.thresholds_hours": json.dumps([3, 6, 9, 12, 15])}
FAR_RULES = {"stars.thresholds_hours": json.dumps([1, 2, 3, 4, 5])}
_day = iter(range(3, 300))
ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")


def volunteer_token(vol: Any, home: str) -> str:
    value, _ = ISSUER.issue(
        subject=f"acct-{vol.id}", username=vol.volunteer_number,
        scope_code=home, roles=["volunteer"], ttl=600, volunteer_id=vol.id,
    )  # fmt: skip
    return value


class Kit:
    def __init__(self, stubs: Callable[[str], Any], token: Callable[..., str]):
        self.reg, self.hours = stubs("registration"), stubs("hours")
        self.com = stubs("commendation")
        self.old = token(OLD, username="yanliang-admin")
        self.new = token(NEW, username="changan-admin")
        self.far = token(FAR, username="xigu-admin")
        self.third = token(THIRD, username="lintong-admin")
        self.shaanxi = token("61", "province_admin", username="shaanxi-admin")
        self.gansu = token("62", "province_admin", username="gansu-admin")
        for code, rules, tok in (
            (OLD_TOWN, OLD_RULES, self.shaanxi),
            (NEW_TOWN, NEW_RULES, self.shaanxi),
            (FAR_TOWN, FAR_RULES, self.gansu),
        ):
            self.reg.UpdateTenantSettings(
                pb.UpdateTenantSettingsRequest(division_code=code, set_json=rules),
                metadata=auth(tok),
            )

    def volunteer(self) -> pb.Volunteer:
        v = self.reg.RegisterVolunteer(
            pb.RegisterVolunteerRequest(
                name="李志愿", id_number=new_id_number(OLD), phone=new_phone(),
                home_division_code=OLD_TOWN, service_fields=["elderly_care"],
            ),
            metadata=auth(self.old),
        ).volunteer  # fmt: skip
        return self.reg.VerifyVolunteer(
            pb.VerifyVolunteerRequest(id=v.id), metadata=auth(self.old)
        ).volunteer

    def approved_hours(self, vid: str, amount: float) -> hpb.HourRecord:
        start = (datetime.now(CST) - timedelta(days=next(_day))).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        rec = self.hours.RecordHonourHours(
            hpb.RecordHonourHoursRequest(
                volunteer_id=vid, division_code=OLD_TOWN,
                organisation_name="阎良区志愿者协会", service_field="elderly_care",
                content="敬老院陪护", session_start=start.isoformat(),
                session_end=(start + timedelta(hours=amount)).isoformat(),
                hours=amount, reason="纸质签到表补录",
            ),
            metadata=auth(self.old),
        ).record  # fmt: skip
        return self.hours.ApproveRecord(
            hpb.ApproveRecordRequest(id=rec.id), metadata=auth(self.old)
        ).record

    def stars(self, vid: str, tok: str) -> cpb.VolunteerStars:
        return self.com.GetVolunteerStars(
            cpb.GetVolunteerStarsRequest(volunteer_id=vid), metadata=auth(tok)
        ).stars

    def wait_stars(
        self, vid: str, tok: str, check: Callable[[cpb.VolunteerStars], bool]
    ) -> cpb.VolunteerStars:
        def ready() -> cpb.VolunteerStars | None:
            status, got = outcome(lambda: self.stars(vid, tok))
            if status == grpc.StatusCode.NOT_FOUND:
                return None
            if isinstance(got, grpc.RpcError):
                raise got
            return got if check(got) else None

        found = wait_for(ready, timeout=60, what="commendation to follow")
        assert isinstance(found, cpb.VolunteerStars)
        return found

    def hours_totals(self, code: str, tok: str) -> dict[str, Any]:
        """The old county's rollup: the total and every month's row."""
        q = common.RollupQuery(division_code=code, by_month=True)
        got = self.hours.Summarize(hpb.SummarizeRequest(query=q), metadata=auth(tok))
        rows = sorted(
            (r.division.code, r.month, tuple(sorted(r.metrics.items())))
            for r in got.rollup.rows
        )
        return {"total": dict(got.rollup.total.metrics), "rows": rows}

    def request(self, vid: str, to: str) -> pb.Transfer:
        return self.reg.RequestTransfer(
            pb.RequestTransferRequest(
                volunteer_id=vid, to_division_code=to, consent=True,
                consent_note="签字同意书存于阎良区志愿者协会档案室",
            ),
            metadata=auth(self.old),
        ).transfer  # fmt: skip

    def listed(self, tok: str, **kw: Any) -> list[pb.Transfer]:
        page = common.PageRequest(page_size=500)
        return list(
            self.reg.ListTransfers(
                pb.ListTransfersRequest(page=page, **kw), metadata=auth(tok)
            ).transfers
        )

    def accept(self, ident: str, tok: str) -> pb.Transfer:
        return self.reg.AcceptTransfer(
            pb.AcceptTransferRequest(id=ident), metadata=auth(tok)
        ).transfer


@pytest.fixture(scope="module")
def kit(stubs, token, worker) -> Kit:  # type: ignore[no-untyped-def]
    return Kit(stubs, token)


def _code(fn: Callable[[], Any]) -> Any:
    status, _ = outcome(fn)
    return status


def _wait_old_request(kit: Kit, vid: str) -> cpb.VolunteerStars:
    """5 h at the old home: 2 stars by its thresholds, asked of the county."""
    got = kit.wait_stars(vid, kit.old, lambda s: s.pending.stars == 2)
    assert got.pending.approving_division_code == OLD
    return got


def test_transfer_across_counties(kit: Kit) -> None:
    vol = kit.volunteer()
    rec = kit.approved_hours(vol.id, 5)
    _wait_old_request(kit, vol.id)
    cert = kit.hours.IssueCertificate(
        hpb.IssueCertificateRequest(
            volunteer_id=vol.id, division_code=OLD, issuer_name="阎良区志愿者协会",
            person_in_charge="王主任", handler="李干事", contact="029-86868686",
        ),
        metadata=auth(kit.old),
    ).certificate  # fmt: skip
    before = kit.hours_totals(OLD, kit.old)
    assert before["total"]["hours"] >= 5
    regs_before = kit.reg.Summarize(
        pb.SummarizeRequest(query=common.RollupQuery(division_code=OLD)),
        metadata=auth(kit.old),
    ).rollup.total.metrics["volunteers_verified"]

    t = kit.request(vol.id, NEW_TOWN)
    assert t.status == pb.TRANSFER_STATUS_PENDING
    assert (t.from_division_code, t.to_division_code) == (OLD_TOWN, NEW_TOWN)
    assert t.requested_by == "yanliang-admin" and t.consent_channel == "office"
    assert t.consent_text and t.consented_at and t.consent_note
    # Both homes see it, each on its side; a third county sees nothing.
    assert t.id in {x.id for x in kit.listed(kit.old, direction=1)}
    assert t.id not in {x.id for x in kit.listed(kit.old, direction=2)}
    incoming = {x.id: x for x in kit.listed(kit.new, direction=2)}
    assert incoming[t.id].volunteer_number == vol.volunteer_number
    assert t.id not in {x.id for x in kit.listed(kit.third)}
    assert _code(lambda: kit.accept(t.id, kit.third)) == grpc.StatusCode.NOT_FOUND
    # Only the new home decides: the old office may not.
    assert _code(lambda: kit.accept(t.id, kit.old)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    kit.reg.GetVolunteer(pb.GetVolunteerRequest(id=vol.id), metadata=auth(kit.old))

    done = kit.accept(t.id, kit.new)
    assert done.status == pb.TRANSFER_STATUS_ACCEPTED
    assert done.decided_by == "changan-admin" and done.decided_at

    # The old office loses the person; the new one has them.
    get = pb.GetVolunteerRequest(id=vol.id)
    assert (
        _code(lambda: kit.reg.GetVolunteer(get, metadata=auth(kit.old)))
        == grpc.StatusCode.NOT_FOUND
    )
    moved = kit.reg.GetVolunteer(get, metadata=auth(kit.new)).volunteer
    assert moved.home_division_code == NEW_TOWN
    assert moved.volunteer_number == vol.volunteer_number
    # ... and keeps the history: the hours rollups of the past are unchanged,
    # the record still lies where the service was done, the transfer listed.
    assert kit.hours_totals(OLD, kit.old) == before
    assert rec.division_code == OLD_TOWN
    assert t.id in {x.id for x in kit.listed(kit.old)}
    regs_after = kit.reg.Summarize(
        pb.SummarizeRequest(query=common.RollupQuery(division_code=OLD)),
        metadata=auth(kit.old),
    ).rollup.total.metrics["volunteers_verified"]
    assert regs_after == regs_before

    # Stars re-rated at the new home: 5 h is 1 star there, asked of Chang'an.
    stars = kit.wait_stars(vol.id, kit.new, lambda s: s.division_code == NEW_TOWN)
    assert stars.eligible_stars == 1 and stars.total_hours == 5
    assert stars.pending.stars == 1
    assert stars.pending.approving_division_code == NEW
    assert _code(lambda: kit.stars(vol.id, kit.old)) == grpc.StatusCode.NOT_FOUND

    # The certificate issued before the move stays valid.
    public = kit.hours.VerifyCertificate(
        hpb.VerifyCertificateRequest(number=cert.number)
    )
    assert public.status == hpb.CERTIFICATE_STATUS_VALID and public.hours == 5


def test_transfer_across_provinces_by_the_volunteer(kit: Kit) -> None:
    vol = kit.volunteer()
    kit.approved_hours(vol.id, 5)
    _wait_old_request(kit, vol.id)
    mine = volunteer_token(vol, OLD_TOWN)
    t = kit.reg.RequestMyTransfer(
        pb.RequestMyTransferRequest(to_division_code=FAR_TOWN, consent=True),
        metadata=auth(mine),
    ).transfer
    assert t.consent_channel == "app" and t.requested_by == vol.volunteer_number
    listed = kit.reg.ListMyTransfers(pb.ListMyTransfersRequest(), metadata=auth(mine))
    assert [x.id for x in listed.transfers] == [t.id]
    # What the app shows before asking is what the request recorded.
    assert listed.consent_text == t.consent_text
    assert t.id in {x.id for x in kit.listed(kit.far, direction=2)}
    # The old province holds the old home only: it may not accept.
    assert _code(lambda: kit.accept(t.id, kit.shaanxi)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    kit.accept(t.id, kit.far)

    get = pb.GetVolunteerRequest(id=vol.id)

    def get_as(tok: str) -> Any:
        return kit.reg.GetVolunteer(get, metadata=auth(tok))

    assert _code(lambda: get_as(kit.old)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: get_as(kit.shaanxi)) == grpc.StatusCode.NOT_FOUND
    got = get_as(kit.gansu).volunteer
    assert got.home_division_code == FAR_TOWN
    # Gansu's thresholds: 5 h is 5 stars, asked of Gansu (5 stars: province).
    stars = kit.wait_stars(vol.id, kit.far, lambda s: s.division_code == FAR_TOWN)
    assert stars.eligible_stars == 5 and stars.pending.stars == 5
    assert stars.pending.approving_division_code == "62"
    assert _code(lambda: kit.stars(vol.id, kit.shaanxi)) == (grpc.StatusCode.NOT_FOUND)


def test_refused_and_cancelled_transfers_change_nothing(kit: Kit) -> None:
    vol = kit.volunteer()
    t = kit.request(vol.id, NEW_TOWN)
    # One pending request at a time.
    status, err = outcome(lambda: kit.request(vol.id, FAR_TOWN))
    assert status == grpc.StatusCode.ALREADY_EXISTS
    assert dict(err.trailing_metadata())["zhiyuan-rule"] == "transfer.one_pending"
    refused = kit.reg.RefuseTransfer(
        pb.RefuseTransferRequest(id=t.id, reason="新居住地信息无法核实"),
        metadata=auth(kit.new),
    ).transfer
    assert refused.status == pb.TRANSFER_STATUS_REFUSED
    assert refused.reason == "新居住地信息无法核实"
    assert _code(lambda: kit.accept(t.id, kit.new)) == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    # Refused: a new request may be filed, and the volunteer cancels it.
    again = kit.request(vol.id, NEW_TOWN)
    mine = volunteer_token(vol, OLD_TOWN)
    gone = kit.reg.CancelTransfer(
        pb.CancelTransferRequest(id=again.id), metadata=auth(mine)
    ).transfer
    assert gone.status == pb.TRANSFER_STATUS_CANCELLED
    assert gone.decided_by == vol.volunteer_number
    home = kit.reg.GetVolunteer(
        pb.GetVolunteerRequest(id=vol.id), metadata=auth(kit.old)
    ).volunteer.home_division_code
    assert home == OLD_TOWN


def test_a_self_registered_volunteer_signs_in_at_the_new_home(kit: Kit) -> None:
    """The own account follows the person: after the move a new sign-in
    carries the new home's scope and reads the volunteer's own record; the
    token issued before the move names the old home and finds no one."""
    secret = "my-own-password"  # noqa: S105 - a test volunteer's password
    got = kit.reg.SelfRegister(
        pb.SelfRegisterRequest(
            name="李自助", id_number=new_id_number(OLD), phone=new_phone(),
            home_division_code=OLD_TOWN, service_fields=["elderly_care"],
            password=secret,
        ),
        metadata=[(CLIENT_ADDRESS_KEY, f"tf-{uuid.uuid4().hex[:12]}")],
    )  # fmt: skip
    login = pb.LoginRequest(username=got.volunteer_number, password=secret)
    before = kit.reg.Login(login).access_token
    t = kit.reg.RequestMyTransfer(
        pb.RequestMyTransferRequest(to_division_code=FAR_TOWN, consent=True),
        metadata=auth(before),
    ).transfer
    kit.accept(t.id, kit.far)

    after = kit.reg.Login(login)
    assert after.account.scope_code == FAR_TOWN
    mine = kit.reg.GetMe(pb.GetMeRequest(), metadata=auth(after.access_token))
    assert mine.volunteer.home_division_code == FAR_TOWN
    assert (
        _code(lambda: kit.reg.GetMe(pb.GetMeRequest(), metadata=auth(before)))
        == grpc.StatusCode.NOT_FOUND
    )
    # The volunteer still sees the transfer, under the new home too.
    listed = kit.reg.ListMyTransfers(
        pb.ListMyTransfersRequest(), metadata=auth(after.access_token)
    )
    assert [x.status for x in listed.transfers] == [pb.TRANSFER_STATUS_ACCEPTED]


def _self_registered(kit: Kit, town: str) -> tuple[pb.SelfRegisterResponse, str]:
    """A volunteer who registered themself at ``town``, and their token."""
    secret = "my-own-password"  # noqa: S105 - a test volunteer's password
    got = kit.reg.SelfRegister(
        pb.SelfRegisterRequest(
            name="赵刷新", id_number=new_id_number(town[:6]), phone=new_phone(),
            home_division_code=town, service_fields=["elderly_care"],
            password=secret,
        ),
        metadata=[(CLIENT_ADDRESS_KEY, f"tf-{uuid.uuid4().hex[:12]}")],
    )  # fmt: skip
    login = pb.LoginRequest(username=got.volunteer_number, password=secret)
    return got, kit.reg.Login(login).access_token


def _claims(tok: str) -> Any:
    return TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan").verify(tok)


def _refresh(kit: Kit, tok: str) -> pb.RefreshMyTokenResponse:
    return kit.reg.RefreshMyToken(pb.RefreshMyTokenRequest(), metadata=auth(tok))


def test_a_token_from_before_the_move_is_refreshed_for_the_new_home(
    kit: Kit,
) -> None:
    """RefreshMyToken gives the same account a token of its current home:
    the old token finds no one after the move, the refreshed one the
    volunteer at the new home, and its scope holds nothing of the old."""
    got, before = _self_registered(kit, OLD_TOWN)
    t = kit.reg.RequestMyTransfer(
        pb.RequestMyTransferRequest(to_division_code=FAR_TOWN, consent=True),
        metadata=auth(before),
    ).transfer
    # Before the move a refresh keeps the old home.
    same = _refresh(kit, before)
    assert same.account.scope_code == OLD_TOWN
    kit.accept(t.id, kit.far)
    assert (
        _code(lambda: kit.reg.GetMe(pb.GetMeRequest(), metadata=auth(before)))
        == grpc.StatusCode.NOT_FOUND
    )

    fresh = _refresh(kit, before)

    assert fresh.access_token != before
    assert fresh.account.scope_code == FAR_TOWN
    claims = _claims(fresh.access_token)
    # A refresh moves the scope; it does not lengthen the sign-in.
    assert fresh.expires_at == claims.expires_at == _claims(before).expires_at
    assert claims.scope_code == FAR_TOWN and claims.volunteer_id == got.volunteer.id
    assert claims.subject == got.account.id and claims.roles == {"volunteer"}
    mine = kit.reg.GetMe(pb.GetMeRequest(), metadata=auth(fresh.access_token))
    assert mine.volunteer.id == got.volunteer.id
    assert mine.volunteer.home_division_code == FAR_TOWN

    # The old home's data stays out of reach: the old token still reads the
    # old township's settings (its scope), the refreshed one is refused.
    def settings(tok: str) -> Any:
        return kit.reg.GetEffectiveSettings(
            pb.GetEffectiveSettingsRequest(division_code=OLD_TOWN),
            metadata=auth(tok),
        )

    assert _code(lambda: settings(before)) == OK
    assert _code(lambda: settings(fresh.access_token)) in (
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
    )
    # The refreshed token refreshes again (to the same home).
    again = _refresh(kit, fresh.access_token)
    assert again.account.scope_code == FAR_TOWN


def test_a_refresh_is_refused_to_forged_staff_and_merged_away_tokens(
    kit: Kit,
) -> None:
    got, own = _self_registered(kit, FAR_TOWN)
    # Signed with another key, claims copied from the real one: refused at
    # the door (the signature), whatever it names.
    forger = TokenIssuer(generate_keypair()[0], "zhiyuan", "zhiyuan")
    forged, _ = forger.issue(
        subject=got.account.id, username=got.volunteer_number,
        scope_code=FAR_TOWN, roles=["volunteer"], volunteer_id=got.volunteer.id,
    )  # fmt: skip
    assert _code(lambda: _refresh(kit, forged)) == grpc.StatusCode.UNAUTHENTICATED
    # A genuine token naming another volunteer than the account's is refused.
    stray = ISSUER.issue(
        subject=got.account.id, username=got.volunteer_number,
        scope_code=FAR_TOWN, roles=["volunteer"], ttl=600,
        volunteer_id=str(uuid.uuid4()),
    )[0]  # fmt: skip
    assert _code(lambda: _refresh(kit, stray)) == grpc.StatusCode.UNAUTHENTICATED
    # An office's token has no volunteer to refresh for.
    assert _code(lambda: _refresh(kit, kit.far)) == grpc.StatusCode.PERMISSION_DENIED

    # Merged into another record: the account moves to the survivor, and the
    # merged volunteer's token is not refreshed.
    survivor = kit.reg.RegisterVolunteer(
        pb.RegisterVolunteerRequest(
            name="赵刷新", id_number=new_id_number(FAR), phone=new_phone(),
            home_division_code=FAR_TOWN, service_fields=["elderly_care"],
        ),
        metadata=auth(kit.far),
    ).volunteer  # fmt: skip
    assert _claims(_refresh(kit, own).access_token).volunteer_id == got.volunteer.id
    kit.reg.MergeVolunteers(
        pb.MergeVolunteersRequest(
            survivor_id=survivor.id, merged_id=got.volunteer.id, reason="重复注册"
        ),
        metadata=auth(kit.far),
    )
    assert _code(lambda: _refresh(kit, own)) == grpc.StatusCode.UNAUTHENTICATED
