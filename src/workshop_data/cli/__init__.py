"""The `workshop-data` command (Typer): one module per command group. Each module registers
its commands on the groups of `common` when it is imported, so the order below is the order
in which `--help` lists the commands."""

from importlib import import_module

from workshop_data.cli.common import app

for _commands in ("server", "export", "users", "uploads", "workshop"):
    import_module(f"workshop_data.cli.{_commands}")

__all__ = ["app"]
