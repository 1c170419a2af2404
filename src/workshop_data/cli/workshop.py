"""`workshop-data workshop ...`: a participant's workshops."""

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.catalog.service import load_catalog
from workshop_data.cli.common import (
    DatabaseUrl,
    UsernameArgument,
    fail,
    run,
    settings_from,
    storable,
    user_named,
    workshop_app,
)
from workshop_data.errors import InvalidInput, shown
from workshop_data.participation import service as participation_service


@workshop_app.command("reopen")
def workshop_reopen(
    username: UsernameArgument,
    workshop_type: Annotated[
        str,
        typer.Argument(metavar="WORKSHOP", callback=storable, help="ast or ia", show_default=False),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Reopen a completed workshop, so that its steps can be edited again."""
    settings = settings_from(database_url)
    catalog = load_catalog(settings.catalog_path)
    if workshop_type not in catalog.workshop_types:
        fail(f"WORKSHOP must be one of {', '.join(catalog.workshop_types)}")

    async def reopen(conn: AsyncConnection) -> None:
        user = await user_named(conn, username)
        before = await participation_service.workshop_status(conn, user.id, workshop_type)
        if not before.completed:
            raise InvalidInput(
                f"the {workshop_type.upper()} workshop of '{user.username}' is not completed; "
                "there is nothing to reopen"
            )
        await participation_service.reopen_workshop(conn, user.id, workshop_type, reopened_by=None)

    run(settings, reopen)
    typer.echo(
        f"reopened the {workshop_type.upper()} workshop of '{shown(username)}': "
        "its steps can be edited again"
    )
