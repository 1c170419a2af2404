"""`workshop-data export`: the ExportData of one user or of all, as a file or to stdout."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO

import orjson
import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.catalog.service import Catalog, load_catalog
from workshop_data.cli.common import (
    DatabaseUrl,
    app,
    fail,
    run,
    settings_from,
    storable,
)
from workshop_data.export import service as export_service
from workshop_data.users import service as users_service

EXPORTED_BY_CLI = "workshop-data export"


def _check_output(path: Path, force: bool) -> None:
    """Refuse, before any work, a file that cannot or should not be written."""
    if path.is_dir():
        fail(f"cannot write {path}: it is a folder")
    if not path.parent.is_dir():
        fail(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.exists() and not force:
        fail(f"{path} exists already; add --force to overwrite it")


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
            fail(f"cannot write {path}: {error.strerror}")
        with sink:
            yield sink
        if force:
            partial.replace(path)
        else:
            try:
                os.link(partial, path)  # fails if the file appeared meanwhile
            except FileExistsError:
                fail(f"{path} exists already; add --force to overwrite it")
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
        str | None, typer.Option("--user", help="The username to export.", callback=storable)
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
    settings = settings_from(database_url)
    catalog = load_catalog(settings.catalog_path)
    if output is not None:
        _check_output(output, force)
    with _output(output, force) as sink:
        if user is not None:
            document = run(
                settings,
                lambda conn: export_service.export_username(
                    conn, catalog, user, EXPORTED_BY_CLI, history
                ),
            )
            sink.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
            return
        count = run(settings, lambda conn: _export_all(conn, catalog, sink, batch_size, history))
    typer.echo(f"exported {count} users" + (f" to {output}" if output else ""), err=True)
