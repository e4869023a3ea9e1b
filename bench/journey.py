"""The journey every simulated administrator takes, as data, so the engine bench and the load
generator play exactly the same updates: a one-seat subscription from the Commencer link to the
download, password included (one argon2id hash per administrator). With one seat the
administrator's own user is ticked already, so the review is confirmed as it stands."""

START = "/start {code}"
PASSWORD = "Tournesol2026"

JOURNEY: tuple[tuple[str, str], ...] = (
    ("send", START),
    ("press", "CRÉER mon compte Administrateur"),
    ("send", "Dupont"),
    ("send", "Jean"),
    ("send", "jean.dupont@garage-dupont.fr"),
    ("send", PASSWORD),
    ("press", "Confirmer"),
    ("press", "Ciel Données Mobiles"),
    ("press", "Télécharger mon logiciel"),
    ("send", "/etat"),
)


def steps(code: str) -> list[tuple[str, str]]:
    """The journey for the administrator holding this activation code."""
    return [(action, value.format(code=code) if value == START else value) for action, value in JOURNEY]
