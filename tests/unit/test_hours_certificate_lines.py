"""A certificate's training and awards lines drawn from the records, without
a server: ticked sections are asked of the records' client over the
certificate's period, printed and stored; unticked ones are never asked; a
records service that does not answer refuses the certificate before the
name is revealed, with nothing written; lines typed by the requester (the
retired free-text fields) are refused, naming the field. (On the real
servers: tests/integration/test_certificate_lines.py.)"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from services.common.errors import InvalidArgument, Unavailable
from services.hours.certificate_lines import LIMIT, award_lines, training_lines
from services.hours.lines_client import AwardLine, TrainingLine
from services.hours.models import Certificate
from services.hours.usecases.certificates import Sections
from tests.unit.test_hours_usecases import (
    VID,
    Kit,
    draft,
    make_kit,
    who,
)

PERIOD = ("2026-01", "2026-12")


class FakeLines:
    """The records' answers, and what was asked; ``down`` refuses as the
    client does when a service does not answer."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.asked: list[tuple[str, str, tuple[str, str]]] = []

    def training(
        self, volunteer_id: str, period: tuple[str, str]
    ) -> list[TrainingLine]:
        self.asked.append(("training", volunteer_id, period))
        if self.down:
            raise Unavailable("activity did not answer", "活动服务暂时无响应")
        return [TrainingLine("应急救护培训", "2026-03-14T02:00:00+00:00", 2.5)]

    def awards(self, volunteer_id: str, period: tuple[str, str]) -> list[AwardLine]:
        self.asked.append(("awards", volunteer_id, period))
        return [AwardLine("star_rating", "2026-04-01", 1, "", "", "雁塔区")]


def make(lines: FakeLines) -> Kit:
    kit = make_kit(lines)
    record = kit.ingest(draft(minutes=120))
    assert record is not None
    kit.app.review.approve(who(), record.id)
    return kit


def issue(
    kit: Kit, sections: Sections, typed: tuple[list[str], list[str]] = ([], [])
) -> Certificate:
    return kit.app.certificates.issue(
        who(), VID, PERIOD, "", "", "雁塔区志愿者协会", "王建国", "", "029",
        sections, typed,
    )  # fmt: skip


def text_of(cert: Certificate) -> str:
    page = PdfReader(io.BytesIO(cert.pdf)).pages[0]
    return re.sub(r"\s+", "", page.extract_text())


def test_ticked_sections_are_drawn_from_the_records_printed_and_kept() -> None:
    lines = FakeLines()
    kit = make(lines)
    cert = issue(kit, Sections(training=True, awards=True))
    assert lines.asked == [("training", VID, PERIOD), ("awards", VID, PERIOD)]
    text = text_of(cert)
    assert "参加培训：2026年03月14日应急救护培训（2.5学时）" in text, text
    assert "获得表彰：2026年04月01日一星级志愿者（雁塔区）" in text, text
    (stored,) = kit.store.of(Certificate)
    assert stored.training_lines == ["2026年03月14日 应急救护培训（2.5学时）"]
    assert stored.award_lines == ["2026年04月01日 一星级志愿者（雁塔区）"]


def test_unticked_sections_are_not_asked_for_nor_printed() -> None:
    lines = FakeLines()
    kit = make(lines)
    cert = issue(kit, Sections())
    assert lines.asked == []
    text = text_of(cert)
    assert "参加培训" not in text and "获得表彰" not in text
    assert (cert.training_lines, cert.award_lines) == ([], [])


def test_a_records_service_down_refuses_before_the_name_is_revealed() -> None:
    kit = make(FakeLines(down=True))
    with pytest.raises(Unavailable):
        issue(kit, Sections(training=True))
    assert kit.store.of(Certificate) == []
    assert not [a for a in kit.registration.asked if a[0] == "identity"]


@pytest.mark.parametrize(
    ("typed", "field"),
    [((["急救培训"], []), "training"), (([], ["优秀志愿者"]), "awards")],
    ids=["training", "awards"],
)
def test_typed_lines_are_refused_naming_the_field(
    typed: tuple[list[str], list[str]], field: str
) -> None:
    lines = FakeLines()
    kit = make(lines)
    with pytest.raises(InvalidArgument) as err:
        issue(kit, Sections(training=True, awards=True), typed)
    assert (err.value.field, err.value.rule) == (field, f"{field}.from_records")
    assert err.value.message_zh and lines.asked == []
    assert kit.store.of(Certificate) == []


def test_blank_typed_lines_are_what_an_empty_form_sends_and_pass() -> None:
    kit = make(FakeLines())
    assert issue(kit, Sections(), ([" "], [""])).number


def test_a_long_section_is_capped_with_a_count() -> None:
    many = [
        TrainingLine(f"课程{i}", f"2026-03-{i + 1:02d}T02:00:00+00:00", 1.0)
        for i in range(LIMIT + 3)
    ]
    got = training_lines(many)
    assert len(got) == LIMIT + 1 and got[-1] == f"等{LIMIT + 3}项"
    assert got[0] == "2026年03月01日 课程0（1学时）"
    honour = AwardLine(
        "honour", "2026-01-02", 0, "2025年度优秀志愿者", "individual", ""
    )
    assert award_lines([honour]) == ("2026年01月02日 2025年度优秀志愿者（个人）",)
