"""Use cases for collection events: the weights collected, the bins emptied
(a full one is deployed again) and, optionally, the activity session whose
check-ins earn the volunteers' hours. Recording a collection creates no
hours: the hours come from activity's check-out, the normal way."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.common.auth import Principal
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.roles import require_organisation
from services.common.unit_of_work import Work
from services.recycling import domain
from services.recycling import models as m
from services.recycling import validation as v
from services.recycling.quantities import Weights, check_weights
from services.recycling.repository import BIN, Repository, missing
from services.recycling.usecases.base import Context
from services.recycling.usecases.bins import BinCases


@dataclass(frozen=True)
class CollectionDraft:
    """A checked collection, its activity link verified with activity."""

    division_code: str
    organisation_id: str
    organisation_name: str
    collected_on: date
    bin_codes: tuple[str, ...]  # sorted: the order every answer lists them in
    weights: Weights
    activity_project_id: str = ""
    activity_session_id: str = ""
    note: str = ""


class CollectionCases:
    """Recording collections; ``bins`` applies the status changes of the
    bins a collection empties."""

    def __init__(self, ctx: Context, bins: BinCases):
        self.ctx, self.bins = ctx, bins

    def check_collection(
        self,
        p: Principal,
        division_code: str,
        organisation_id: str,
        organisation_name: str,
        collected_on: str,
        bin_codes: Sequence[str],
        weights: tuple[float, float, float],
        activity_project_id: str = "",
        activity_session_id: str = "",
        note: str = "",
    ) -> CollectionDraft:
        """The request's values checked; a linked session is asked of activity
        (as the caller) before any transaction opens."""
        p.require_any(*domain.MANAGERS)
        draft = CollectionDraft(
            v.division(p.scope, division_code),
            v.ident(organisation_id, "organisation_id", required=False),
            v.text(organisation_name, "organisation_name", 200),
            v.day(collected_on, "collected_on", self.ctx.today()),
            tuple(sorted(v.bin_codes(list(bin_codes)))),
            check_weights(v.weights(*weights, field="weights")),
            v.ident(activity_project_id, "activity_project_id", required=False),
            v.ident(activity_session_id, "activity_session_id", required=False),
            v.text(note, "note", 500, required=False),
        )
        # An org_leader records its own organisation's collections only.
        require_organisation(p, draft.organisation_id, "organisation_id")
        self.ctx.organisation(draft.organisation_id)
        project, session = draft.activity_project_id, draft.activity_session_id
        if bool(project) != bool(session):
            field = "activity_session_id" if project else "activity_project_id"
            raise InvalidArgument(
                field,
                f"{field}.required",
                "name both the activity project and its session, or neither",
                "关联活动时须同时填写项目和场次",
            )
        if project:
            self.ctx.require_activity().check_service_session(project, session)
        return draft

    def record_collection(
        self, p: Principal, draft: CollectionDraft
    ) -> tuple[m.Collection, list[m.Bin]]:
        """One collection event: +1 event and its kg in the month collected."""
        return self.record_collections(p, [draft])[0]

    def record_collections(
        self, p: Principal, drafts: Sequence[CollectionDraft]
    ) -> list[tuple[m.Collection, list[m.Bin]]]:
        """Several collections in one transaction: all of them or none."""
        p.require_any(*domain.MANAGERS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            # Every listed bin locked at once, in one order: no deadlocks.
            wanted: dict[str, set[str]] = {}
            for d in drafts:
                wanted.setdefault(d.division_code[:2], set()).update(d.bin_codes)
            found = {
                (province, code): b
                for province, codes in sorted(wanted.items())
                for code, b in repo.bins_by_code(province, sorted(codes)).items()
            }
            return [self._collect(work, repo, p, d, found) for d in drafts]

    def _collect(
        self,
        work: Work,
        repo: Repository,
        p: Principal,
        d: CollectionDraft,
        found: dict[tuple[str, str], m.Bin],
    ) -> tuple[m.Collection, list[m.Bin]]:
        require_organisation(p, d.organisation_id, "organisation_id")
        bins = self._emptied_bins(d, found)
        row = m.Collection(
            id=str(uuid.uuid4()), division_code=d.division_code,
            organisation_id=d.organisation_id, organisation_name=d.organisation_name,
            collected_on=d.collected_on, textiles_kg=d.weights.textiles,
            books_kg=d.weights.books, other_kg=d.weights.other,
            activity_project_id=d.activity_project_id,
            activity_session_id=d.activity_session_id, note=d.note,
            recorded_by=p.username, recorded_at=self.ctx.clock(),
        )  # fmt: skip
        repo.add(row)
        repo.flush()
        for b in bins:
            repo.add(
                m.CollectionBin(
                    collection_id=row.id, bin_id=b.id, bin_code=b.code,
                    division_code=d.division_code,
                )
            )  # fmt: skip
            if b.last_emptied_on is None or b.last_emptied_on < d.collected_on:
                b.last_emptied_on = d.collected_on
            after = domain.emptied_status(b.status, b.status_changed_on, d.collected_on)
            if after != b.status:
                why = "清运后恢复使用 / emptied, back in service"
                self.bins.apply_change(
                    work, repo, p, b, b.status, after, d.collected_on, why, row.id
                )
        month = domain.month_of_day(d.collected_on)
        work.bump(m.ROLLUP, d.division_code, month, events=1, **d.weights.metrics())
        work.record(
            "recycling.collection.recorded",
            d.division_code,
            {
                "collection_id": row.id,
                "division_code": d.division_code,
                "organisation_id": d.organisation_id,
                "organisation_name": d.organisation_name,
                "collected_on": d.collected_on.isoformat(),
                "bin_codes": list(d.bin_codes),
                "textiles_kg": float(d.weights.textiles),
                "books_kg": float(d.weights.books),
                "other_kg": float(d.weights.other),
                "total_kg": float(d.weights.total),
                "activity_project_id": d.activity_project_id,
                "activity_session_id": d.activity_session_id,
            },
        )
        return row, bins

    def _emptied_bins(
        self, d: CollectionDraft, found: dict[tuple[str, str], m.Bin]
    ) -> list[m.Bin]:
        """The listed bins, each in scope, inside the event's division, in
        service and deployed by the day of the collection."""
        out = []
        for code in d.bin_codes:
            b = found.get((d.division_code[:2], code))
            if b is None:  # another tenant's bin looks exactly like none
                raise missing("bin_codes", *BIN, code)
            if not b.division_code.startswith(d.division_code):
                raise InvalidArgument(
                    "bin_codes",
                    "bin_codes.within_division",
                    f"bin {code} does not lie in the event's division",
                    f"回收箱 {code} 不在本次回收活动的区划内",
                )
            if b.status == "retired":
                raise FailedPrecondition(
                    f"bin {code} is retired",
                    f"回收箱 {code} 已撤除",
                    field="bin_codes",
                    rule="bin.retired",
                )
            v.not_before(
                d.collected_on, b.deployed_on, "collected_on", "the bin's deployment"
            )
            out.append(b)
        return out
