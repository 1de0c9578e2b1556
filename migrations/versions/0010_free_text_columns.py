"""Free text in the read models is unbounded TEXT behind the validated length.

An enterprise's name and department (and the department's matching key, which normalisation can
make longer than what was typed: ``ß`` becomes ``ss``) were VARCHAR(300/200): SQLite ignores the
length, PostgreSQL refuses the row, so a value accepted on one back-end broke the other's
projections. Their length is checked where they are typed (`domain.inputs.text`); the columns
hold whatever passed. SQLite does not enforce declared lengths, so only PostgreSQL is altered.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = (
    ("status_enterprises", "name", 300),
    ("status_enterprises", "department", 200),
    ("calendar_enterprises", "name", 300),
    ("targets_enterprises", "department", 200),
    ("targets_enterprises", "department_key", 200),
    ("targets_periods", "department_key", 200),
    ("targets_firsts", "department_key", 200),
    ("targets_entries", "department_key", 200),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
