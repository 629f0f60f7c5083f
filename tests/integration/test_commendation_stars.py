"""Star ratings follow the hours for real: honour hours recorded and
approved in hours, the events relayed over RabbitMQ, commendation's worker
opening requests at the tier's level; corrections withdraw or lower them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from zhiyuan.commendation.v1 import commendation_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.rollup import CST
from services.common.testing import wait_for
from tests.helpers import auth, new_id_number, new_phone

pytestmark = pytest.mark.integration
COUNTY, TOWN, CITY, PROVINCE = "610122", "610122001", "6101", "61"
SETTINGS = {
    "stars.thresholds_hours": json.dumps([2, 4, 6, 8, 10]),
    "hours.rounding": json.dumps("exact"),
    "hours.daily_cap": "12",
    "honours.medal_hours": json.dumps({"gold": 30, "silver": 20, "bronze": 10}),
    "honours.long_service_years": "3",
}
_day = iter(range(2, 400))


@pytest.fixture(scope="module")
def kit(stubs: Callable[[str], Any], token: Callable[..., str], migrated, worker):  # type: ignore[no-untyped-def]
    return Kit(stubs, token, migrated)


class Kit:
    def __init__(self, stubs, token, env):  # type: ignore[no-untyped-def]
        self.reg, self.hours = stubs("registration"), stubs("hours")
        self.com = stubs("commendation")
        self.county = token(COUNTY, "tenant_admin", username="lantian-admin")
        self.city = token(CITY, "reviewer", username="xian-reviewer")
        self.prov = token(PROVINCE, "province_admin", username="shaanxi-admin")
        self.engine = sa.create_engine(env["COMMENDATION_DATABASE_URL"])
        self.reg.UpdateTenantSettings(
            reg.UpdateTenantSettingsRequest(division_code=COUNTY, set_json=SETTINGS),
            metadata=auth(self.prov),
        )
        wait_for(self._replicated, timeout=30, what="commendation's settings replica")

    def _replicated(self) -> bool:
        with self.engine.connect() as c:
            got = c.execute(
                sa.text(
                    "SELECT overrides FROM policy_overrides WHERE division_code=:c"
                ),
                {"c": COUNTY},
            ).scalar()
        return bool(got) and "stars.thresholds_hours" in got

    def volunteer(self, home: str = TOWN, tok: str = "") -> str:
        tok = tok or self.county
        v = self.reg.RegisterVolunteer(
            reg.RegisterVolunteerRequest(
                name="李志愿", id_number=new_id_number(COUNTY), phone=new_phone(),
                home_division_code=home, service_fields=["elderly_care"],
            ),
            metadata=auth(tok),
        ).volunteer  # fmt: skip
        self.reg.VerifyVolunteer(
            reg.VerifyVolunteerRequest(id=v.id), metadata=auth(tok)
        )
        return str(v.id)

    def approved_hours(
        self, vid: str, amount: float, start: datetime | None = None,
        where: str = TOWN, tok: str = "",
    ) -> str:  # fmt: skip
        tok = tok or self.county
        start = start or (datetime.now(CST) - timedelta(days=next(_day))).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        rec = self.hours.RecordHonourHours(
            hpb.RecordHonourHoursRequest(
                volunteer_id=vid, division_code=where,
                organisation_name="蓝田县志愿者协会",
                service_field="elderly_care", content="敬老院陪护",
                session_start=start.isoformat(),
                session_end=(start + timedelta(hours=amount)).isoformat(),
                hours=amount, reason="纸质签到表补录",
            ),
            metadata=auth(tok),
        ).record  # fmt: skip
        self.hours.ApproveRecord(
            hpb.ApproveRecordRequest(id=rec.id), metadata=auth(tok)
        )
        return str(rec.id)

    def stars(self, vid: str, tok: str = "") -> pb.VolunteerStars:
        return self.com.GetVolunteerStars(
            pb.GetVolunteerStarsRequest(volunteer_id=vid),
            metadata=auth(tok or self.county),
        ).stars

    def wait_stars(  # type: ignore[no-untyped-def]
        self, vid: str, check: Callable[[pb.VolunteerStars], bool], tok: str = ""
    ):
        def ready() -> bool:
            try:
                return check(self.stars(vid, tok))
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                return False

        wait_for(ready, timeout=30, what="commendation to follow the hours")
        return self.stars(vid, tok)

    def requests(self, tok: str, **kw: Any) -> list[pb.StarRequest]:
        return list(
            self.com.ListStarRequests(
                pb.ListStarRequestsRequest(**kw), metadata=auth(tok)
            ).requests
        )

    def set_thresholds(self, code: str, thresholds: list[float]) -> None:
        self.reg.UpdateTenantSettings(
            reg.UpdateTenantSettingsRequest(
                division_code=code,
                set_json={"stars.thresholds_hours": json.dumps(thresholds)},
            ),
            metadata=auth(self.prov),
        )

    def replicated_thresholds(self, code: str) -> Any:
        with self.engine.connect() as c:
            got = c.execute(
                sa.text(
                    "SELECT overrides FROM policy_overrides WHERE division_code=:c"
                ),
                {"c": code},
            ).scalar()
        return json.loads((got or {}).get("stars.thresholds_hours", "null"))

    def rerate_orders(self, code: str) -> list[tuple[str, bool]]:
        """The re-ratings of ``code``'s subtree the worker ordered: (event
        id, handled) in order."""
        with self.engine.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT o.id, p.event_id IS NOT NULL FROM outbox o"
                    " LEFT JOIN processed_events p ON p.event_id = o.id"
                    " AND p.consumer = 'commendation.rerate'"
                    " WHERE o.event_type = 'commendation.stars.rerate_requested'"
                    " AND o.division_code = :c ORDER BY o.seq"
                ),
                {"c": code},
            ).all()
        return [(str(r[0]), bool(r[1])) for r in rows]

    def wait_rerated(self, code: str, orders: int) -> list[tuple[str, bool]]:
        """Until ``orders`` re-ratings of ``code`` were ordered and handled."""

        def done() -> bool:
            got = self.rerate_orders(code)
            return len(got) >= orders and all(handled for _, handled in got)

        wait_for(done, timeout=30, what=f"the worker to re-rate {code}")
        return self.rerate_orders(code)

    def rating_row(self, vid: str) -> Any:
        with self.engine.connect() as c:
            return c.execute(
                sa.text("SELECT * FROM star_ratings WHERE volunteer_id=:v"), {"v": vid}
            ).one()

    def request_count(self, vid: str) -> int:
        with self.engine.connect() as c:
            return int(
                c.execute(
                    sa.text("SELECT count(*) FROM star_requests WHERE volunteer_id=:v"),
                    {"v": vid},
                ).scalar_one()
            )

    def rollup(self, code: str) -> dict[str, float]:
        got = self.com.Summarize(
            pb.SummarizeRequest(query=common.RollupQuery(division_code=code)),
            metadata=auth(self.prov),
        )
        return dict(got.rollup.total.metrics)


def test_reaching_a_tier_opens_a_request_at_the_county(kit: Kit) -> None:
    vid = kit.volunteer()
    kit.approved_hours(vid, 2.5)
    got = kit.wait_stars(vid, lambda s: s.pending.stars == 1)
    assert got.stars == 0 and got.eligible_stars == 1
    assert got.total_hours == pytest.approx(2.5)
    assert got.pending.approval_level == "county"
    assert got.pending.approving_division_code == COUNTY
    mine = kit.requests(kit.county, awaiting_me=True)
    assert vid in {r.volunteer_id for r in mine}
    # The city does not see it in its own queue: it is the county's to approve.
    assert vid not in {r.volunteer_id for r in kit.requests(kit.city, awaiting_me=True)}


def test_approval_follows_the_tiers_level(kit: Kit) -> None:
    vid = kit.volunteer()
    before = kit.rollup(COUNTY)
    kit.approved_hours(vid, 4.0)  # two stars: the county
    req = kit.wait_stars(vid, lambda s: s.pending.stars == 2).pending
    with pytest.raises(grpc.RpcError) as err:  # not the city's tier to approve
        kit.com.ApproveStarRequest(
            pb.ApproveStarRequestRequest(id=req.id), metadata=auth(kit.city)
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert dict(err.value.trailing_metadata())["zhiyuan-rule"] == "stars.approval_level"
    done = kit.com.ApproveStarRequest(
        pb.ApproveStarRequestRequest(id=req.id), metadata=auth(kit.county)
    )
    assert done.stars.stars == 2 and done.request.decided_by == "lantian-admin"
    after = kit.rollup(COUNTY)
    assert after["stars_2"] == before["stars_2"] + 1
    assert after["star_approvals"] == before["star_approvals"] + 1

    kit.approved_hours(vid, 2.5)  # 6.5 h: three stars, the city approves
    req = kit.wait_stars(vid, lambda s: s.pending.stars == 3).pending
    assert (req.approval_level, req.approving_division_code) == ("city", CITY)
    with pytest.raises(grpc.RpcError) as err:
        kit.com.ApproveStarRequest(
            pb.ApproveStarRequestRequest(id=req.id), metadata=auth(kit.county)
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    kit.com.ApproveStarRequest(
        pb.ApproveStarRequestRequest(id=req.id), metadata=auth(kit.city)
    )
    assert kit.stars(vid).stars == 3
    final = kit.rollup(CITY)
    assert final["stars_3"] >= 1


def test_a_correction_below_the_threshold_lowers_the_stars(kit: Kit) -> None:
    vid = kit.volunteer()
    first = kit.approved_hours(vid, 4.5)
    req = kit.wait_stars(vid, lambda s: s.pending.stars == 2).pending
    kit.com.ApproveStarRequest(
        pb.ApproveStarRequestRequest(id=req.id), metadata=auth(kit.county)
    )
    before = kit.rollup(COUNTY)
    kit.hours.CorrectRecord(
        hpb.CorrectRecordRequest(record_id=first, new_hours=3.0, reason="签退时间有误"),
        metadata=auth(kit.county),
    )
    got = kit.wait_stars(vid, lambda s: s.stars == 1)
    assert got.eligible_stars == 1 and got.total_hours == pytest.approx(3.0)
    change = got.history[-1]
    assert (change.from_stars, change.to_stars) == (2, 1)
    assert change.kind == "lowered_by_correction"
    after = kit.rollup(COUNTY)
    assert after["stars_2"] == before["stars_2"] - 1
    assert after["stars_1"] == before["stars_1"] + 1


def test_a_correction_withdraws_a_pending_request(kit: Kit) -> None:
    vid = kit.volunteer()
    rec = kit.approved_hours(vid, 2.0)
    req = kit.wait_stars(vid, lambda s: s.pending.stars == 1).pending
    kit.hours.CorrectRecord(
        hpb.CorrectRecordRequest(record_id=rec, reverse=True, reason="重复录入"),
        metadata=auth(kit.county),
    )
    got = kit.wait_stars(vid, lambda s: s.eligible_stars == 0)
    assert not got.pending.id and got.stars == 0
    old = [r for r in kit.requests(kit.county) if r.id == req.id]
    assert old[0].status == pb.STAR_REQUEST_STATUS_WITHDRAWN
    with pytest.raises(grpc.RpcError) as err:
        kit.com.ApproveStarRequest(
            pb.ApproveStarRequestRequest(id=req.id), metadata=auth(kit.county)
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_redelivered_hours_events_change_nothing(kit: Kit, migrated) -> None:  # type: ignore[no-untyped-def]
    """The worker claims each event: publishing the same approval twice
    counts the hours once."""
    from kombu import Connection, Exchange, Producer

    vid = kit.volunteer()
    kit.approved_hours(vid, 1.0)
    kit.wait_stars(vid, lambda s: s.total_hours == pytest.approx(1.0))
    body = {
        "event_id": "7f1d6c1e-0000-4000-8000-000000000001",
        "event_type": "hours.record.approved",
        "occurred_at": datetime.now(CST).isoformat(),
        "division_code": TOWN,
        "data": {
            "record_id": "r1", "volunteer_id": vid, "volunteer_number": "ZY61X",
            "division_code": TOWN, "service_field": "elderly_care",
            "service_month": datetime.now(CST).strftime("%Y-%m"), "hours": 1.5,
            "volunteer_total_hours": 2.5,
        },
    }  # fmt: skip
    with Connection(migrated["AMQP_URI"]) as conn:
        producer = Producer(conn)
        for _ in range(2):
            producer.publish(
                body, exchange=Exchange("hours.events", type="topic", durable=True),
                routing_key="record.approved", serializer="json",
            )  # fmt: skip
    got = kit.wait_stars(vid, lambda s: s.pending.stars == 1)
    assert got.total_hours == pytest.approx(2.5)
    with kit.engine.connect() as c:
        year_hours = c.execute(
            sa.text("SELECT sum(hours) FROM service_years WHERE volunteer_id=:v"),
            {"v": vid},
        ).scalar()
    assert float(year_hours) == pytest.approx(2.5)


def test_cli_lists_the_levels_queue_as_csv(kit: Kit, migrated) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_cli import zhiyuan

    vid = kit.volunteer()
    kit.approved_hours(vid, 2.0)
    number = kit.wait_stars(vid, lambda s: s.pending.stars == 1).volunteer_number
    done = zhiyuan(migrated, "stars", "pending", "--scope", COUNTY,
                   "--role", "tenant_admin", "--mine")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("id,volunteer_number,division_code,stars")
    assert any(number in line and f",{COUNTY}," in line for line in lines[1:])
    city = zhiyuan(migrated, "stars", "pending", "--scope", CITY,
                   "--role", "reviewer", "--mine")  # fmt: skip
    assert city.returncode == 0 and number not in city.stdout


def honours(kit: Kit, kind: int) -> dict[str, pb.Honour]:
    got = kit.com.ListHonours(
        pb.ListHonoursRequest(division_code=COUNTY, kind=kind),
        metadata=auth(kit.county),
    )
    return {h.volunteer_id: h for h in got.honours}


def test_five_stars_and_the_hours_make_a_medal(kit: Kit) -> None:
    vid = kit.volunteer()
    kit.approved_hours(vid, 10.5)  # five stars at once: the province approves
    req = kit.wait_stars(vid, lambda s: s.pending.stars == 5).pending
    assert (req.approval_level, req.approving_division_code) == ("province", "61")
    assert vid not in honours(kit, pb.HONOUR_KIND_MEDAL)
    kit.com.ApproveStarRequest(
        pb.ApproveStarRequestRequest(id=req.id), metadata=auth(kit.prov)
    )
    assert honours(kit, pb.HONOUR_KIND_MEDAL)[vid].medal == "bronze"
    kit.approved_hours(vid, 10.0)  # 20.5 h: silver
    kit.wait_stars(vid, lambda s: s.total_hours == pytest.approx(20.5))
    assert kit.stars(vid).medal == "silver"
    assert honours(kit, pb.HONOUR_KIND_MEDAL)[vid].medal == "silver"


def test_long_service_counts_consecutive_years(kit: Kit) -> None:
    steady, gap = kit.volunteer(), kit.volunteer()
    for year in (2024, 2025, 2026):
        kit.approved_hours(steady, 1.0, datetime(year, 3, 1, 9, tzinfo=CST))
    for year in (2023, 2025):
        kit.approved_hours(gap, 1.0, datetime(year, 3, 2, 9, tzinfo=CST))
    kit.wait_stars(steady, lambda s: s.continuous_years == 3)
    kit.wait_stars(gap, lambda s: s.total_hours == pytest.approx(2.0))
    listed = honours(kit, pb.HONOUR_KIND_LONG_SERVICE)  # the tenant's 3 years
    assert steady in listed and listed[steady].continuous_years == 3
    assert gap not in listed and kit.stars(gap).continuous_years == 1
    got = kit.com.ListHonours(
        pb.ListHonoursRequest(
            division_code=COUNTY, kind=pb.HONOUR_KIND_LONG_SERVICE, min_years=1
        ),
        metadata=auth(kit.county),
    )
    assert gap in {h.volunteer_id for h in got.honours}


def test_a_rejected_tier_is_asked_again_only_at_the_next(kit: Kit) -> None:
    vid = kit.volunteer()
    kit.approved_hours(vid, 2.0)
    req = kit.wait_stars(vid, lambda s: s.pending.stars == 1).pending
    with pytest.raises(grpc.RpcError) as err:  # a reason is required
        kit.com.RejectStarRequest(
            pb.RejectStarRequestRequest(id=req.id), metadata=auth(kit.county)
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    kit.com.RejectStarRequest(
        pb.RejectStarRequestRequest(id=req.id, reason="服务记录待核实"),
        metadata=auth(kit.county),
    )
    kit.approved_hours(vid, 1.0)  # 3 h: still one star's tier
    got = kit.wait_stars(vid, lambda s: s.total_hours == pytest.approx(3.0))
    assert not got.pending.id and got.stars == 0
    kit.approved_hours(vid, 1.5)  # 4.5 h: the next tier asks again
    got = kit.wait_stars(vid, lambda s: s.pending.stars == 2)
    assert got.pending.id != req.id


def test_a_settings_change_applies_to_the_next_hours_event(kit: Kit) -> None:
    """The worker keeps effective settings per chain of overrides in memory:
    a township's new thresholds apply to the very next hours event, whether
    this worker consumed the change or another replica of it wrote the
    settings replica (no event reaches this one)."""
    town = "610122101"  # its own overrides, in this test only
    vid = kit.volunteer(home=town)

    def home() -> Any:
        with kit.engine.connect() as c:
            return c.execute(
                sa.text("SELECT division_code FROM volunteers WHERE id=:v"), {"v": vid}
            ).scalar()

    # The hours are served in TOWN: the stars follow the replica's home.
    wait_for(lambda: home() == town, timeout=30, what="the volunteer replica")
    kit.approved_hours(vid, 1.0)  # the county's 2 h threshold: no star yet
    got = kit.wait_stars(vid, lambda s: s.total_hours == pytest.approx(1.0))
    assert got.eligible_stars == 0 and not got.pending.id

    kit.reg.UpdateTenantSettings(
        reg.UpdateTenantSettingsRequest(
            division_code=town,
            set_json={"stars.thresholds_hours": json.dumps([1.5, 3, 6, 8, 10])},
        ),
        metadata=auth(kit.prov),
    )

    def thresholds() -> Any:
        with kit.engine.connect() as c:
            got = c.execute(
                sa.text(
                    "SELECT overrides FROM policy_overrides WHERE division_code=:c"
                ),
                {"c": town},
            ).scalar()
        return json.loads((got or {}).get("stars.thresholds_hours", "null"))

    wait_for(lambda: thresholds() == [1.5, 3, 6, 8, 10], timeout=30, what="replica")
    kit.approved_hours(vid, 0.5)  # 1.5 h: one star under the township's rule
    got = kit.wait_stars(vid, lambda s: s.total_hours == pytest.approx(1.5))
    assert got.eligible_stars == 1 and got.pending.stars == 1

    # Another worker replica consumed a change: only the table says so.
    with kit.engine.begin() as c:
        c.execute(
            sa.text(
                "UPDATE policy_overrides SET overrides = CAST(:o AS json),"
                " changed_at = now() WHERE division_code = :c"
            ),
            {
                "c": town,
                "o": json.dumps({"stars.thresholds_hours": "[1, 2, 6, 8, 10]"}),
            },
        )
    kit.approved_hours(vid, 0.5)  # 2 h: two stars under the new rule
    got = kit.wait_stars(vid, lambda s: s.total_hours == pytest.approx(2.0))
    assert got.eligible_stars == 2 and got.pending.stars == 2


# -- a change of the star rules re-rates the subtree it applies to -----------


def test_lowered_thresholds_open_requests_without_new_hours(kit: Kit) -> None:
    town = "610122102"  # 华胥镇: its own thresholds, in this test only
    vid = kit.volunteer(home=town)
    kit.approved_hours(vid, 1.0, where=town)  # the county's 2 h: no star
    got = kit.wait_stars(vid, lambda s: s.total_hours == pytest.approx(1.0))
    assert got.eligible_stars == 0 and not got.pending.id

    kit.set_thresholds(town, [0.5, 1, 6, 8, 10])  # 1 h is two stars here now
    got = kit.wait_stars(vid, lambda s: s.pending.stars == 2)
    assert got.total_hours == pytest.approx(1.0)  # no new hours event
    assert (got.stars, got.eligible_stars) == (0, 2)
    req = got.pending
    assert (req.division_code, req.approval_level, req.approving_division_code) == (
        town, "county", COUNTY,
    )  # fmt: skip
    assert req.hours_at_request == pytest.approx(1.0)
    assert vid in {r.volunteer_id for r in kit.requests(kit.county, awaiting_me=True)}


def test_raised_thresholds_withdraw_requests_and_keep_approved_stars(
    kit: Kit,
) -> None:
    town = "610122103"  # 前卫镇: its own thresholds, in this test only
    waiting, approved = kit.volunteer(home=town), kit.volunteer(home=town)
    kit.approved_hours(waiting, 2.5, where=town)  # the county's rule: one star
    kit.approved_hours(approved, 4.5, where=town)  # two stars
    req = kit.wait_stars(waiting, lambda s: s.pending.stars == 1).pending
    two = kit.wait_stars(approved, lambda s: s.pending.stars == 2).pending
    kit.com.ApproveStarRequest(
        pb.ApproveStarRequestRequest(id=two.id), metadata=auth(kit.county)
    )
    orders = len(kit.rerate_orders(town))

    kit.set_thresholds(town, [3, 6, 9, 12, 15])  # 2.5 h reach nothing here now
    got = kit.wait_stars(waiting, lambda s: s.eligible_stars == 0)
    assert not got.pending.id and got.stars == 0
    old = [r for r in kit.requests(kit.county, division_code=town) if r.id == req.id]
    assert old[0].status == pb.STAR_REQUEST_STATUS_WITHDRAWN
    assert old[0].decided_by == "system" and "threshold" in old[0].reason

    # Approved stars were granted by a reviewer on hours that are still
    # true: a rule change does not take them back (a correction would).
    kit.wait_rerated(town, orders + 1)
    kept = kit.stars(approved)
    assert (kept.stars, kept.eligible_stars) == (2, 1) and not kept.pending.id
    assert kept.history[-1].kind == "approved"
    # Nor does the next hours event, which does not lower the hours.
    kit.approved_hours(approved, 0.5, where=town)
    kept = kit.wait_stars(approved, lambda s: s.total_hours == pytest.approx(5.0))
    assert kept.stars == 2 and kept.history[-1].kind == "approved"


def test_a_sibling_township_with_its_own_thresholds_is_untouched(kit: Kit) -> None:
    # 临潼区 and two of its streets: nobody else's tests use them.
    county, inherits, own = "610115", "610115001", "610115002"
    rule = [3, 6, 9, 12, 15]
    kit.set_thresholds(county, rule)
    kit.set_thresholds(own, rule)
    for code in (county, own):
        wait_for(lambda c=code: kit.replicated_thresholds(c) == rule, timeout=30,
                 what="commendation's settings replica")  # fmt: skip
    a = kit.volunteer(home=inherits, tok=kit.prov)
    b = kit.volunteer(home=own, tok=kit.prov)
    kit.approved_hours(a, 2.0, where=inherits, tok=kit.prov)
    kit.approved_hours(b, 2.0, where=own, tok=kit.prov)
    for vid in (a, b):
        got = kit.wait_stars(
            vid, lambda s: s.total_hours == pytest.approx(2.0), tok=kit.prov
        )
        assert got.eligible_stars == 0
    # The re-ratings the two settings above ordered may still be running
    # (and touch b's new rating): let them finish before taking the snapshot.
    for code in (county, own):
        kit.wait_rerated(code, len(kit.rerate_orders(code)))
    before = kit.rating_row(b)
    orders = len(kit.rerate_orders(county))

    kit.set_thresholds(county, [1, 4, 6, 8, 10])
    got = kit.wait_stars(a, lambda s: s.pending.stars == 1, tok=kit.prov)
    assert (got.pending.division_code, got.pending.approving_division_code) == (
        inherits, county,
    )  # fmt: skip
    kit.wait_rerated(county, orders + 1)
    # The street's own thresholds still apply: its rating was not even read
    # for update (re-rating an unaffected rating would touch updated_at).
    assert kit.rating_row(b) == before
    untouched = kit.stars(b, kit.prov)
    assert untouched.eligible_stars == 0 and not untouched.pending.id


def test_a_redelivered_settings_event_changes_nothing(kit: Kit, migrated) -> None:  # type: ignore[no-untyped-def]
    import uuid

    from kombu import Connection, Exchange, Producer

    from services.commendation import events
    from services.commendation.application import CommendationApp
    from services.common import settings_replica
    from services.common.config import load
    from services.common.db import Database
    from services.common.outbox import Envelope

    town = "610122104"  # 汤峪镇: its own thresholds, in this test only
    vid = kit.volunteer(home=town)
    kit.approved_hours(vid, 1.0, where=town)
    kit.wait_stars(vid, lambda s: s.total_hours == pytest.approx(1.0))
    body = {
        "event_id": str(uuid.uuid4()),
        "event_type": "registration.settings.changed",
        "occurred_at": datetime.now(CST).isoformat(),
        "division_code": town,
        "data": {
            "division_code": town,
            "overrides": {"stars.thresholds_hours": "[1, 3, 6, 8, 10]"},
        },
    }
    with Connection(migrated["AMQP_URI"]) as conn:
        producer = Producer(conn)
        for _ in range(2):  # the broker delivers it twice
            producer.publish(
                body, exchange=Exchange("registration.events", type="topic",
                                        durable=True),
                routing_key="settings.changed", serializer="json",
            )  # fmt: skip
    kit.wait_stars(vid, lambda s: s.pending.stars == 1)
    (order_id, _), *more = kit.wait_rerated(town, 1)
    assert not more and kit.request_count(vid) == 1

    # Whether or not the broker's second copy has arrived yet, handle both
    # events once more here: the claims make both no-ops.
    db = Database(load().service("commendation"))
    try:
        cases = CommendationApp(db).rerating
        env = Envelope.from_body(body)
        code, overrides, when = settings_replica.from_event(env)
        assert not cases.follow_settings(
            "commendation.settings", env.event_id, code, overrides, when
        )
        with kit.engine.connect() as c:
            payload = c.execute(
                sa.text("SELECT payload FROM outbox WHERE id=:i"), {"i": order_id}
            ).scalar_one()
        order = Envelope.from_body(payload)
        assert (
            cases.follow_rerate("commendation.rerate", order_id, events.rerate(order))
            is None
        )
        # And re-rating again regardless (reconcile is idempotent): nothing new.
        again = cases.rerate(town)
        assert (again.done, again.opened, again.superseded, again.withdrawn) == (
            1, 0, 0, 0,
        )  # fmt: skip
    finally:
        db.dispose()
    assert kit.rerate_orders(town) == [(order_id, True)]
    assert kit.request_count(vid) == 1
    assert kit.stars(vid).pending.stars == 1


def test_cli_rerates_a_subtree_and_reports_counts(kit: Kit, migrated) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_cli import zhiyuan

    town = "610122105"  # 焦岱镇: its own thresholds, in this test only
    vids = [kit.volunteer(home=town) for _ in range(3)]
    for vid, hours in zip(vids, (1.0, 1.0, 0.5), strict=True):
        kit.approved_hours(vid, hours, where=town)
    for vid, hours in zip(vids, (1.0, 1.0, 0.5), strict=True):
        kit.wait_stars(vid, lambda s, h=hours: s.total_hours == pytest.approx(h))
    # Thresholds changed before the worker re-rated by itself: the replica
    # holds them, no event re-rated anyone.
    with kit.engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO policy_overrides (division_code, overrides, changed_at)"
                " VALUES (:c, CAST(:o AS json), now())"
            ),
            {
                "c": town,
                "o": json.dumps({"stars.thresholds_hours": "[1, 3, 6, 8, 10]"}),
            },
        )
    assert all(not kit.stars(v).pending.id for v in vids)

    done = zhiyuan(migrated, "stars", "rerate", "--division", town, "--batch", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("2/3 ") and lines[1].startswith("3/3 ")
    assert f"{town}: 3 ratings re-rated, 2 requests opened" in done.stdout
    assert f"{town}：已重新评定 3 人" in done.stdout
    assert [kit.stars(v).pending.stars for v in vids] == [1, 1, 0]

    again = zhiyuan(migrated, "stars", "rerate", "--division", town)
    assert again.returncode == 0, again.stderr
    assert (
        f"{town}: 3 ratings re-rated, 0 requests opened, 0 superseded" in again.stdout
    )
    assert all(kit.request_count(v) == (1 if v != vids[2] else 0) for v in vids)

    # The worker's parts: one rating per part here, the rest ordered through
    # the outbox and finished by the worker; still nothing new.
    import uuid

    from services.commendation.application import CommendationApp
    from services.commendation.usecases.rerate import RerateOrder
    from services.common.config import load
    from services.common.db import Database

    db = Database(load().service("commendation"))
    try:
        first = CommendationApp(db).rerating.follow_rerate(
            "commendation.rerate", str(uuid.uuid4()), RerateOrder(town),
            batch=1, batches=1,
        )  # fmt: skip
    finally:
        db.dispose()
    assert first is not None and first.done == 1 and first.last == min(vids)
    parts = kit.wait_rerated(town, 1)
    assert len(parts) >= 1  # the worker continued (and ended) the chain
    assert all(kit.request_count(v) == (1 if v != vids[2] else 0) for v in vids)

    bad = zhiyuan(migrated, "stars", "rerate", "--division", "61x")
    assert bad.returncode == 2 and "division" in bad.stderr
    helped = zhiyuan(migrated, "stars", "rerate", "--help")
    assert helped.returncode == 0 and "--division" in helped.stdout
    assert "重新评定" in helped.stdout
