"""Pure rules of a volunteer's conduct record as commendation keeps it (issue
14, part 2): the current evaluation of each hour record (hours'
``hours.record.evaluated``; a re-evaluation replaces the earlier one of its
record) and each complaint's latest status (``hours.complaint.*``).

What a poor evaluation blocks is the tenant policy ``evaluation.poor_blocks``
in force at the record's division when it was evaluated, as the event
carries it: ``stars`` holds new star requests, ``nominations`` refuses
nominations. A record re-evaluated to a good score stops blocking.
No I/O here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

BLOCKABLE = ("stars", "nominations")
# A complaint's statuses in the order they follow each other: a late event
# about an earlier status never moves a complaint back.
COMPLAINT_RANK = {"open": 0, "replied": 1, "upheld": 2, "dismissed": 2}
HELD_STARS = (
    "held: a poor evaluation blocks new star requests (evaluation.poor_blocks)"
    " / 暂缓：服务评价较差，按本地政策暂停星级申请"
)


@dataclass(frozen=True)
class EvaluationNews:
    """What ``hours.record.evaluated`` says about one record."""

    record_id: str
    volunteer_id: str
    volunteer_number: str
    division_code: str  # the record's (where the service was)
    score: int
    poor: bool
    poor_blocks: tuple[str, ...]
    replaced: int
    occurred_at: datetime


@dataclass(frozen=True)
class ComplaintNews:
    """What ``hours.complaint.filed|replied|decided`` says."""

    complaint_id: str
    volunteer_id: str
    volunteer_number: str
    division_code: str  # the filing office's
    status: str
    occurred_at: datetime


@dataclass(frozen=True)
class Standing:
    """A volunteer's conduct figures: the evidence a nomination shows."""

    evaluated_records: int = 0
    poor_records: int = 0
    average_score: float = 0.0
    complaints_upheld: int = 0
    complaints_dismissed: int = 0
    complaints_open: int = 0

    def as_evidence(self) -> dict[str, Any]:
        return {
            "evaluated_records": self.evaluated_records,
            "poor_evaluations": self.poor_records,
            "average_score": self.average_score,
            "complaints_upheld": self.complaints_upheld,
            "complaints_dismissed": self.complaints_dismissed,
            "complaints_open": self.complaints_open,
        }


def replaces(
    kept_replaced: int, kept_at: datetime, news_replaced: int, news_at: datetime
) -> bool:
    """Whether an evaluation replaces the one kept for its record: hours
    counts the replacements of a record, so the higher count is the later
    evaluation whatever order the events arrive in (time breaks a tie)."""
    return (news_replaced, news_at) > (kept_replaced, kept_at)


def complaint_moves(kept: str, news: str) -> bool:
    """Whether a complaint's status moves from ``kept`` to ``news``: only
    forward (open → replied → upheld/dismissed); a decided one stays."""
    return COMPLAINT_RANK.get(news, -1) > COMPLAINT_RANK.get(kept, -1)


def blocks(current: Iterable[tuple[bool, Iterable[str]]]) -> frozenset[str]:
    """What a volunteer's current evaluations block: the union of the
    policy blocks of the poor ones, as ``(poor, poor_blocks)`` pairs."""
    out: set[str] = set()
    for poor, blocked in current:
        if poor:
            out.update(b for b in blocked if b in BLOCKABLE)
    return frozenset(out)


def standing(
    scores: Iterable[tuple[int, bool]], complaint_statuses: Iterable[str]
) -> Standing:
    """The figures from the current evaluations (``(score, poor)`` pairs)
    and the complaints' statuses; open counts replied ones too (not yet
    decided). The average has two decimals; 0 with no evaluation."""
    got = list(scores)
    statuses = list(complaint_statuses)
    average = round(sum(s for s, _ in got) / len(got), 2) if got else 0.0
    return Standing(
        evaluated_records=len(got),
        poor_records=sum(1 for _, poor in got if poor),
        average_score=average,
        complaints_upheld=statuses.count("upheld"),
        complaints_dismissed=statuses.count("dismissed"),
        complaints_open=sum(1 for s in statuses if s in ("open", "replied")),
    )


def nomination_refusal() -> tuple[str, str]:
    """The English and Chinese words of a refused nomination."""
    return (
        "the volunteer has a poor evaluation, and the tenant policy "
        "evaluation.poor_blocks bars nominating them until it is re-evaluated",
        "该志愿者有服务评价较差的记录，按本地政策（evaluation.poor_blocks）"
        "在重新评价前不得推荐",
    )
