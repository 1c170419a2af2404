"""The `workshop-data` command's groups and what its commands share: the database URL
option, settings, running a coroutine against the database, one-line errors."""

import asyncio
from collections.abc import Awaitable, Callable
from importlib.metadata import version as package_version
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.db.problems import describe_problem, open_sqlite_file, shown_url
from workshop_data.db.url import UnsupportedDatabaseURL
from workshop_data.errors import DomainError, NotFound, shown
from workshop_data.settings import Settings
from workshop_data.text_policy import unstorable_reason
from workshop_data.users import service as users_service

T = TypeVar("T")

# No local variables in tracebacks: they would print passwords and database URLs.
app = typer.Typer(
    help="Workshop Data: the persistence service of the workshop platform.",
    pretty_exceptions_show_locals=False,
)
users_app = typer.Typer(help="Manage user accounts.", pretty_exceptions_show_locals=False)
app.add_typer(users_app, name="users")
uploads_app = typer.Typer(help="Manage uploaded files.", pretty_exceptions_show_locals=False)
app.add_typer(uploads_app, name="uploads")
workshop_app = typer.Typer(
    help="Manage a participant's workshops.", pretty_exceptions_show_locals=False
)
app.add_typer(workshop_app, name="workshop")


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"workshop-data {package_version('workshop-data')}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Workshop Data: the persistence service of the workshop platform."""


def fail(message: str) -> NoReturn:
    """Mistakes end in one line on stderr and exit code 1, never a traceback."""
    typer.echo(f"error: {shown(message)}", err=True)
    raise typer.Exit(code=1)


def storable(value: str | None) -> str | None:
    """The input policy for command-line options: arguments the terminal could not decode
    (they arrive as lone surrogates) or that hold a NUL are refused before any work."""
    if value is not None:
        reason = unstorable_reason(value)
        if reason is not None:
            raise typer.BadParameter(reason)
    return value


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        callback=storable,
        envvar="WORKSHOP_DATA_DATABASE_URL",
        help="postgresql://user@host/db or sqlite:///path (default: sqlite:///./workshop-data.db)",
        show_default=False,
    ),
]


def settings_from(database_url: str | None) -> Settings:
    try:
        settings = Settings(database_url=database_url) if database_url else Settings()
        _ = settings.async_database_url
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(f"setting WORKSHOP_DATA_{where.upper()}: {first['msg']}")
    except UnsupportedDatabaseURL as error:
        fail(f"{error} (database {shown_url(database_url or Settings().database_url)})")
    return settings


def told(settings: Settings, work: Callable[[], T]) -> T:
    """`work` on the database, with the database and file errors an operator can cause told
    in one line."""
    try:
        open_sqlite_file(settings.database_url)
        return work()
    except DomainError as error:
        fail(error.message)
    except Exception as error:
        problem = describe_problem(error, settings.database_url)
        if problem is None:
            raise
        fail(problem)


def run(settings: Settings, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run `work` on an up-to-date database (a new SQLite file needs no separate migrate)."""

    async def main() -> T:
        engine = create_engine(settings)
        try:
            await upgrade_to_head(engine)
            async with engine.connect() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    return told(settings, lambda: asyncio.run(main()))


def migrate_database(settings: Settings) -> None:
    async def main() -> None:
        engine = create_engine(settings)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    told(settings, lambda: asyncio.run(main()))


UsernameArgument = Annotated[str, typer.Argument(callback=storable, show_default=False)]


async def user_named(conn: AsyncConnection, username: str) -> users_service.User:
    user = await users_service.get_user_by_username(conn, username)
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user
