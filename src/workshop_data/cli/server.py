"""`migrate`, `serve` and `demo`."""

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from workshop_data.catalog.service import load_catalog
from workshop_data.cli.common import (
    DatabaseUrl,
    app,
    migrate_database,
    run,
    settings_from,
)
from workshop_data.db.problems import shown_url
from workshop_data.demo import create_demo_users
from workshop_data.ops.logging import logging_config
from workshop_data.settings import Settings


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
    migrate_database(settings_from(database_url))
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
    settings = settings_from(database_url)
    # Worker processes build their settings from the environment.
    os.environ["WORKSHOP_DATA_DATABASE_URL"] = settings.database_url
    if not no_migrate:
        migrate_database(settings)
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
    settings = settings_from(database_url)
    catalog = load_catalog(settings.catalog_path)
    created = run(settings, lambda conn: create_demo_users(conn, catalog))
    if not created:
        typer.echo("users exist already; no demo users created")
        return
    typer.echo("demo users (the passwords are shown only this once):")
    for demo_user in created:
        typer.echo(
            f"  {demo_user.role:<12} username: {demo_user.username}  password: {demo_user.password}"
        )
    typer.echo("sign in with them at the address `workshop-data serve` prints")
