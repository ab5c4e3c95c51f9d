"""Logging: plain text or one JSON object a line (BERTH_LOG_FORMAT), at BERTH_LOG_LEVEL, and every
line a reconcile writes carries its id and its object's key."""

import json
import logging
from typing import Any

from berth.runtime import queue
from berth.settings import LogFormat, Settings

TEXT = "%(asctime)s %(levelname)s %(name)s%(reconcile)s: %(message)s"


class ReconcileContext(logging.Filter):
    """Stamps each record with the reconcile it was written in, if any (`reconcile_id`, `key`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = queue.CURRENT.get()
        key = _text(current.key) if current else None
        record.reconcile_id = current.id if current else None
        record.key = key
        record.reconcile = f" [{key} {current.id}]" if current else ""
        return True


def _text(key: object) -> str:
    """(namespace, name) as `namespace/name`, as kubectl writes it."""
    if isinstance(key, tuple):
        return "/".join(str(part) for part in key if part)
    return str(key)


class JsonLines(logging.Formatter):
    """One JSON object a line, as log collectors (Loki, Fluent Bit, CloudWatch) parse them."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        reconcile_id = getattr(record, "reconcile_id", None)
        if reconcile_id:
            line["reconcile_id"] = reconcile_id
            line["key"] = getattr(record, "key", None)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def handler_for(log_format: LogFormat) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.addFilter(ReconcileContext())
    handler.setFormatter(JsonLines() if log_format == LogFormat.JSON else logging.Formatter(TEXT))
    return handler


def configure(settings: Settings) -> None:
    root = logging.getLogger()
    root.handlers[:] = [handler_for(settings.log_format)]
    root.setLevel(settings.log_level)
    # kopf logs every handler call at INFO: thousands of lines that say nothing at scale.
    logging.getLogger("kopf.objects").setLevel(max(logging.WARNING, root.level))


# kopf's watch streams are async generators; when SIGTERM lands while one is still opening its
# connection, asyncio's shutdown closes it late and reports "generator didn't stop after athrow()"
# at ERROR with a traceback. Nothing is lost (the operator is stopping), so it is a debug line.
LATE_CLOSING = frozenset({"infinite_watch", "continuous_watch"})


def quiet_late_watch_closing(loop: Any, context: dict[str, Any]) -> None:
    """An asyncio exception handler: kopf's watch generators closed at shutdown are logged at
    DEBUG; everything else goes to asyncio's default handler."""
    generator = context.get("asyncgen")
    if getattr(generator, "__name__", None) in LATE_CLOSING:
        logging.getLogger(__name__).debug(
            "a watch stream closed late at shutdown: %r", context.get("exception")
        )
        return
    loop.default_exception_handler(context)
