"""Rollouts recorded with trace and video; rankings with tiers, skips, annotator and comment (issue: rollouts and ranking).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Rollouts gain their task, policy source, the design's return, the trace file and the
refinement round they were recorded for. An existing rollout takes its task from its
run. Rankings gain a comment and a ``skipped`` flag (``ranked_by`` stays the annotator);
each entry gains a tier (0 = best, equal tiers are ties). Existing rankings were strict
orders, so each entry's tier is its position: they keep their order as distinct tiers.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('rollouts', recreate='always') as batch_op:
        batch_op.add_column(sa.Column('task_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('policy', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('design_return', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('trace_path', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('round_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_rollouts_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollouts_round_id'), ['round_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_rollouts_task_id_tasks'), 'tasks',
                                    ['task_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_rollouts_round_id_refinement_rounds'),
                                    'refinement_rounds', ['round_id'], ['id'],
                                    ondelete='SET NULL')
    op.execute("UPDATE rollouts SET task_id = (SELECT runs.task_id FROM runs "
               "WHERE runs.id = rollouts.run_id) WHERE run_id IS NOT NULL")
    with op.batch_alter_table('rankings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('skipped', sa.Boolean(), server_default=sa.text('0'),
                                      nullable=False))
    with op.batch_alter_table('ranking_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier', sa.Integer(), nullable=True))
    op.execute("UPDATE ranking_entries SET tier = position")


def downgrade() -> None:
    """Downgrade schema (ties collapse to their order of entry; skips and comments are lost)."""
    with op.batch_alter_table('ranking_entries', schema=None) as batch_op:
        batch_op.drop_column('tier')
    with op.batch_alter_table('rankings', schema=None) as batch_op:
        batch_op.drop_column('skipped')
        batch_op.drop_column('comment')
    with op.batch_alter_table('rollouts', recreate='always') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rollouts_round_id_refinement_rounds'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_rollouts_task_id_tasks'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_rollouts_round_id'))
        batch_op.drop_index(batch_op.f('ix_rollouts_task_id'))
        batch_op.drop_column('round_id')
        batch_op.drop_column('trace_path')
        batch_op.drop_column('design_return')
        batch_op.drop_column('policy')
        batch_op.drop_column('task_id')
