import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, BinaryIO, NoReturn, TypeVar

import orjson
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.admin import service as admin_service
from workshop_data.catalog.service import Catalog, load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.db.problems import describe_problem, open_sqlite_file, shown_url
from workshop_data.db.url import UnsupportedDatabaseURL
from workshop_data.demo import create_demo_users
from workshop_data.errors import DomainError, InvalidInput, NotFound, shown
from workshop_data.export import service as export_service
from workshop_data.ops.logging import logging_config
from workshop_data.participation import service as participation_service
from workshop_data.settings import Settings
from workshop_data.text_policy import unstorable_reason
from workshop_data.timeutil import iso
from workshop_data.uploads import service as uploads_service
from workshop_data.uploads.storage import DatabaseUploadStore
from workshop_data.users import service as users_service
from workshop_data.users.schemas import ROLES

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


def _fail(message: str) -> NoReturn:
    """Mistakes end in one line on stderr and exit code 1, never a traceback."""
    typer.echo(f"error: {shown(message)}", err=True)
    raise typer.Exit(code=1)


def _storable(value: str | None) -> str | None:
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
        callback=_storable,
        envvar="WORKSHOP_DATA_DATABASE_URL",
        help="postgresql://user@host/db or sqlite:///path (default: sqlite:///./workshop-data.db)",
        show_default=False,
    ),
]


def _settings(database_url: str | None) -> Settings:
    try:
        settings = Settings(database_url=database_url) if database_url else Settings()
        _ = settings.async_database_url
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        _fail(f"setting WORKSHOP_DATA_{where.upper()}: {first['msg']}")
    except UnsupportedDatabaseURL as error:
        _fail(f"{error} (database {shown_url(database_url or Settings().database_url)})")
    return settings


def _told(settings: Settings, work: Callable[[], T]) -> T:
    """`work` on the database, with the database and file errors an operator can cause told
    in one line."""
    try:
        open_sqlite_file(settings.database_url)
        return work()
    except DomainError as error:
        _fail(error.message)
    except Exception as error:
        problem = describe_problem(error, settings.database_url)
        if problem is None:
            raise
        _fail(problem)


def _run(settings: Settings, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run `work` on an up-to-date database (a new SQLite file needs no separate migrate)."""

    async def main() -> T:
        engine = create_engine(settings)
        try:
            await upgrade_to_head(engine)
            async with engine.connect() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    return _told(settings, lambda: asyncio.run(main()))


def _migrate(settings: Settings) -> None:
    async def main() -> None:
        engine = create_engine(settings)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    _told(settings, lambda: asyncio.run(main()))


def _browser_url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (what the server was told to listen on)
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _database_in_use(settings: Settings) -> str:
    shown_database = shown_url(settings.database_url)
    if settings.is_sqlite:
        database = settings.database_url.partition(":///")[2]
        if database and database != ":memory:":
            return f"{shown_database} (the file {Path(database).resolve()})"
    return shown_database


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date."""
    _migrate(_settings(database_url))
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="WORKSHOP_DATA_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="WORKSHOP_DATA_PORT")] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(min=1, envvar="WORKSHOP_DATA_WORKERS")] = 1,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not migrate the database on start.")
    ] = False,
) -> None:
    """Serve the API and the web app."""
    settings = _settings(database_url)
    # Worker processes build their settings from the environment.
    os.environ["WORKSHOP_DATA_DATABASE_URL"] = settings.database_url
    if not no_migrate:
        _migrate(settings)
    if sys.stdout.isatty():  # for a person; a log collector expects only the JSON log lines
        typer.echo(
            f"open {_browser_url(host, port)} in a browser\n"
            f"database: {_database_in_use(settings)}\n"
            f"another port: --port 8001 or WORKSHOP_DATA_PORT=8001 (make run PORT=8001)"
        )
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker writes its metrics here and /metrics adds them up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="workshop-data-metrics-")
    uvicorn.run(
        "workshop_data.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=logging_config(settings.log_level),
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        server_header=False,
        access_log=False,  # the app logs every request as JSON, with its request id
    )


@app.command()
def demo(database_url: DatabaseUrl = None) -> None:
    """Create a demo admin and participant if there are no users yet; print their passwords."""
    settings = _settings(database_url)
    catalog = load_catalog(settings.catalog_path)
    created = _run(settings, lambda conn: create_demo_users(conn, catalog))
    if not created:
        typer.echo("users exist already; no demo users created")
        return
    typer.echo("demo users (the passwords are shown only this once):")
    for demo_user in created:
        typer.echo(
            f"  {demo_user.role:<12} username: {demo_user.username}  password: {demo_user.password}"
        )
    typer.echo("sign in with them at the address `workshop-data serve` prints")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(callback=_storable)],
    password: Annotated[
        str, typer.Option(envvar="WORKSHOP_DATA_NEW_USER_PASSWORD", callback=_storable)
    ],
    role: Annotated[str, typer.Option(help=" | ".join(ROLES), callback=_storable)] = "participant",
    name: Annotated[str, typer.Option(callback=_storable)] = "",
    email: Annotated[str | None, typer.Option(callback=_storable)] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user."""
    user = _run(
        _settings(database_url),
        lambda conn: users_service.create_user(
            conn, username=username, password=password, role=role, name=name, email=email
        ),
    )
    typer.echo(f"created {user.role} '{user.username}' (id {user.id})")


@users_app.command("list")
def users_list(database_url: DatabaseUrl = None) -> None:
    """List users, as a table."""
    settings = _settings(database_url)

    async def listing(conn: AsyncConnection) -> list[tuple[users_service.User, str]]:
        accounts = await users_service.list_users(conn)
        usernames = {user.id: user.username for user in accounts}
        return [
            (user, usernames.get(user.facilitator_id, "") if user.facilitator_id else "")
            for user in accounts
        ]

    rows = _run(settings, listing)
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
    username: Annotated[str, typer.Option(callback=_storable)], database_url: DatabaseUrl = None
) -> None:
    """Delete a user and everything they entered (never the last administrator)."""

    async def delete(conn: AsyncConnection) -> None:
        user = await users_service.get_user_by_username(conn, username)
        if user is None:
            raise NotFound(f"no user '{username}'")
        await admin_service.delete_account(conn, user.id)

    _run(_settings(database_url), delete)
    typer.echo(f"deleted '{username}' and all of their data")


UsernameArgument = Annotated[str, typer.Argument(callback=_storable, show_default=False)]


async def _user_named(conn: AsyncConnection, username: str) -> users_service.User:
    user = await users_service.get_user_by_username(conn, username)
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user


def _new_password(from_stdin: bool) -> str:
    """The new password, held to the input policy of every other text option."""
    if from_stdin:
        line = sys.stdin.buffer.readline().decode("utf-8", errors="surrogateescape")
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            _fail("no password on standard input")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    reason = unstorable_reason(password)
    if reason is not None:
        _fail(f"password: {reason}")
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
    settings = _settings(database_url)
    password = _new_password(password_stdin)

    async def change(conn: AsyncConnection) -> int:
        return await users_service.set_password(conn, await _user_named(conn, username), password)

    ended = _run(settings, change)
    typer.echo(f"password of '{shown(username)}' changed; {ended} sessions signed out")


@users_app.command("set-facilitator")
def users_set_facilitator(
    username: UsernameArgument,
    facilitator: Annotated[
        str | None,
        typer.Argument(callback=_storable, help="The facilitator's username.", show_default=False),
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
        user = await _user_named(conn, username)
        facilitator_id = None
        if facilitator is not None:
            chosen = await _user_named(conn, facilitator)
            if chosen.role != "facilitator":
                raise InvalidInput(
                    f"'{chosen.username}' is a {chosen.role}, not a facilitator "
                    f"(make them one in the admin page first)"
                )
            facilitator_id = chosen.id
        await admin_service.update_account(conn, user.id, {"facilitator_id": facilitator_id})

    _run(_settings(database_url), assign)
    if facilitator is None:
        typer.echo(f"'{shown(username)}' has no facilitator now")
    else:
        typer.echo(f"'{shown(username)}' is assigned to the facilitator '{shown(facilitator)}'")


@workshop_app.command("reopen")
def workshop_reopen(
    username: UsernameArgument,
    workshop_type: Annotated[
        str,
        typer.Argument(
            metavar="WORKSHOP", callback=_storable, help="ast or ia", show_default=False
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Reopen a completed workshop, so that its steps can be edited again."""
    settings = _settings(database_url)
    catalog = load_catalog(settings.catalog_path)
    if workshop_type not in catalog.workshop_types:
        _fail(f"WORKSHOP must be one of {', '.join(catalog.workshop_types)}")

    async def reopen(conn: AsyncConnection) -> None:
        user = await _user_named(conn, username)
        before = await participation_service.workshop_status(conn, user.id, workshop_type)
        if not before.completed:
            raise InvalidInput(
                f"the {workshop_type.upper()} workshop of '{user.username}' is not completed; "
                "there is nothing to reopen"
            )
        await participation_service.reopen_workshop(conn, user.id, workshop_type, reopened_by=None)

    _run(settings, reopen)
    typer.echo(
        f"reopened the {workshop_type.upper()} workshop of '{shown(username)}': "
        "its steps can be edited again"
    )


EXPORTED_BY_CLI = "workshop-data export"


def _check_output(path: Path, force: bool) -> None:
    """Refuse, before any work, a file that cannot or should not be written."""
    if path.is_dir():
        _fail(f"cannot write {path}: it is a folder")
    if not path.parent.is_dir():
        _fail(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.exists() and not force:
        _fail(f"{path} exists already; add --force to overwrite it")


@contextmanager
def _output(path: Path | None, force: bool) -> Iterator[BinaryIO]:
    """Standard output, or a file that appears complete or not at all (written beside it,
    then renamed; without `force` never over an existing file)."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    partial = path.with_name(f".{path.name}.partial")
    try:
        try:
            sink = partial.open("wb")
        except OSError as error:
            _fail(f"cannot write {path}: {error.strerror}")
        with sink:
            yield sink
        if force:
            partial.replace(path)
        else:
            try:
                os.link(partial, path)  # fails if the file appeared meanwhile
            except FileExistsError:
                _fail(f"{path} exists already; add --force to overwrite it")
    finally:
        partial.unlink(missing_ok=True)


async def _export_all(
    conn: AsyncConnection, catalog: Catalog, sink: BinaryIO, batch: int, history: bool
) -> int:
    await export_service.use_one_snapshot(conn)
    if not sys.stderr.isatty():
        return await export_service.write_all(
            conn, catalog, sink, EXPORTED_BY_CLI, batch, history=history
        )
    total = await users_service.count_users(conn)
    with typer.progressbar(length=total, label="exporting", file=sys.stderr) as bar:
        return await export_service.write_all(
            conn, catalog, sink, EXPORTED_BY_CLI, batch, on_progress=bar.update, history=history
        )


@app.command("export")
def export_data(
    user: Annotated[
        str | None, typer.Option("--user", help="The username to export.", callback=_storable)
    ] = None,
    all_users: Annotated[
        bool, typer.Option("--all", help="Every user, one export per line (NDJSON).")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write here, not to stdout."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the --output file if it exists.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Users read at a time with --all.")
    ] = export_service.DEFAULT_BATCH_SIZE,
    history: Annotated[
        bool,
        typer.Option("--history", help="Also every kept version of every step."),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Export a user's data (the spec's ExportData JSON), or every user's, streamed as NDJSON."""
    if (user is None) == (not all_users):
        typer.echo("error: give either --user USERNAME or --all", err=True)
        raise typer.Exit(code=2)
    settings = _settings(database_url)
    catalog = load_catalog(settings.catalog_path)
    if output is not None:
        _check_output(output, force)
    with _output(output, force) as sink:
        if user is not None:
            document = _run(
                settings,
                lambda conn: export_service.export_username(
                    conn, catalog, user, EXPORTED_BY_CLI, history
                ),
            )
            sink.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
            return
        count = _run(settings, lambda conn: _export_all(conn, catalog, sink, batch_size, history))
    typer.echo(f"exported {count} users" + (f" to {output}" if output else ""), err=True)


@uploads_app.command("prune")
def uploads_prune(
    older_than_days: Annotated[
        int | None,
        typer.Option(
            "--older-than-days",
            min=1,
            envvar="WORKSHOP_DATA_UPLOAD_RETENTION_DAYS",
            help="Remove uploads no step of their owner has referred to for this many days "
            "(default 30).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Remove uploads that no step document of their owner has referred to for a while."""
    settings = _settings(database_url)
    days = older_than_days or settings.upload_retention_days
    removed = _run(
        settings,
        lambda conn: uploads_service.prune(
            conn, DatabaseUploadStore(), timedelta(days=days), dry_run
        ),
    )
    for info in removed:
        typer.echo(
            f"{info.id}\tuser {info.user_id}\t{info.content_type}\t{info.size} bytes"
            f"\tlast referenced {iso(info.last_referenced_at)}"
        )
    total = sum(info.size for info in removed)
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb} {len(removed)} uploads ({total} bytes) unreferenced for {days} days", err=True
    )
