"""Seal images (公章) for certificates: an office uploads its own, or an
organisation's (one registration shows the caller; an organisation's leader
only its own), for a node in its scope; a new upload replaces the old. The
image is checked (PNG or JPEG, at most 512 KiB, 64 to 2048 pixels a side)
and sealed with the PII cipher as certificates' PDFs are. Certificates
issued at the node or below carry it (:meth:`SealCases.image_for`)."""

from __future__ import annotations

import hashlib

from services.common.auth import Principal
from services.common.roles import require_organisation
from services.hours import domain
from services.hours import validation as v
from services.hours.models import Seal
from services.hours.repository import Repository, missing
from services.hours.usecases.base import Context

SEAL_CONTEXT = "certificate.seal"


class SealCases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def upload(self, p: Principal, code: str, org_id: str, image: bytes) -> Seal:
        """Keep ``image`` as the seal of ``code`` (the caller's scope when
        empty) for ``org_id`` ('' the office's).

        Example::

            seal = app.seals.upload(p, "610113", "", png_bytes)
        """
        p.require_any(*domain.WRITERS)
        code = p.scope.require(code or p.scope.code, "division_code")
        org_id = v.ident(org_id, "organisation_id", required=False)
        media_type, width, height = v.seal_image(image)
        require_organisation(p, org_id, "organisation_id")
        if org_id:  # one the caller may see: another's is NOT_FOUND
            self.ctx.registration_client().organisation(org_id)
        sealed = (
            self.ctx.cipher.seal(image, context=SEAL_CONTEXT)
            if self.ctx.cipher
            else image
        )
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            found = repo.seal(code, org_id, lock=True)
            if found is None:
                found = Seal(division_code=code, organisation_id=org_id)
                repo.add(found)
            found.media_type, found.size_bytes = media_type, len(image)
            found.width, found.height = width, height
            found.sha256 = hashlib.sha256(image).hexdigest()
            found.image, found.uploaded_by = sealed, p.username
            found.uploaded_at = self.ctx.clock()
            repo.flush()
            return found

    def get(self, p: Principal, code: str, org_id: str) -> tuple[Seal, bytes]:
        """The seal kept at ``code`` for ``org_id``, and its image."""
        p.require_any(*domain.READERS)
        code = p.scope.require(code or p.scope.code, "division_code")
        org_id = v.ident(org_id, "organisation_id", required=False)
        with self.ctx.uow(p) as work:
            found = self.ctx.repo(work).seal(code, org_id)
            if found is None:
                raise missing(
                    "organisation_id" if org_id else "division_code",
                    "seal", "印章", org_id or code,
                )  # fmt: skip
            return found, self._open(found.image)

    def image_for(self, repo: Repository, code: str, org_id: str) -> bytes | None:
        """The image of the seal a certificate issued at ``code`` for
        ``org_id`` carries, if any (see :meth:`Repository.seal_for`)."""
        found = repo.seal_for(code, org_id)
        return self._open(found.image) if found else None

    def _open(self, image: bytes) -> bytes:
        if self.ctx.cipher is None or image.startswith((b"\x89PNG", b"\xff\xd8\xff")):
            return image  # kept before a key was set
        return self.ctx.cipher.open(image, context=SEAL_CONTEXT)
