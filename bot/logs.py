"""What the process logs: the bot's own records at the configured level, the libraries' capped where
their lines would carry what must never be logged."""

import logging

# Their DEBUG (httpx: INFO) lines quote whole requests and updates: message texts, passwords typed,
# the bot token in URLs. No LOG_LEVEL lets those through.
LIBRARY_CEILINGS = {"httpx": logging.WARNING, "httpcore": logging.INFO, "telegram": logging.INFO,
                    "transitions": logging.WARNING}


def configure(level: str | int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cap_libraries()


def cap_libraries() -> None:
    for name, ceiling in LIBRARY_CEILINGS.items():
        logging.getLogger(name).setLevel(ceiling)
