"""batch jobs

Revision ID: 7b1e4c2d9a10
Revises: 2c39aaa03044
Create Date: 2026-11-30 03:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7b1e4c2d9a10'
down_revision = '2c39aaa03044'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('batch_jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('input_name', sa.String(length=32), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_failed', sa.Integer(), nullable=False),
    sa.Column('reports_total', sa.Integer(), nullable=False),
    sa.Column('reports_done', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error_zh', sa.Text(), nullable=True),
    sa.Column('error_en', sa.Text(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_jobs_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_jobs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_jobs_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_jobs_created_at'))
        batch_op.drop_index(batch_op.f('ix_batch_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_batch_jobs_owner_id'))

    op.drop_table('batch_jobs')
