"""What agents type and press: their commands (French and English) and their buttons' prefix; how any
typed command is recognised."""

import unicodedata

AGENT_COMMANDS = {"file": "queue", "queue": "queue", "rejoindre": "join", "join": "join",
                  "quitter": "leave", "leave": "leave"}
STATE_COMMANDS = {"etat", "state", "status"}
AGENT_BUTTON = "hd"


def command_name(text: str) -> str:
    """The command as registered: « /État@FlexBot » and « /ETAT » are /etat. Telegram registers commands
    without accents, but people type them as they write French."""
    name = text.lstrip("/").split(maxsplit=1)[0].split("@", 1)[0] if text.strip("/ ") else ""
    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return bare.casefold()
