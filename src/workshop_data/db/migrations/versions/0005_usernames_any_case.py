"""Usernames unique in any letter case: a unique index on lower(username).

Where existing accounts differ only in letter case ("maria" and "MARIA"), the upgrade stops
and names them, changing nothing: which account is the real one is for an administrator to
decide (rename or delete the others, e.g. `workshop-data users delete --username MARIA`, then
migrate again).

Revision ID: 0005_usernames_any_case
Revises: 0004_step_history
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workshop_data.db.problems import MigrationBlocked

revision: str = "0005_usernames_any_case"
down_revision: str | None = "0004_step_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Named in the error; more would not fit on one line.
_SHOWN_CLASHES = 10


def upgrade() -> None:
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT lower(username) AS lowered, count(*) AS accounts FROM users "
                "GROUP BY lower(username) HAVING count(*) > 1 ORDER BY lower(username)"
            )
        )
        .all()
    )
    if clashes:
        names = (
            op.get_bind()
            .execute(
                sa.text(
                    "SELECT username FROM users WHERE lower(username) IN :lowered "
                    "ORDER BY lower(username), id"
                ).bindparams(
                    sa.bindparam(
                        "lowered",
                        [row.lowered for row in clashes[:_SHOWN_CLASHES]],
                        expanding=True,
                    )
                )
            )
            .scalars()
            .all()
        )
        more = len(clashes) - _SHOWN_CLASHES
        raise MigrationBlocked(
            f"cannot make usernames unique in any letter case: {len(clashes)} names are "
            f"used by accounts that differ only in case ({', '.join(repr(n) for n in names)}"
            + (f" and {more} more names" if more > 0 else "")
            + "); rename or delete all but one of each "
            "(workshop-data users delete --username NAME), then migrate again"
        )
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_username_lower", table_name="users")
