"""`workshop-data users ...`: accounts."""

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.admin import service as admin_service
from workshop_data.auth import service as auth_service
from workshop_data.cli.common import (
    DatabaseUrl,
    UsernameArgument,
    fail,
    run,
    settings_from,
    storable,
    user_named,
    users_app,
)
from workshop_data.errors import InvalidInput, NotFound, shown
from workshop_data.text_policy import unstorable_reason
from workshop_data.users import service as users_service
from workshop_data.users.schemas import ROLES


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(callback=storable)],
    password: Annotated[
        str, typer.Option(envvar="WORKSHOP_DATA_NEW_USER_PASSWORD", callback=storable)
    ],
    role: Annotated[str, typer.Option(help=" | ".join(ROLES), callback=storable)] = "participant",
    name: Annotated[str, typer.Option(callback=storable)] = "",
    email: Annotated[str | None, typer.Option(callback=storable)] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user."""
    user = run(
        settings_from(database_url),
        lambda conn: users_service.create_user(
            conn, username=username, password=password, role=role, name=name, email=email
        ),
    )
    typer.echo(f"created {user.role} '{user.username}' (id {user.id})")


@users_app.command("list")
def users_list(database_url: DatabaseUrl = None) -> None:
    """List users, as a table."""
    settings = settings_from(database_url)

    async def listing(conn: AsyncConnection) -> list[tuple[users_service.User, str]]:
        accounts = await users_service.list_users(conn)
        usernames = {user.id: user.username for user in accounts}
        return [
            (user, usernames.get(user.facilitator_id, "") if user.facilitator_id else "")
            for user in accounts
        ]

    rows = run(settings, listing)
    table = Table("id", "username", "role", "name", "email", "facilitator")
    for column in table.columns:
        column.overflow = "fold"  # long values wrap; none is cut short
    for user, facilitator in rows:
        # Text, not markup, and escaped: no stored text can forge a cell, a row or a line.
        fields = (str(user.id), user.username, user.role, user.name, user.email or "", facilitator)
        table.add_row(*(Text(shown(field)) for field in fields))
    Console(highlight=False).print(table)


@users_app.command("delete")
def users_delete(
    username: Annotated[str, typer.Option(callback=storable)], database_url: DatabaseUrl = None
) -> None:
    """Delete a user and everything they entered (never the last administrator)."""

    async def delete(conn: AsyncConnection) -> None:
        user = await users_service.get_user_by_username(conn, username)
        if user is None:
            raise NotFound(f"no user '{username}'")
        await admin_service.delete_account(conn, user.id)

    run(settings_from(database_url), delete)
    typer.echo(f"deleted '{username}' and all of their data")


def _new_password(from_stdin: bool) -> str:
    """The new password, held to the input policy of every other text option."""
    if from_stdin:
        line = sys.stdin.buffer.readline().decode("utf-8", errors="surrogateescape")
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            fail("no password on standard input")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    reason = unstorable_reason(password)
    if reason is not None:
        fail(f"password: {reason}")
    return password


@users_app.command("set-password")
def users_set_password(
    username: UsernameArgument,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from the first line of standard input."
        ),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a user's password (prompted twice, hidden) and sign them out everywhere."""
    settings = settings_from(database_url)
    password = _new_password(password_stdin)

    async def change(conn: AsyncConnection) -> int:
        return await auth_service.set_password(conn, await user_named(conn, username), password)

    ended = run(settings, change)
    typer.echo(f"password of '{shown(username)}' changed; {ended} sessions signed out")


@users_app.command("set-facilitator")
def users_set_facilitator(
    username: UsernameArgument,
    facilitator: Annotated[
        str | None,
        typer.Argument(callback=storable, help="The facilitator's username.", show_default=False),
    ] = None,
    no_facilitator: Annotated[
        bool, typer.Option("--none", help="Remove the user's facilitator.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Assign a user to a facilitator, or with --none to nobody."""
    if (facilitator is None) == (not no_facilitator):
        typer.echo("error: give either a FACILITATOR username or --none", err=True)
        raise typer.Exit(code=2)

    async def assign(conn: AsyncConnection) -> None:
        user = await user_named(conn, username)
        facilitator_id = None
        if facilitator is not None:
            chosen = await user_named(conn, facilitator)
            if chosen.role != "facilitator":
                raise InvalidInput(
                    f"'{chosen.username}' is a {chosen.role}, not a facilitator "
                    f"(make them one in the admin page first)"
                )
            facilitator_id = chosen.id
        await admin_service.update_account(conn, user.id, {"facilitator_id": facilitator_id})

    run(settings_from(database_url), assign)
    if facilitator is None:
        typer.echo(f"'{shown(username)}' has no facilitator now")
    else:
        typer.echo(f"'{shown(username)}' is assigned to the facilitator '{shown(facilitator)}'")
