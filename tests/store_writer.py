"""A write storm for the crash test: saves one large conversation again and again, printing each save
once `save_conversation` has returned (acknowledged), until it is killed."""

import sys

from flows.records import Conversation
from storage.tinydb_store import TinyDBStore

CHAT = 1
PADDING = "x" * 400_000  # large files of changing sizes keep a write in flight most of the time


def main(root: str) -> None:
    store = TinyDBStore(root)
    saved = store.load_conversation(CHAT)
    update_id = saved.last_update_id if saved else 0
    while True:
        update_id += 1
        store.save_conversation(Conversation(CHAT, "awaiting_code", answers={"padding": PADDING * (update_id % 4)},
                                             last_update_id=update_id))
        print(update_id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
