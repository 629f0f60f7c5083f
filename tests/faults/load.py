"""A steady load of accepted requests through the gateway, and the exact
reconciliation of what it left in every service's database and queue.

Each actor repeats one volunteer's story: register (with a request_id),
verify, honour hours (with a request_id), approve. That makes three events
(``volunteer.registered`` and ``.verified`` for registration's feed, activity
and commendation; ``record.approved`` for hours' time bank and commendation).

A client retries a 503 or a broken connection with the same request, as a
real client would; a 409 on such a retry means the first try had landed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.common.auth import TokenIssuer
from services.common.testing import PRIVATE_PEM
from tests.helpers import new_id_number, new_phone

COUNTY, TOWN = "610113", "610113006"
DIGITS = "零一二三四五六七八九"
RETRYABLE = {503}


def bearer(scope: str, role: str, username: str) -> dict[str, str]:
    value, _ = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan").issue(
        subject=username, username=username, scope_code=scope, roles=[role], ttl=3600
    )
    return {"authorization": f"Bearer {value}"}


@dataclass
class Outcome:
    """What the clients saw and what they were promised."""

    statuses: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    volunteers: dict[str, str] = field(default_factory=dict)  # request_id → id
    abandoned_volunteers: set[str] = field(default_factory=set)  # request_ids
    verified: set[str] = field(default_factory=set)
    records: dict[str, str] = field(default_factory=dict)  # request_id → id
    abandoned_records: set[str] = field(default_factory=set)
    approved: set[str] = field(default_factory=set)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge(self, other: Outcome) -> None:
        """Add an earlier scenario's promises (the databases keep them all)."""
        self.volunteers.update(other.volunteers)
        self.abandoned_volunteers |= other.abandoned_volunteers
        self.verified |= other.verified
        self.records.update(other.records)
        self.abandoned_records |= other.abandoned_records
        self.approved |= other.approved

    def saw(self, status: int | str) -> None:
        with self.lock:
            self.statuses[str(status)] += 1
            self.requests += 1

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "statuses": dict(self.statuses),
            "volunteers": len(self.volunteers),
            "verified": len(self.verified),
            "records": len(self.records),
            "approved": len(self.approved),
            "unexpected": self.unexpected[:10],
        }


class Load:
    """Actors in threads, each a volunteer's story at a time, until stopped."""

    def __init__(self, base: str, organisation: dict[str, str], actors: int = 3):
        self.base, self.org, self.actors = base, organisation, actors
        self.county = bearer(COUNTY, "tenant_admin", "fault-county")
        self.province = bearer("61", "province_admin", "fault-province")
        self.out = Outcome()
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.counter = 0
        self.give_up = float("inf")

    def __enter__(self) -> Load:
        for n in range(self.actors):
            thread = threading.Thread(target=self._actor, name=f"actor-{n}")
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> Outcome:
        # A story under way finishes (retrying up to 30 s more), none begins.
        self.give_up = time.monotonic() + 30
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=60)
        return self.out

    def wait_accepted(self, more: int, timeout: float = 60) -> None:
        """Until ``more`` further stories were approved (the load is moving)."""
        target = len(self.out.approved) + more
        deadline = time.monotonic() + timeout
        while len(self.out.approved) < target:
            assert time.monotonic() < deadline, f"load stalled: {self.out.summary()}"
            time.sleep(0.1)

    # -- one story ---------------------------------------------------------------
    def _actor(self) -> None:
        with httpx.Client(base_url=f"{self.base}/api/v1", timeout=15) as http:
            while not self.stop_event.is_set():
                self._story(http)

    def _next(self) -> int:
        with self.out.lock:
            self.counter += 1
            return self.counter

    def _story(self, http: httpx.Client) -> None:
        n = self._next()
        out = self.out
        reg_key = f"fault-vol-{uuid.uuid4()}"
        body = {
            "name": "故障" + "".join(DIGITS[int(d)] for d in str(n)),
            "id_number": new_id_number(COUNTY),
            "phone": new_phone(),
            "home_division_code": TOWN,
            "service_fields": ["elderly_care"],
            "request_id": reg_key,
        }
        got = self._call(http, "/volunteers", body, self.county)
        if not got:
            out.abandoned_volunteers.add(reg_key)
            return
        vol = got["volunteer"]["id"]
        out.volunteers[reg_key] = vol
        if self._call(http, f"/volunteers/{vol}/verify", None, self.county) is None:
            return
        out.verified.add(vol)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        rec_key = f"fault-rec-{uuid.uuid4()}"
        got = self._call(
            http,
            "/hours/honour",
            {
                "volunteer_id": vol,
                "division_code": COUNTY,
                "organisation_id": self.org["id"],
                "organisation_name": self.org["name"],
                "service_field": "elderly_care",
                "content": "故障演练服务",
                "session_start": start.isoformat(),
                "session_end": (start + timedelta(hours=2)).isoformat(),
                "hours": 1.5,
                "reason": "故障演练",
                "request_id": rec_key,
            },
            self.county,
        )
        if not got:
            out.abandoned_records.add(rec_key)
            return
        record = got["record"]["id"]
        out.records[rec_key] = record
        path = f"/hours/records/{record}/approve"
        if self._call(http, path, None, self.province) is not None:
            out.approved.add(record)

    def _call(
        self, http: httpx.Client, path: str, body: Any, headers: dict[str, str]
    ) -> dict[str, Any] | None:
        """POST until 2xx, retrying a 5xx or a broken connection; None if the
        load stopped first or the answer was another 4xx. A 409 on a retry
        returns {}. Any answer but 2xx, 503 or that 409 is kept as
        unexpected (a 5xx is still retried, so the story goes on)."""
        tries = 0
        while True:
            tries += 1
            try:
                r = http.post(path, json=body, headers=headers)
            except httpx.TransportError as exc:
                self.out.saw(type(exc).__name__)
                self.out.unexpected.append(f"{path} → {exc!r}")
            else:
                status = r.status_code
                self.out.saw(status)
                if 200 <= status < 300:
                    return r.json()
                if status == 409 and tries > 1:
                    return {}
                if status not in RETRYABLE:
                    self.out.unexpected.append(f"{path} → {status} {r.text[:300]}")
                    if status < 500:
                        return None
            if self.stop_event.is_set() and time.monotonic() > self.give_up:
                return None
            time.sleep(0.2)
