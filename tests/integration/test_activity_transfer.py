"""Activity follows a volunteer's transfer (``registration.volunteer.
transferred``, issue 14) through the worker's handler code, on PostgreSQL
(the session's migrated database: migration 0007's SECURITY DEFINER move of
rows held in other counties) and on the embedded SQLite.

A volunteer of Yanliang (610114001) signed up for sessions in Baqiao
(610111): one held (attended), one held (not attended), one not yet held
(confirmed), one not yet held (waitlisted); and for a training session held
and one not yet held. They move to Chang'an (610116002) at ``AT``:

* the replica's home is the new one;
* the sign-ups and training of sessions not yet held carry the new home;
* the past rows (the attendance, the held sessions' sign-ups, the training
  attended) keep the old home;
* the same event again, or the same transfer under another event id,
  changes nothing; a late ``verified`` of before the move leaves the home;
* two transfers arriving in the wrong order end as in the right order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.activity import models as m
from services.activity import moves, replica
from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.common.testing import create_migrated_database, drop_database

pytestmark = pytest.mark.integration

OLD, NEW, FAR = "610114001", "610116002", "620104001"  # 阎良, 长安, 兰州西固
HOST = "610111001"  # 灞桥: where the sessions are held
AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the transfer's moment
TABLES = (m.SignUp, m.Attendance, m.Pair, m.Visit, m.TrainingAttendance)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def db(request, tmp_path_factory) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    request.getfixturevalue("migrated" if request.param == "postgresql" else "env")
    if request.param == "postgresql":
        with private_database() as database:
            yield database
        return
    svc = dataclasses.replace(load().service("activity"), database_pool_size=2)
    path = Path(tmp_path_factory.mktemp("embedded")) / "activity.db"
    svc = dataclasses.replace(svc, database_url=f"sqlite:///{path}")
    upgrade(svc)
    database = Database(svc)
    yield database
    database.dispose()


@contextlib.contextmanager
def private_database() -> Iterator[Database]:
    """A fresh activity database at head: these tests write facts straight
    into the tables (no rollups), which the session's shared database must
    not see (test_activity_rollup compares its rollups with every raw fact)."""
    svc = load().service("activity")
    url = create_migrated_database(svc, "zy_actmove")
    database = Database(
        dataclasses.replace(svc, database_url=url, database_pool_size=2)
    )
    try:
        yield database
    finally:
        database.dispose()
        drop_database(url)


class Rows:
    """One test's activity rows, written as the province (row security lets
    it write anywhere in Shaanxi) and read back past row security (the
    test's own engine connection: the server's owner, or SQLite)."""

    def __init__(self, db: Database, scope: str = "61"):
        self.db, self.scope = db, scope
        self.now = AT - timedelta(days=60)

    def _add(self, *rows: Any) -> None:
        with self.db.session(Scope(self.scope)) as s:
            for row in rows:
                s.add(row)
                s.flush()  # in order: no relationships to sort them by

    def volunteer(self, home: str, status: str = "verified") -> tuple[str, str]:
        vid = str(uuid.uuid4())
        number = f"ZY{uuid.uuid4().int % 10**12:012d}"
        self._add(
            m.VolunteerReplica(
                id=vid, volunteer_number=number, home_division_code=home,
                status=status, birth_date=None, service_fields=[],
                updated_at=self.now,
            )
        )  # fmt: skip
        return vid, number

    def session(self, code: str, starts: datetime) -> str:
        pid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        self._add(
            m.Project(
                id=pid, organisation_id=str(uuid.uuid4()), organisation_name="灞桥志协",
                division_code=code, title="敬老院陪伴", description="", place="敬老院",
                service_field="elderly_care", kind="service",
                recruit_starts_at=self.now, recruit_ends_at=starts, min_age=0,
                required_skills=[], leader_approval=False, emergency=False,
                status="recruiting", publisher_subject="t", publisher_name="t",
                reviewer_name=None, comment="", created_at=self.now,
                updated_at=self.now, published_at=self.now, closed_at=None,
            ),
            m.ProjectSession(
                id=sid, project_id=pid, division_code=code, emergency=False,
                starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=5,
                secret=b"k" * 32,
            ),
        )  # fmt: skip
        return sid

    def sign_up(
        self, session: str, vol: tuple[str, str], home: str, status: str = "confirmed"
    ) -> str:
        ident = str(uuid.uuid4())
        code = self._session_code(session)
        self._add(
            m.SignUp(
                id=ident, session_id=session, project_id="", division_code=code,
                volunteer_id=vol[0], volunteer_number=vol[1],
                volunteer_division_code=home, status=status,
                queue_number=1 + uuid.uuid4().int % 1000, reason="",
                created_by="t", created_at=self.now, decided_at=None,
            )
        )  # fmt: skip
        return ident

    def attendance(self, sign_up: str) -> str:
        ident = str(uuid.uuid4())
        with self.db.session(Scope(self.scope)) as s:
            su = s.get(m.SignUp, sign_up)
            assert su is not None
            started = s.get(m.ProjectSession, su.session_id)
            assert started is not None
            s.add(
                m.Attendance(
                    id=ident, session_id=su.session_id, project_id=su.project_id,
                    sign_up_id=su.id, division_code=su.division_code,
                    volunteer_id=su.volunteer_id, volunteer_number=su.volunteer_number,
                    volunteer_division_code=su.volunteer_division_code,
                    checked_in_at=started.starts_at, checked_out_at=None,
                    closed_by=None,
                )
            )  # fmt: skip
        return ident

    def training(
        self, code: str, starts: datetime, vol: tuple[str, str], home: str
    ) -> str:
        cid, tsid, ident = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        self._add(
            m.Course(
                id=cid, division_code=code, title="急救", description="",
                created_by="t", created_at=self.now,
            ),
            m.TrainingSession(
                id=tsid, course_id=cid, division_code=code, place="会议室",
                starts_at=starts, ends_at=starts + timedelta(hours=2),
                created_by="t", created_at=self.now,
            ),
            m.TrainingAttendance(
                id=ident, training_session_id=tsid, course_id=cid,
                division_code=code, volunteer_id=vol[0], volunteer_number=vol[1],
                volunteer_division_code=home, hours=Decimal("2.00"),
                recorded_by="t", recorded_at=self.now,
            ),
        )  # fmt: skip
        return ident

    def pair(
        self, code: str, vol: tuple[str, str], recipient: str = ""
    ) -> tuple[str, str, str]:
        """A pair (with a new recipient unless one is given) and one visit:
        (recipient, pair, visit)."""
        rid, pid, visit = (
            recipient or str(uuid.uuid4()),
            str(uuid.uuid4()),
            str(uuid.uuid4()),
        )
        rows: list[Any] = []
        if not recipient:
            rows.append(
                m.Recipient(
                    id=rid, division_code=code, name_enc=b"x", name_masked="李*",
                    phone_enc=None, phone_masked="", address_enc=b"x",
                    address_masked="**", pairing_mode="individual", needs="",
                    consent_at=self.now, consent_recorded_by="t", created_at=self.now,
                )
            )  # fmt: skip
        rows += [
            m.Pair(
                id=pid, recipient_id=rid, volunteer_id=vol[0], volunteer_number=vol[1],
                organisation_id="o", organisation_name="志协", division_code=code,
                created_by="t", created_at=self.now,
            ),
            m.Visit(
                id=visit, pair_id=pid, recipient_id=rid, volunteer_id=vol[0],
                volunteer_number=vol[1], division_code=code, started_at=self.now,
                ended_at=self.now + timedelta(hours=1), note="", logged_by="t",
                created_at=self.now,
            ),
        ]  # fmt: skip
        self._add(*rows)
        return rid, pid, visit

    def _session_code(self, session: str) -> str:
        with self.db.engine.connect() as conn:
            t = m.ProjectSession.__table__
            return str(
                conn.execute(
                    select(t.c.division_code).where(t.c.id == session)
                ).scalar_one()
            )

    # -- reading back, past row security --------------------------------------------
    def state(self, *vols: str) -> dict[str, Any]:
        """Every row of the volunteers in the five tables keyed by one, and
        their replicas: (volunteer, number, home code where the row has one)."""
        out: dict[str, Any] = {}
        with self.db.engine.connect() as conn:
            for model in TABLES:
                t = model.__table__
                cols = [t.c.id, t.c.volunteer_id, t.c.volunteer_number]
                if "volunteer_division_code" in t.c:
                    cols.append(t.c.volunteer_division_code)
                rows = conn.execute(select(*cols).where(t.c.volunteer_id.in_(vols)))
                out[model.__tablename__] = {r[0]: tuple(r[1:]) for r in rows}
            v = m.VolunteerReplica.__table__
            rows = conn.execute(
                select(v.c.id, v.c.home_division_code, v.c.status).where(
                    v.c.id.in_(vols)
                )
            )
            out["volunteers"] = {r[0]: (r[1], r[2]) for r in rows}
        return out


def transferred(
    vol: tuple[str, str], old: str, new: str, at: datetime = AT, transfer: str = ""
) -> dict[str, Any]:
    """A ``registration.volunteer.transferred`` as registration writes it."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "registration.volunteer.transferred",
        "occurred_at": at.isoformat(),
        "division_code": new,
        "data": {
            "volunteer_id": vol[0], "volunteer_number": vol[1],
            "home_division_code": new, "status": "verified",
            "birth_date": "1990-05-01", "service_fields": ["elderly_care"],
            "transfer_id": transfer or str(uuid.uuid4()),
            "from_division_code": old, "to_division_code": new,
        },
    }  # fmt: skip


def test_future_commitments_and_replica_move_and_the_past_stays(db: Database) -> None:
    rows = Rows(db)
    vol = rows.volunteer(OLD)
    day = timedelta(days=1)
    held = rows.sign_up(rows.session(HOST, AT - 5 * day), vol, OLD)
    attended = rows.attendance(held)
    missed = rows.sign_up(rows.session(HOST, AT - 2 * day), vol, OLD)
    coming = rows.sign_up(rows.session(HOST, AT + 3 * day), vol, OLD)
    waiting = rows.sign_up(rows.session(HOST, AT + 4 * day), vol, OLD, "waitlisted")
    trained = rows.training(HOST, AT - 7 * day, vol, OLD)
    to_train = rows.training(HOST, AT + 6 * day, vol, OLD)
    before = rows.state(vol[0])
    body = transferred(vol, OLD, NEW)

    assert moves.follow_transfer(db, body)

    after = rows.state(vol[0])
    homes = {i: r[-1] for i, r in after["sign_ups"].items()}
    assert homes == {held: OLD, missed: OLD, coming: NEW, waiting: NEW}
    assert after["attendances"] == before["attendances"]
    assert after["attendances"][attended][-1] == OLD
    training = {i: r[-1] for i, r in after["training_attendances"].items()}
    assert training == {trained: OLD, to_train: NEW}
    assert after["volunteers"] == {vol[0]: (NEW, "verified")}
    # The same event again, or the same transfer announced again, changes
    # nothing.
    assert not moves.follow_transfer(db, body)
    again = {**body, "event_id": str(uuid.uuid4())}
    assert moves.follow_transfer(db, again)
    assert rows.state(vol[0]) == after
    # A review event of before the move, arriving late, leaves the home.
    late = {
        **again, "event_id": str(uuid.uuid4()),
        "event_type": "registration.volunteer.verified",
        "occurred_at": (AT - 30 * day).isoformat(), "division_code": OLD,
        "data": {**again["data"], "home_division_code": OLD},
    }  # fmt: skip
    assert replica.apply(db, "activity.replica.volunteer", late)
    assert rows.state(vol[0]) == after


def test_transfers_out_of_order_end_as_in_order(db: Database) -> None:
    """OLD → NEW at AT, then NEW → FAR (another province) five days later:
    applied in either order, a session belongs to the home of its time."""
    day = timedelta(days=1)
    outcomes = []
    for order in ((0, 1), (1, 0)):
        rows = Rows(db)
        vol = rows.volunteer(OLD)
        ids = [
            rows.sign_up(rows.session(HOST, AT + n * day), vol, OLD) for n in (-1, 2, 7)
        ]
        events = [
            transferred(vol, OLD, NEW, AT),
            transferred(vol, NEW, FAR, AT + 5 * day),
        ]
        for i in order:
            assert moves.follow_transfer(db, events[i])
        state = rows.state(vol[0])
        outcomes.append(
            ([state["sign_ups"][i][-1] for i in ids], state["volunteers"][vol[0]][0])
        )
    assert outcomes[0] == outcomes[1] == ([OLD, NEW, FAR], FAR)
