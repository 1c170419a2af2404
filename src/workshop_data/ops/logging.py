"""Structured logs: one JSON object per line; one line per request with its request id."""

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

REQUEST_LOGGER = "workshop_data.requests"


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger("workshop_data")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
