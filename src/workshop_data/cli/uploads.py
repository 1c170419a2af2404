"""`workshop-data uploads ...`: uploaded files."""

from datetime import timedelta
from typing import Annotated

import typer

from workshop_data.cli.common import (
    DatabaseUrl,
    run,
    settings_from,
    uploads_app,
)
from workshop_data.timeutil import iso
from workshop_data.uploads import service as uploads_service
from workshop_data.uploads.storage import DatabaseUploadStore


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
    settings = settings_from(database_url)
    days = older_than_days or settings.upload_retention_days
    removed = run(
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
