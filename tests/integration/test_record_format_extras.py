"""The national record format's training, awards and national number on
real servers (issue 14, part 8): a file's ``training[]`` goes to activity's
ImportTraining, its ``awards[]`` to commendation's ImportAwards and its
``basic.national_volunteer_number`` to registration, each once the line's
volunteer is found in the caller's scope.

- Round trip: a volunteer of Zhouzhi with local training, training and
  awards brought from a third platform and a national number is exported,
  and the file imported for a volunteer of Huyi (a second tenant) through
  the gateway: Huyi's export reproduces training, awards and the number
  field by field, marked imported with their issuer platforms; the same
  file again imports nothing twice; Zhouzhi's own export imported back
  into Zhouzhi is all duplicates; imported awards change no stars.
- Isolation: a line naming a neighbour's volunteer, a parent's or a number
  of no one is refused on its line, nothing written in any of the three
  services; the RPCs refuse the same volunteers by id, whole batch.
- Bad input: each bad field is a per-line error naming its path, and
  nothing of that line is written.

The facts are written through the services' own RPCs (as the other
record-format tests do), so the shared servers' databases are used; each
test makes its own volunteers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from zhiyuan.activity.v1 import activity_pb2 as apb
from zhiyuan.commendation.v1 import commendation_pb2 as cpb
from zhiyuan.registration.v1 import registration_pb2 as rpb

from services.common import record_format as fmt
from services.common.config import load
from services.gateway.app import create_app
from tests.helpers import auth, new_id_number, new_phone, ok
from tests.integration.test_certificate_lines import rows

pytestmark = pytest.mark.integration

COUNTY, TOWN = "610124", "610124001"  # 周至县, 二曲街道
OTHER, O_TOWN = "610118", "610118001"  # 鄠邑区: the second tenant
NEIGHBOUR, N_TOWN = "610122", "610122001"  # 蓝田县
PARENT, P_TOWN = "6101", "610104001"  # Xi'an, registering in 莲湖区
THIRD = "sx-volunteer-cloud"  # the platform the first records came from
TRAINING_KEYS = ("course_title", "session_id", "started_at", "ended_at", "hours")
AWARD_KEYS = ("kind", "title", "awarded_on", "division_code")


class Kit:
    def __init__(self, stubs: Any, token: Any, env: dict[str, str]):
        self.reg, self.act = stubs("registration"), stubs("activity")
        self.com = stubs("commendation")
        self.token, self.env = token, env

    def office(self, code: str) -> str:
        return self.token(code, "tenant_admin", username=f"office-{code}")

    def volunteer(self, home: str, name: str = "周记录") -> tuple[rpb.Volunteer, str]:
        """A verified volunteer at ``home`` in activity's and commendation's
        replicas, with its full ID number."""
        office = self.office(home[:6] if len(home) > 4 else home)
        ident = new_id_number(home[:6])
        vol = self.reg.RegisterVolunteer(
            rpb.RegisterVolunteerRequest(
                name=name, id_number=ident, phone=new_phone(),
                home_division_code=home, service_fields=["elderly_care"],
            ),
            metadata=auth(office),
        ).volunteer  # fmt: skip
        vol = self.reg.VerifyVolunteer(
            rpb.VerifyVolunteerRequest(id=vol.id), metadata=auth(office)
        ).volunteer
        from services.common.testing import wait_for

        for service in ("activity", "commendation"):
            wait_for(
                lambda s=service: rows(
                    self.env, s, "SELECT 1 FROM volunteers WHERE id = :v", v=vol.id
                ),
                timeout=30,
                what=f"the volunteer in {service}'s replica",
            )
        return vol, ident

    def trained(self, vol: rpb.Volunteer) -> str:
        """A two-hour session of a new county course, attended by ``vol``."""
        office = self.office(COUNTY)
        title = f"应急救护培训-{uuid.uuid4().hex[:6]}"
        course = self.act.CreateCourse(
            apb.CreateCourseRequest(division_code=COUNTY, title=title),
            metadata=auth(office),
        ).course
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
        session = self.act.CreateTrainingSession(
            apb.CreateTrainingSessionRequest(
                course_id=course.id, division_code=TOWN, place="社区服务中心",
                starts_at=start.isoformat(),
                ends_at=(start + timedelta(hours=2)).isoformat(),
            ),
            metadata=auth(office),
        ).session  # fmt: skip
        self.act.RecordTrainingAttendance(
            apb.RecordTrainingAttendanceRequest(
                training_session_id=session.id, volunteer_id=vol.id
            ),
            metadata=auth(office),
        )
        return title

    # -- what each service holds of a volunteer, read by its own office ---------
    def imported_training(self, vid: str, office: str) -> list[Any]:
        got = self.act.ListTrainingOf(
            apb.ListTrainingOfRequest(volunteer_id=vid, include_undated=True),
            metadata=auth(self.office(office)),
        ).attendances
        return [x for x in got if x.imported]

    def imported_awards(self, vid: str, office: str) -> list[Any]:
        got = self.com.ListAwardsOf(
            cpb.ListAwardsOfRequest(volunteer_id=vid, include_undated=True),
            metadata=auth(self.office(office)),
        ).awards
        return [a for a in got if a.kind == cpb.AWARD_KIND_IMPORTED]

    def national(self, vid: str, office: str) -> str:
        return self.reg.GetVolunteer(
            rpb.GetVolunteerRequest(id=vid), metadata=auth(self.office(office))
        ).volunteer.national_volunteer_number

    def held(self, vid: str, office: str) -> tuple[int, int, str]:
        return (
            len(self.imported_training(vid, office)),
            len(self.imported_awards(vid, office)),
            self.national(vid, office),
        )

    def stars(self, vid: str, office: str) -> Any:
        try:
            return self.com.GetVolunteerStars(
                cpb.GetVolunteerStarsRequest(volunteer_id=vid),
                metadata=auth(self.office(office)),
            ).stars
        except grpc.RpcError as err:
            return err.code()


@pytest.fixture(scope="module")
def kit(stubs: Any, token: Any, migrated: dict[str, str], worker: Any) -> Kit:
    return Kit(stubs, token, migrated)


@pytest.fixture(scope="module")
def client(apis: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


def national() -> str:
    return f"NV{uuid.uuid4().int % 10**16:016d}"


def line_of(
    vol: rpb.Volunteer, *, training: list[Any] = (), awards: list[Any] = (),  # type: ignore[assignment]
    number: str = "", ident: str = "", home: str = "",
) -> dict[str, Any]:  # fmt: skip
    """A volunteer line with no service records (masked ID unless ``ident``)."""
    return {
        "basic": {
            "name": "周记录", "id_type": "resident_id",
            "id_number": ident or "6101**********001X",
            "id_number_masked": not ident,
            "volunteer_number": vol.volunteer_number,
            "national_volunteer_number": number,
            "home_division_code": home or vol.home_division_code,
        },
        "services": [], "training": list(training), "awards": list(awards),
        "certificates": [],
    }  # fmt: skip


def third_training() -> dict[str, Any]:
    return {
        "course_title": "心肺复苏培训", "session_id": f"s-{uuid.uuid4().hex[:8]}",
        "started_at": "2025-05-10T01:00:00+00:00",
        "ended_at": "2025-05-10T04:00:00+00:00", "hours": 3,
    }  # fmt: skip


def third_awards() -> list[dict[str, Any]]:
    return [
        {"kind": "honour", "title": "优秀志愿者", "awarded_on": "2025-06-01",
         "division_code": "6108"},
        {"kind": "medal", "title": "silver", "awarded_on": None,
         "division_code": None},
    ]  # fmt: skip


def post(client: TestClient, tok: str, text: str) -> dict[str, Any]:
    got = client.post("/api/v1/records/import", content=text.encode(),
                      headers={"Authorization": f"Bearer {tok}"})  # fmt: skip
    return ok(got)


def file_of(
    lines: list[dict[str, Any]], issuer: str = THIRD, scope: str = COUNTY
) -> str:
    return fmt.encode(fmt.header(scope, datetime.now(UTC), len(lines), issuer=issuer),
                      lines)  # fmt: skip


def export(client: TestClient, tok: str, vid: str) -> dict[str, Any]:
    got = client.get("/api/v1/records/export", params={"volunteer_id": vid},
                     headers={"Authorization": f"Bearer {tok}"})  # fmt: skip
    assert got.status_code == 200, got.text
    _, lines = fmt.decode(got.text.splitlines())
    assert len(lines) == 1 and lines[0].problems == [], lines
    return lines[0].volunteer


def test_round_trip_into_a_second_tenant_reproduces_training_awards_and_number(
    kit: Kit, client: TestClient
) -> None:
    a, _ = kit.volunteer(TOWN)
    b, b_ident = kit.volunteer(O_TOWN, name="户记录")
    local = kit.trained(a)
    number = national()
    brought = third_training()
    owner, other = kit.office(COUNTY), kit.office(OTHER)
    # 1. Records from a third platform come into Zhouzhi for A.
    first = post(client, owner, file_of([line_of(
        a, training=[brought], awards=third_awards(), number=number)]))  # fmt: skip
    assert first["problems"] == [], first
    assert (first["training_imported"], first["awards_imported"],
            first["national_numbers"]) == (1, 2, 1)  # fmt: skip
    assert kit.national(a.id, COUNTY) == number
    listed = kit.imported_training(a.id, COUNTY)
    assert [
        (x.course_title, x.hours, x.issuer_platform, x.source_session_id)
        for x in listed
    ] == [("心肺复苏培训", 3.0, THIRD, brought["session_id"])]
    # The certificate's read (no undated) lists the dated award only.
    dated = kit.com.ListAwardsOf(cpb.ListAwardsOfRequest(volunteer_id=a.id),
                                 metadata=auth(owner)).awards  # fmt: skip
    assert [(x.kind, x.title, x.awarded_on, x.issuer_platform) for x in dated
            if x.kind == cpb.AWARD_KIND_IMPORTED] == [
        (cpb.AWARD_KIND_IMPORTED, "优秀志愿者", "2025-06-01", THIRD)]  # fmt: skip
    # 2. A's whole record, exported by Zhouzhi.
    va = export(client, owner, a.id)
    assert va["basic"]["national_volunteer_number"] == number
    assert sorted(t["course_title"] for t in va["training"]) == sorted(
        [local, "心肺复苏培训"]
    )
    assert [t.get("issuer_platform") for t in va["training"]
            if t["course_title"] == local] == [None]  # fmt: skip
    assert len(va["awards"]) == 2
    assert all(x["issuer_platform"] == THIRD for x in va["awards"])
    # 3. The file moves to Huyi for B (found by the full ID number); its
    # service records stay behind (they lie in Zhouzhi).
    moved = dict(va, services=[], certificates=[])
    moved["basic"] = dict(va["basic"], id_number=b_ident, id_number_masked=False,
                          home_division_code=O_TOWN)  # fmt: skip
    text = file_of([moved], issuer="zhiyuan", scope=OTHER)
    stars_before = kit.stars(b.id, OTHER)
    got = post(client, other, text)
    assert got["problems"] == [], got
    assert (got["training_imported"], got["awards_imported"],
            got["national_numbers"]) == (2, 2, 1)  # fmt: skip
    vb = export(client, other, b.id)
    assert vb["basic"]["national_volunteer_number"] == number

    def training(v: dict[str, Any]) -> list[tuple[Any, ...]]:
        return sorted(tuple(t[k] for k in TRAINING_KEYS) for t in v["training"])

    def awards(v: dict[str, Any]) -> list[tuple[Any, ...]]:
        return sorted((tuple(x[k] for k in AWARD_KEYS) for x in v["awards"]), key=str)

    assert training(vb) == training(va) and len(training(vb)) == 2
    assert awards(vb) == awards(va)
    # Marked imported with the platform that first kept each record.
    issuers = {t["course_title"]: t["issuer_platform"] for t in vb["training"]}
    assert issuers == {local: "zhiyuan", "心肺复苏培训": THIRD}
    assert {x["issuer_platform"] for x in vb["awards"]} == {THIRD}
    # 4. The same file again imports nothing twice.
    again = post(client, other, text)
    assert (again["training_imported"], again["training_duplicates"],
            again["awards_imported"], again["awards_duplicates"],
            again["national_numbers"]) == (0, 2, 0, 2, 0)  # fmt: skip
    assert kit.held(b.id, OTHER) == (2, 2, number)
    # Imported awards change no star rating.
    assert kit.stars(b.id, OTHER) == stars_before
    # 5. Zhouzhi's own export imported back into Zhouzhi: all duplicates
    # (its own session attended, the imported records already on file).
    back = post(client, owner, file_of([va], issuer="zhiyuan"))
    assert (
        back["training_imported"],
        back["training_duplicates"],
        back["awards_imported"],
        back["awards_duplicates"],
    ) == (0, 2, 0, 2)
    assert kit.held(a.id, COUNTY) == (1, 2, number)


def test_a_different_national_number_refuses_the_line_whole(
    kit: Kit, client: TestClient
) -> None:
    a, _ = kit.volunteer(TOWN)
    owner = kit.office(COUNTY)
    number = national()
    post(client, owner, file_of([line_of(a, number=number)]))
    got = post(client, owner, file_of([line_of(
        a, training=[third_training()], awards=third_awards()[:1],
        number=national())]))  # fmt: skip
    assert [(p["line"], p["field"], p["rule"]) for p in got["problems"]] == [
        (2, "basic.national_volunteer_number", "national_volunteer_number.conflict")
    ]
    assert kit.held(a.id, COUNTY) == (0, 0, number)


@pytest.mark.parametrize("who", ["neighbour", "parent", "nobody"])
def test_a_line_naming_a_volunteer_outside_the_scope_writes_nothing(
    kit: Kit, client: TestClient, who: str
) -> None:
    """Named by volunteer number (the home in the file claims ours) or by the
    full ID number: refused on its line like a number of no one, and
    nothing is written in activity, commendation or registration."""
    mine, _ = kit.volunteer(TOWN)
    if who == "nobody":
        target, ident, office = None, "", COUNTY
        stranger = rpb.Volunteer(
            volunteer_number="ZY" + "9" * 12, home_division_code=TOWN
        )
    else:
        home = N_TOWN if who == "neighbour" else P_TOWN
        office = NEIGHBOUR if who == "neighbour" else PARENT
        target, ident = kit.volunteer(home)
        stranger = target
    for by_ident in (False, True):
        if by_ident and ident == "":
            ident = new_id_number(COUNTY)  # a number of no one
        line = line_of(stranger, training=[third_training()],
                       awards=third_awards(), number=national(),
                       ident=ident if by_ident else "", home=TOWN)  # fmt: skip
        good = line_of(mine, training=[third_training()])
        got = post(client, kit.office(COUNTY), file_of([line, good]))
        field = "basic.id_number" if by_ident else "basic.volunteer_number"
        assert [(p["line"], p["field"]) for p in got["problems"]] == [(2, field)]
        assert got["training_imported"] == 1  # the good line only
        if target is not None:
            assert kit.held(target.id, office) == (0, 0, "")
        sql = "SELECT count(*) FROM imported_training WHERE volunteer_number = :n"
        assert rows(kit.env, "activity", sql, n=stranger.volunteer_number) == [(0,)]
    if target is not None:
        assert rows(kit.env, "commendation",
                    "SELECT count(*) FROM imported_awards WHERE volunteer_id = :v",
                    v=target.id)[0][0] == 0  # fmt: skip


def test_the_rpcs_refuse_a_volunteer_outside_the_scope_with_the_whole_batch(
    kit: Kit,
) -> None:
    mine, _ = kit.volunteer(TOWN)
    neighbour, _ = kit.volunteer(N_TOWN)
    parent, _ = kit.volunteer(P_TOWN)
    owner = auth(kit.office(COUNTY))
    for vid in (neighbour.id, parent.id, str(uuid.uuid4())):
        train = [
            apb.ImportedTrainingEntry(
                volunteer_id=v, course_title="急救", hours=1, issuer_platform=THIRD,
                source_session_id=f"s-{uuid.uuid4().hex[:6]}",
            )
            for v in (mine.id, vid)
        ]  # fmt: skip
        with pytest.raises(grpc.RpcError) as err:
            kit.act.ImportTraining(apb.ImportTrainingRequest(entries=train),
                                   metadata=owner)  # fmt: skip
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        assert "entries[1].volunteer_id" in str(err.value.trailing_metadata())
        award = [
            cpb.ImportedAwardEntry(
                volunteer_id=v, kind="honour", title=f"优秀-{uuid.uuid4().hex[:4]}",
                awarded_on="2025-01-02", issuer_platform=THIRD,
            )
            for v in (mine.id, vid)
        ]  # fmt: skip
        with pytest.raises(grpc.RpcError) as err:
            kit.com.ImportAwards(cpb.ImportAwardsRequest(entries=award),
                                 metadata=owner)  # fmt: skip
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert kit.held(mine.id, COUNTY) == (0, 0, "")
    assert kit.held(neighbour.id, NEIGHBOUR) == (0, 0, "")
    assert kit.held(parent.id, PARENT) == (0, 0, "")


BAD = [
    ("national", lambda ln: ln["basic"].update(national_volunteer_number="NV-12345"),
     "basic.national_volunteer_number", "national_volunteer_number.format"),
    ("full-width", lambda ln: ln["basic"].update(
        national_volunteer_number="ＮＶ１２３４５６７８"),
     "basic.national_volunteer_number", "national_volunteer_number.format"),
    ("bare CR", lambda ln: ln["training"][0].update(course_title="心肺\r复苏"),
     "training[0].course_title", "course_title.plain"),
    ("CR in award", lambda ln: ln["awards"][0].update(title="优秀\r志愿者"),
     "awards[0].title", "title.plain"),
    ("negative", lambda ln: ln["training"][0].update(hours=-1),
     "training[0].hours", "hours.range"),
    ("over the cap", lambda ln: ln["training"][0].update(
        started_at="2025-05-10T00:00:00+00:00", ended_at="2025-05-12T00:00:00+00:00",
        hours=25), "training[0].hours", "hours.range"),
    ("longer than the session", lambda ln: ln["training"][0].update(hours=3.5),
     "training[0].hours", "hours.range"),
    ("not a date", lambda ln: ln["awards"][0].update(awarded_on="2025-02-30"),
     "awards[0].awarded_on", "awarded_on.date"),
    ("not a time", lambda ln: ln["training"][0].update(started_at="昨天"),
     "training[0].started_at", "started_at.time"),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_a_bad_field_is_a_line_error_and_nothing_of_the_line_is_written(
    kit: Kit, client: TestClient, case: Any
) -> None:
    _, spoil, field, rule = case
    a, _ = kit.volunteer(TOWN)
    line = line_of(a, training=[third_training()], awards=third_awards(),
                   number=national())  # fmt: skip
    spoil(line)
    got = post(client, kit.office(COUNTY), file_of([line]))
    found = [(p["line"], p["field"], p["rule"]) for p in got["problems"]]
    assert found == [(2, field, rule)], found
    assert all(p["message_zh"] and p["message_en"] for p in got["problems"])
    assert (got["training_imported"], got["awards_imported"]) == (0, 0)
    assert kit.held(a.id, COUNTY) == (0, 0, "")


def test_a_line_of_json_with_a_raw_control_character_is_refused(
    kit: Kit, client: TestClient
) -> None:
    """A raw (unescaped) CR splits the line: neither half is a volunteer."""
    a, _ = kit.volunteer(TOWN)
    text = file_of([line_of(a, training=[third_training()])])
    head, body = text.splitlines()
    spoilt = body.replace("心肺复苏培训", "心肺\r复苏培训")
    got = post(client, kit.office(COUNTY), head + "\n" + spoilt + "\n")
    assert {p["rule"] for p in got["problems"]} == {"line.json"}
    assert kit.held(a.id, COUNTY) == (0, 0, "")


def test_bad_rpc_entries_name_the_field_and_write_nothing(kit: Kit) -> None:
    a, _ = kit.volunteer(TOWN)
    owner = auth(kit.office(COUNTY))
    good = dict(volunteer_id=a.id, course_title="急救", hours=1,
                issuer_platform=THIRD, source_session_id="s-1")  # fmt: skip
    for over, field in (
        ({"hours": 0}, "entries[1].hours"),
        ({"hours": 24.5}, "entries[1].hours"),
        ({"course_title": "急\r救"}, "entries[1].course_title"),
        ({"issuer_platform": "有 空格"}, "entries[1].issuer_platform"),
        ({"started_at": "2025-13-01T00:00:00Z"}, "entries[1].started_at"),
        ({"volunteer_id": "１２３"}, "entries[1].volunteer_id"),
    ):
        entries = [apb.ImportedTrainingEntry(**good),
                   apb.ImportedTrainingEntry(**{**good, **over})]  # fmt: skip
        with pytest.raises(grpc.RpcError) as err:
            kit.act.ImportTraining(apb.ImportTrainingRequest(entries=entries),
                                   metadata=owner)  # fmt: skip
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, over
        assert field in str(err.value.trailing_metadata()), over
    award = dict(volunteer_id=a.id, kind="honour", title="优秀",
                 awarded_on="2025-01-02", issuer_platform=THIRD)  # fmt: skip
    for over, field in (
        ({"awarded_on": "2025-02-30"}, "entries[1].awarded_on"),
        ({"kind": "Honour!"}, "entries[1].kind"),
        ({"title": "优\n秀"}, "entries[1].title"),
        ({"division_code": "６１０１"}, "entries[1].division_code"),
    ):
        entries = [cpb.ImportedAwardEntry(**award),
                   cpb.ImportedAwardEntry(**{**award, **over})]  # fmt: skip
        with pytest.raises(grpc.RpcError) as err:
            kit.com.ImportAwards(cpb.ImportAwardsRequest(entries=entries),
                                 metadata=owner)  # fmt: skip
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, over
        assert field in str(err.value.trailing_metadata()), over
    assert kit.held(a.id, COUNTY) == (0, 0, "")
    # A reader may not import.
    reader = auth(kit.token(COUNTY, "reviewer"))
    with pytest.raises(grpc.RpcError) as err:
        kit.act.ImportTraining(apb.ImportTrainingRequest(
            entries=[apb.ImportedTrainingEntry(**good)]), metadata=reader)  # fmt: skip
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert kit.held(a.id, COUNTY) == (0, 0, "")


def test_the_cli_imports_training_and_awards_once(
    kit: Kit, migrated: dict[str, str], tmp_path: Any
) -> None:
    from tests.integration.test_cli import zhiyuan

    a, _ = kit.volunteer(TOWN)
    number = national()
    path = tmp_path / "third.jsonl"
    path.write_text(file_of([line_of(a, training=[third_training()],
                                     awards=third_awards(), number=number)]),
                    encoding="utf-8")  # fmt: skip
    done = zhiyuan(migrated, "records", "import", str(path), "--scope", COUNTY)
    assert done.returncode == 0, done.stderr
    assert "training imported 1 · duplicates 0 · awards imported 2" in done.stdout
    again = zhiyuan(migrated, "records", "import", str(path), "--scope", COUNTY)
    assert "training imported 0 · duplicates 1 · awards imported 0 · duplicates 2" in (
        again.stdout
    ), again.stdout
    assert kit.held(a.id, COUNTY) == (1, 2, number)
