"""api 1.4.0: users and orders, order history pagination index

Revision ID: api_1_4_0
Revises:
"""

from alembic import op

revision = "api_1_4_0"
down_revision = None
release = "1.4.0"


def upgrade() -> None:
    op.execute("""
        CREATE TABLE users (
            id bigserial PRIMARY KEY,
            email text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            email_verified boolean  -- true once verified; NULL: not verified yet
        )""")
    op.execute("""
        CREATE TABLE orders (
            id bigserial PRIMARY KEY,
            user_id bigint NOT NULL REFERENCES users(id),
            total_cents bigint,
            created_at timestamptz NOT NULL DEFAULT now(),
            written_by text NOT NULL DEFAULT 'api'
        )""")
    op.execute("CREATE INDEX orders_history ON orders (user_id, created_at DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE orders")
    op.execute("DROP TABLE users")
