"""Capacity and waitlist as a property: whatever sequence of sign-ups,
approvals and withdrawals, a session never holds more confirmed places than
its capacity, and places freed go to the waitlist in order of arrival.

The model below composes the domain's functions exactly as the sign-up use
cases do (place on arrival, place on approval, promotions on withdrawal).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from services.activity import domain


@dataclass
class Queue:
    capacity: int
    status: dict[int, str] = field(default_factory=dict)
    number: dict[int, int] = field(default_factory=dict)
    counter: int = 0
    promoted_log: list[list[int]] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for s in self.status.values() if s == status)

    def _enqueue(self, who: int) -> None:
        self.counter += 1
        self.number[who] = self.counter

    def waitlist(self) -> list[int]:
        waiting = [w for w, s in self.status.items() if s == "waitlisted"]
        return sorted(waiting, key=self.number.__getitem__)

    def join(self, who: int, approval: bool) -> None:
        if self.status.get(who) in ("pending", "confirmed", "waitlisted"):
            return  # ALREADY_EXISTS
        self.status[who] = domain.place_for(
            self._count("confirmed"), self.capacity, approval
        )
        self._enqueue(who)

    def approve(self, who: int) -> None:
        if self.status.get(who) != "pending":
            return
        self.status[who] = domain.place_for(
            self._count("confirmed"), self.capacity, False
        )
        self._enqueue(who)

    def withdraw(self, who: int) -> None:
        before = self.status.get(who)
        if before not in ("pending", "confirmed", "waitlisted"):
            return
        self.status[who] = "withdrawn"
        if before == "confirmed":
            head = domain.promotions(
                self.waitlist(), self._count("confirmed"), self.capacity
            )
            for nxt in head:
                self.status[nxt] = "confirmed"
            self.promoted_log.append(head)


OPS = st.lists(
    st.tuples(
        st.sampled_from(["join", "join_approval", "approve", "withdraw"]),
        st.integers(min_value=0, max_value=12),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(min_value=1, max_value=6), ops=OPS)
def test_never_more_confirmed_than_capacity_and_promotion_is_fifo(
    capacity: int, ops: list[tuple[str, int]]
) -> None:
    q = Queue(capacity)
    for op, who in ops:
        waiting_before = q.waitlist()
        if op == "join":
            q.join(who, approval=False)
        elif op == "join_approval":
            q.join(who, approval=True)
        elif op == "approve":
            q.approve(who)
        else:
            promoted_before = len(q.promoted_log)
            q.withdraw(who)
            if len(q.promoted_log) > promoted_before:
                promoted = q.promoted_log[-1]
                # The promoted are exactly the oldest waiting, in order.
                assert promoted == waiting_before[: len(promoted)]
                # A freed place is never left empty while someone waits.
                if waiting_before:
                    assert promoted
        confirmed = sum(1 for s in q.status.values() if s == "confirmed")
        assert confirmed <= capacity
        # Nobody waits while a place is free.
        assert not (q.waitlist() and confirmed < capacity)
