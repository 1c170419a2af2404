"""Structured logs: one JSON object per line on stderr, one line per request with its request
id. Every line names its process, which tells the workers of `serve --workers N` apart."""

import logging.config
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

REQUEST_LOGGER = "workshop_data.requests"


def logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for ours and uvicorn's loggers (`serve` hands it to
    uvicorn, which applies it in every worker), so that every line is JSON."""
    level = level.upper()
    handler = {"handlers": ["json"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(process)d %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",  # ISO 8601 in UTC
                # uvicorn adds a copy of its message with terminal colours.
                "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
            }
        },
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "workshop_data": {**handler},
            "uvicorn": {**handler},
            "uvicorn.error": {"level": level},
            # The app logs every request itself, with its request id.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure_logging(level: str) -> None:
    logging.config.dictConfig(logging_config(level))
