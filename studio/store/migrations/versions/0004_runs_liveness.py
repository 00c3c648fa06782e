"""Runs: process liveness (pid, host, heartbeat), name and notes, the ``interrupted`` status.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A run left ``running`` by a crashed process is marked ``interrupted`` when a workspace
is opened, but only when the process that trained it is gone: ``pid`` and ``host`` say
which process that is, ``heartbeat_at`` when it last reported (issue 13). ``name`` and
``notes`` are the user's own words about a run (issue 16). SQLite cannot alter a CHECK
constraint in place, so the table is rebuilt (batch mode) to admit ``interrupted``.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "status IN ('queued', 'running', 'paused', 'completed', 'failed', 'stopped')"
_NEW = "status IN ('queued', 'running', 'paused', 'completed', 'failed', 'stopped', 'interrupted')"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('runs', recreate='always') as batch_op:
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('name', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('notes', sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f('ck_runs_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_runs_status'), _NEW)


def downgrade() -> None:
    """Downgrade schema (interrupted runs become stopped: the old schema has no such status)."""
    op.execute("UPDATE runs SET status = 'stopped' WHERE status = 'interrupted'")
    with op.batch_alter_table('runs', recreate='always') as batch_op:
        batch_op.drop_constraint(op.f('ck_runs_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_runs_status'), _OLD)
        batch_op.drop_column('notes')
        batch_op.drop_column('name')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('host')
        batch_op.drop_column('pid')
