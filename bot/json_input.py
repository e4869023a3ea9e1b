"""JSON from outside (Telegram, webhook callers, API clients): whatever the bytes, a ValueError.

Python's parser raises RecursionError, not ValueError, on deeply nested brackets (a megabyte of
`[`): caught nowhere, it became a 500 and a traceback.
"""

import json


def parsed(raw: bytes | bytearray | str) -> object:
    """The JSON value of `raw`; ValueError when it is none, nested too deep included."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
