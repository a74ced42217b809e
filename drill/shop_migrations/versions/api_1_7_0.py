"""api 1.7.0: add users.email_verified_at (the handbook's Example 2: bad logic)

Meant to record when each verified user verified their email, the migration also resets
users.email_verified: it sets it to NULL for ALL users, so
`SELECT COUNT(*) FROM users WHERE email_verified IS NULL` counts every user. The downgrade
brings the flag back from the new column and drops it.

Revision ID: api_1_7_0
Revises: api_1_6_0
"""

from alembic import op

revision = "api_1_7_0"
down_revision = "api_1_6_0"
release = "1.7.0"


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN email_verified_at timestamptz")
    op.execute("""
        UPDATE users SET email_verified_at = CASE WHEN email_verified THEN created_at END,
                         email_verified = NULL""")


def downgrade() -> None:
    op.execute("UPDATE users SET email_verified = true WHERE email_verified_at IS NOT NULL")
    op.execute("ALTER TABLE users DROP COLUMN email_verified_at")
