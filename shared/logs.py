"""One logging setup for every command: a quiet terminal by default, the rest with --verbose.

By default a line is written for what an operator acts on: started, stopped, warnings and errors.
Every message handled, every SMTP command and every HTTP request is logged at DEBUG or by a
logger held at WARNING, and shows up with ``--verbose``. ``ISO20400_LOG_FORMAT=json`` writes one
JSON object per line for a log collector. No colour codes: a log file or a pipe gets the same
bytes a terminal does.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# Libraries that narrate every connection, message or request at INFO.
CHATTY = ("faststream", "faststream.access", "faststream.access.nats", "iso20400.bus.access",
          "mail.log", "alembic", "httpx", "httpcore", "uvicorn.access", "uvicorn.error", "nats",
          "asyncio")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and, when there is one, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_format() -> str:
    value = os.environ.get("ISO20400_LOG_FORMAT", "text").strip().lower()
    return "json" if value == "json" else "text"


def setup_logging(*, verbose: bool = False) -> None:
    """Configure the root logger once, on stderr; idempotent so tests may call it again."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format() == "json":
        handler.setFormatter(JsonFormatter())
        # A crash or a warning must not break the one-object-per-line promise either.
        sys.excepthook = _log_uncaught
        logging.captureWarnings(True)
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in CHATTY:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
        for old in list(logger.handlers):  # FastStream adds its own coloured stdout handler
            logger.removeHandler(old)
        logger.propagate = True
    if not verbose:
        for name in ("psycopg", "multipart", "python_multipart", "fontTools", "weasyprint",
                     "PIL"):
            logging.getLogger(name).setLevel(logging.WARNING)
    else:
        # Their DEBUG output drowns the rest even with --verbose (240 lines of SMTP per scan).
        for name in ("mail.log", "asyncio", "fontTools", "weasyprint", "PIL", "multipart",
                     "python_multipart"):
            logging.getLogger(name).setLevel(logging.INFO)


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("iso20400").critical("stopped by an uncaught %s", kind.__name__,
                                           exc_info=(kind, value, tb))


def broker_logging() -> dict[str, Any]:
    """Keyword arguments for ``NatsBroker``: our logger, and per-message lines at DEBUG.

    FastStream logs "Received"/"Processed" for every message at the broker's ``log_level`` and
    gives its own logger a coloured handler; with a logger of ours and DEBUG, those lines go
    through the handler above and only show with --verbose. Handler errors stay at ERROR.
    """
    return {"logger": logging.getLogger("iso20400.bus.access"), "log_level": logging.DEBUG}
