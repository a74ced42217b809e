"""api 1.6.0: saved payment methods

Revision ID: api_1_6_0
Revises: api_1_5_0
"""

from alembic import op

revision = "api_1_6_0"
down_revision = "api_1_5_0"
release = "1.6.0"


def upgrade() -> None:
    op.execute("""
        CREATE TABLE payment_methods (
            id bigserial PRIMARY KEY,
            user_id bigint NOT NULL REFERENCES users(id),
            brand text NOT NULL,
            last4 char(4) NOT NULL
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE payment_methods")
