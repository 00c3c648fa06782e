"""Refinement experiments and candidates; rounds belong to an experiment (issue 10).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

An experiment is one run of the refinement loop (start design, task, proposer, K, rounds,
budget). Each round's K candidates are rows of their own: the design version proposed,
the training run, the recorded rollout, the status, device and place. The loop's state is
exactly these rows, which is what lets a killed loop resume.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'refinement_experiments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('start_version_id', sa.Integer(), nullable=True),
        sa.Column('proposer', sa.String(length=200), nullable=False),
        sa.Column('rank_mode', sa.String(length=16), nullable=False),
        sa.Column('config', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'],
                                name=op.f('fk_refinement_experiments_task_id_tasks'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['start_version_id'], ['design_versions.id'],
                                name=op.f('fk_refinement_experiments_start_version_id_design_versions'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refinement_experiments')),
    )
    with op.batch_alter_table('refinement_rounds', recreate='always') as batch_op:
        batch_op.add_column(sa.Column('experiment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_refinement_rounds_experiment_id'), ['experiment_id'],
                              unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_refinement_rounds_experiment_id_refinement_experiments'),
            'refinement_experiments', ['experiment_id'], ['id'], ondelete='CASCADE')
    op.create_table(
        'refinement_candidates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('index', sa.Integer(), nullable=False),
        sa.Column('design_version_id', sa.Integer(), nullable=True),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('rollout_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('device', sa.String(length=64), nullable=True),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['refinement_rounds.id'],
                                name=op.f('fk_refinement_candidates_round_id_refinement_rounds'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['design_version_id'], ['design_versions.id'],
                                name=op.f('fk_refinement_candidates_design_version_id_design_versions'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id'],
                                name=op.f('fk_refinement_candidates_run_id_runs'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'],
                                name=op.f('fk_refinement_candidates_rollout_id_rollouts'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refinement_candidates')),
        sa.UniqueConstraint('round_id', 'index', name=op.f('uq_refinement_candidates_round_id_index')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('refinement_candidates')
    with op.batch_alter_table('refinement_rounds', recreate='always') as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_refinement_rounds_experiment_id_refinement_experiments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_refinement_rounds_experiment_id'))
        batch_op.drop_column('experiment_id')
    op.drop_table('refinement_experiments')
