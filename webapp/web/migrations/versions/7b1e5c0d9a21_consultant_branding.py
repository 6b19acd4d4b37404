"""consultant branding: practice name and logo

Revision ID: 7b1e5c0d9a21
Revises: 5c3f8e2a7d41
Create Date: 2026-11-30 03:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7b1e5c0d9a21'
down_revision = '5c3f8e2a7d41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('brandings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('practice_name', sa.String(length=200), nullable=True),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade():
    op.drop_table('brandings')
