"""The results store at fleet size: indexes and retention (issue 18).

Placeholder revision: it changes nothing yet; the fleet work fills it in.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
