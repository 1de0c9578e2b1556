"""The targets view keeps each track's dates once: in its periods.

``targets_firsts`` held the first certification or admission of every title, pool and designation,
and ``targets_entries`` every admission or certification of a pool or designation: each the start
of a row of ``targets_periods`` (the first period's, or every period's), written twice. The view
now reads those from the periods; the two tables keep only what no period holds, the listing
stages and the counted facts. The rows that go are those whose subject is a track of the periods.
A downgrade empties the targets view and drops its tracking record: the older version's next
catch-up builds it again from the log, the twice-written rows included.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tracks = "SELECT DISTINCT track FROM targets_periods"
    for table in ("targets_firsts", "targets_entries"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE subject IN ({tracks})"))


def downgrade() -> None:
    for table in ("targets_entries", "targets_firsts", "targets_periods", "targets_enterprises"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM tracking WHERE name = 'targets'"))
