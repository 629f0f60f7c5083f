"""Certificates keep the training and awards lines they printed (issue 14).

The lines were typed by the requester and printed as given; they are now
drawn from activity's training attendance and commendation's approved stars
and honours when the certificate is issued. ``certificates`` gains
``training_lines`` and ``award_lines``, JSON arrays of the printed lines,
so the certificate reads the same whatever the records say later (a
session's course renamed, a star lowered by a correction). Certificates
issued before this revision have them empty: their typed lines were never
stored apart from the PDF, which still carries them.

No new table, so no new row security: the columns are covered by the
table's policies (0001). ``hours_own_certificates`` (0004) returns
``SETOF certificates`` and lists the columns, so it is redefined with the
new ones (a volunteer's own certificates read them too).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("training_lines", "award_lines")
# 0004's list: every column before the PDF, in the table's order.
BEFORE_PDF = (
    "number, volunteer_id, volunteer_number, name_masked, id_type,"
    " id_number_masked, hours, service_content, issuer_name, person_in_charge,"
    " handler, contact, division_code, organisation_id, period_start,"
    " period_end, issued_on, issued_by, issued_at, status, revoked_reason,"
    " revoked_by, revoked_at"
)


def own_certificates(after_pdf: str) -> str:
    """The volunteer's own certificates (a list leaves the PDF out)."""
    return f"""
CREATE OR REPLACE FUNCTION hours_own_certificates(p_volunteer text, p_number text)
RETURNS SETOF certificates LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT {BEFORE_PDF},
    CASE WHEN p_number = '' THEN ''::bytea ELSE pdf END{after_pdf}
  FROM certificates
  WHERE volunteer_id = p_volunteer AND (p_number = '' OR number = p_number)
$$"""


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    empty = sa.text("'[]'::json") if pg else sa.text("'[]'")
    for column in COLUMNS:
        op.add_column(
            "certificates",
            sa.Column(column, sa.JSON, nullable=False, server_default=empty),
        )
    if pg:
        op.execute(own_certificates(", " + ", ".join(COLUMNS)))


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_column("certificates", column)
    if op.get_bind().dialect.name == "postgresql":
        # Replaced in place: the function keeps its owner and grants.
        op.execute(own_certificates(""))
