"""What the process logs: the bot's own records at the configured level, the libraries' capped where
their lines would carry what must never be logged; readable text, or one JSON object a line.

Our log messages name what happened (kind, key, update id), never what a person wrote; the JSON
form adds the ids of the update being handled when there is one, never its content.
"""

import logging
import traceback
from contextvars import ContextVar
from types import TracebackType

from pythonjsonlogger.json import JsonFormatter

# Their DEBUG (httpx: INFO) lines quote whole requests and updates: message texts, passwords typed,
# the bot token in URLs. No LOG_LEVEL lets those through.
LIBRARY_CEILINGS = {"httpx": logging.WARNING, "httpcore": logging.INFO, "telegram": logging.INFO,
                    "transitions": logging.WARNING, "aiohttp.access": logging.WARNING}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "message")
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}
# (update id, chat id) of the update whose handlers are running in this task, if any
current_update: ContextVar[tuple[int | None, int | None] | None] = ContextVar("current_update", default=None)


class UpdateIds(logging.Filter):
    """Adds `update_id` and `chat_id` to a record written while an update is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current_update.get()
        if ids is not None:
            update_id, chat_id = ids
            if update_id is not None and not hasattr(record, "update_id"):
                record.update_id = update_id
            if chat_id is not None and not hasattr(record, "chat_id"):
                record.chat_id = chat_id
        return True


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def traceback_without_messages(exc_info: ExcInfo) -> str:
    """Where it failed (frames and exception types, causes included), not what the exceptions say:
    an exception's message may quote what a person wrote (a validation error, a defect's repr)."""
    parts, error, seen = [], exc_info[1], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        parts.append(f"Traceback (most recent call last):\n{frames}{type(error).__qualname__} (message not logged)")
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return "\n\nwhich led to:\n".join(reversed(parts))


class WithoutMessages(logging.Formatter):
    """Formats tracebacks with `traceback_without_messages`."""

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 (logging's name)
        return traceback_without_messages(ei)


class JsonLineFormatter(WithoutMessages, JsonFormatter):
    pass


def formatter(log_format: str) -> logging.Formatter:
    """`json`: time (ISO 8601), level, logger, message, and the ids and latency a record carries.
    Either way a traceback shows where it failed, never the exceptions' messages."""
    if log_format == "json":
        return JsonLineFormatter(list(JSON_FIELDS), rename_fields=JSON_NAMES, datefmt="%Y-%m-%dT%H:%M:%S%z")
    return WithoutMessages(TEXT_FORMAT)


def configure(level: str | int, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(UpdateIds())
    logging.basicConfig(level=level, handlers=[handler])
    cap_libraries()


def cap_libraries() -> None:
    for name, ceiling in LIBRARY_CEILINGS.items():
        logging.getLogger(name).setLevel(ceiling)
