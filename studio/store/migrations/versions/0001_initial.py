"""Initial schema: tasks, designs and versions, runs, metrics, rollouts, rankings, rounds.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Design versions are immutable. The ORM refuses updates (``before_update``); the trigger
below makes SQLite refuse them too, so no code path, ORM or not, can change one.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('env_id', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('mjcf_path', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('env_id', name=op.f('uq_tasks_env_id'))
    )
    op.create_table('designs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_designs_task_id_tasks'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_designs')),
    sa.UniqueConstraint('task_id', 'name', name=op.f('uq_designs_task_id_name'))
    )
    with op.batch_alter_table('designs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_designs_task_id'), ['task_id'], unique=False)

    op.create_table('design_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('design_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('parent_version_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['design_id'], ['designs.id'], name=op.f('fk_design_versions_design_id_designs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_version_id'], ['design_versions.id'], name=op.f('fk_design_versions_parent_version_id_design_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_design_versions')),
    sa.UniqueConstraint('design_id', 'number', name=op.f('uq_design_versions_design_id_number'))
    )
    with op.batch_alter_table('design_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_design_versions_content_hash'), ['content_hash'], unique=False)

    op.create_table('runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('design_version_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('device', sa.String(length=64), nullable=True),
    sa.Column('seed', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'paused', 'completed', 'failed', 'stopped')", name=op.f('ck_runs_status')),
    sa.ForeignKeyConstraint(['design_version_id'], ['design_versions.id'], name=op.f('fk_runs_design_version_id_design_versions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_runs_task_id_tasks'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs'))
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runs_design_version_id'), ['design_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_runs_task_id'), ['task_id'], unique=False)

    op.create_table('checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('metrics', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_checkpoints_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoints'))
    )
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkpoints_run_id_step'), ['run_id', 'step'], unique=False)

    op.create_table('metric_points',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_metric_points_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'key', 'step', name=op.f('pk_metric_points')),
    sqlite_with_rowid=False
    )
    op.create_table('run_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_run_events_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_run_events'))
    )
    with op.batch_alter_table('run_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_events_run_id_step'), ['run_id', 'step'], unique=False)

    op.create_table('rollouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('design_version_id', sa.Integer(), nullable=True),
    sa.Column('checkpoint_id', sa.Integer(), nullable=True),
    sa.Column('video_path', sa.Text(), nullable=True),
    sa.Column('returns', sa.Text(), nullable=True),
    sa.Column('task_score', sa.Float(), nullable=True),
    sa.Column('length', sa.Integer(), nullable=True),
    sa.Column('seed', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_rollouts_checkpoint_id_checkpoints'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['design_version_id'], ['design_versions.id'], name=op.f('fk_rollouts_design_version_id_design_versions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_rollouts_run_id_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollouts'))
    )
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollouts_run_id'), ['run_id'], unique=False)

    op.create_table('refinement_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('proposer', sa.String(length=200), nullable=False),
    sa.Column('parent_round_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('best_rollout_id', sa.Integer(), nullable=True),
    sa.Column('worst_rollout_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['best_rollout_id'], ['rollouts.id'], name=op.f('fk_refinement_rounds_best_rollout_id_rollouts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_round_id'], ['refinement_rounds.id'], name=op.f('fk_refinement_rounds_parent_round_id_refinement_rounds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['worst_rollout_id'], ['rollouts.id'], name=op.f('fk_refinement_rounds_worst_rollout_id_rollouts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refinement_rounds'))
    )
    op.create_table('llm_exchanges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('parsed_ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('latency_s', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['refinement_rounds.id'], name=op.f('fk_llm_exchanges_round_id_refinement_rounds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_exchanges'))
    )
    with op.batch_alter_table('llm_exchanges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_llm_exchanges_round_id'), ['round_id'], unique=False)

    op.create_table('rankings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ranked_by', sa.String(length=200), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['refinement_rounds.id'], name=op.f('fk_rankings_round_id_refinement_rounds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rankings'))
    )
    with op.batch_alter_table('rankings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rankings_round_id'), ['round_id'], unique=False)

    op.create_table('ranking_entries',
    sa.Column('ranking_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('rollout_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ranking_id'], ['rankings.id'], name=op.f('fk_ranking_entries_ranking_id_rankings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'], name=op.f('fk_ranking_entries_rollout_id_rollouts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('ranking_id', 'position', name=op.f('pk_ranking_entries')),
    sa.UniqueConstraint('ranking_id', 'rollout_id', name=op.f('uq_ranking_entries_ranking_id_rollout_id'))
    )
    with op.batch_alter_table('ranking_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ranking_entries_rollout_id'), ['rollout_id'], unique=False)

    op.execute(
        "CREATE TRIGGER design_versions_immutable BEFORE UPDATE ON design_versions "
        "BEGIN SELECT RAISE(ABORT, 'design versions are immutable: save a new version'); END"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TRIGGER IF EXISTS design_versions_immutable")
    with op.batch_alter_table('ranking_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ranking_entries_rollout_id'))

    op.drop_table('ranking_entries')
    with op.batch_alter_table('rankings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rankings_round_id'))

    op.drop_table('rankings')
    with op.batch_alter_table('llm_exchanges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_llm_exchanges_round_id'))

    op.drop_table('llm_exchanges')
    op.drop_table('refinement_rounds')
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollouts_run_id'))

    op.drop_table('rollouts')
    with op.batch_alter_table('run_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_events_run_id_step'))

    op.drop_table('run_events')
    op.drop_table('metric_points')
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkpoints_run_id_step'))

    op.drop_table('checkpoints')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runs_task_id'))
        batch_op.drop_index(batch_op.f('ix_runs_design_version_id'))

    op.drop_table('runs')
    with op.batch_alter_table('design_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_design_versions_content_hash'))

    op.drop_table('design_versions')
    with op.batch_alter_table('designs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_designs_task_id'))

    op.drop_table('designs')
    op.drop_table('tasks')
