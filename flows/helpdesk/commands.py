"""What agents type and press: their commands (French and English) and their buttons' prefix."""

AGENT_COMMANDS = {"file": "queue", "queue": "queue", "rejoindre": "join", "join": "join",
                  "quitter": "leave", "leave": "leave"}
STATE_COMMANDS = {"etat", "state", "status"}
AGENT_BUTTON = "hd"


def command_name(text: str) -> str:
    return text.lstrip("/").split(" ", 1)[0].split("@", 1)[0].lower()
