"""api 1.5.0: faster checkout (orders by creation time)

Revision ID: api_1_5_0
Revises: api_1_4_0
"""

from alembic import op

revision = "api_1_5_0"
down_revision = "api_1_4_0"
release = "1.5.0"


def upgrade() -> None:
    op.execute("CREATE INDEX orders_recent ON orders (created_at)")


def downgrade() -> None:
    op.execute("DROP INDEX orders_recent")
