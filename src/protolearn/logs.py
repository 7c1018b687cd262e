"""Log lines, as text for a terminal or as one JSON object per line (``PROTOLEARN_LOG_FORMAT=json``)
for a log shipper, each carrying the request, user and attempt it belongs to.

The request id and user id are context variables, set by the request log and the bearer
middleware for everything logged while a request is handled; an attempt id comes from the line
itself (``extra={"attempt_id": ...}``) or from the request's path. Secrets never reach a line:
tokens in any form (a JWT, ``Bearer ...``, ``token=...``, a signed link's ``signature=``) are
masked in messages and tracebacks, whoever logged them (uvicorn, aiortc, a library's error).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ("REQUEST_ID", "USER_ID", "JsonFormatter", "TextFormatter", "logging_config", "redact")

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
USER_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)

_SECRETS = re.compile(
    r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"  # a JWT, wherever it is
    r"|(?i:bearer)\s+[\w.~+/=-]+"
    r"|(?i:(?:token|signature|password|secret|api_key|refresh_token)=)[^&\s\"';,]+"
)
# Attributes every LogRecord has; the others were given as ``extra`` and are fields of the line.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's message again, with terminal colours
}
_CONTEXT_FIELDS = ("request_id", "user_id", "attempt_id")


def redact(text: str) -> str:
    """The text with every token-like secret replaced by ``[redacted]``."""
    return _SECRETS.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    found = match.group(0)
    name, equals, _ = found.partition("=")
    if equals and not found.startswith("eyJ"):
        return f"{name}=[redacted]"
    if found[:6].lower() == "bearer":
        return "Bearer [redacted]"
    return "[redacted]"


def _context(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        "user_id": getattr(record, "user_id", None) or USER_ID.get(),
        "attempt_id": getattr(record, "attempt_id", None),
    }
    return {key: value for key, value in fields.items() if value is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context and the line's extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            **_context(record),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in line and not key.startswith("_"):
                line[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger: message [request=... user=... attempt=...]``, secrets masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = " ".join(f"{key.removesuffix('_id')}={value}" for key, value in _context(record).items())
        return redact(f"{text} [{context}]" if context else text)


def logging_config(log_format: Literal["text", "json"], level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server (uvicorn's ``log_config``): every logger,
    uvicorn's and the app's, through one formatter to standard output."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stdout"}
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            # uvicorn's own handlers are replaced by the root's; its access log is the app's
            # request log (api/request_log.py), which never writes a query string.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
            # aioice logs every candidate pair at INFO: noise at a class's scale.
            "aioice": {"level": "WARNING"},
            "aiortc": {"level": "WARNING"},
        },
    }
