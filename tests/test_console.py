"""The terminal transport: the same conversation, buttons as numbered choices, secrets not echoed."""

from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.console_transport import CONSOLE_AGENT_ID, CONSOLE_CHAT_ID, ConsoleTransport
from tests.flow_harness import ADMIN_PASSWORD, Desk


class Terminal:
    """A scripted person at a terminal: plain lines, secret lines, and what was printed."""

    def __init__(self, lines: list[str], secrets: list[str] | None = None) -> None:
        self._lines: Iterator[str] = iter(lines)
        self._secrets: Iterator[str] = iter(secrets or [])
        self.printed: list[str] = []
        self.secret_prompts = 0

    def write(self, text: str) -> None:
        self.printed.append(text)

    def read(self, prompt: str) -> str:
        return self._next(self._lines)

    def read_secret(self, prompt: str) -> str:
        self.secret_prompts += 1
        return self._next(self._secrets)

    @staticmethod
    def _next(lines: Iterator[str]) -> str:
        line = next(lines, None)
        if line is None:
            raise EOFError
        return line

    @property
    def screen(self) -> str:
        return "\n".join(self.printed)


def run(desk: Desk, terminal: Terminal, language: str = "fr") -> None:
    ConsoleTransport(desk.assistant, terminal.write, terminal.read, terminal.read_secret, chat_id=1,
                     language=language).run(intro="Bonjour", first_steps="flexbot subscription add …")


def test_buttons_are_numbered_and_typing_a_number_presses_it(desk: Desk) -> None:
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", "1", "Dupont"])
    run(desk, terminal)
    assert terminal.printed[0] == "Bonjour"
    assert "  1) 👤 CRÉER mon compte Administrateur" in terminal.screen
    assert "  2) 🙋 Parler à un conseiller" in terminal.screen
    assert "Quel est votre prénom" in terminal.printed[-2]


@pytest.mark.parametrize("line", ["9", "0", "", "   ", "oui"])
def test_where_only_choices_answer_a_wrong_line_names_the_numbers_that_work(desk: Desk, line: str) -> None:
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", line, "1"])
    run(desk, terminal)
    hint = terminal.printed.index("Tapez un numéro de 1 à 2.")
    assert "CRÉER mon compte Administrateur" in terminal.printed[hint - 1]  # the question stays on screen
    assert "Quel est votre nom" in terminal.printed[-2]  # and its numbers still work
    assert "boutons" not in terminal.screen


def test_in_english_the_hint_is_english(desk: Desk) -> None:
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", "7"])
    run(desk, terminal, language="en")
    assert "Type a number from 1 to 2." in terminal.printed
    assert terminal.printed[-2] == "Type a number from 1 to 2." and "CRÉER mon compte" in terminal.printed[-3]
    assert "buttons" not in terminal.screen


def test_where_an_answer_is_typed_an_empty_line_says_so_and_a_number_is_an_answer(desk: Desk) -> None:
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", "1", "", "9"])
    run(desk, terminal)
    assert "Tapez votre réponse, ou un numéro de 1 à 2 pour choisir." in terminal.printed
    assert "Ce nom ne semble pas valide" in terminal.printed[-2]


def test_how_to_open_a_subscription_is_said_only_when_there_is_nothing_to_resume(desk: Desk) -> None:
    first = Terminal([])
    run(desk, first)
    assert first.printed[:2] == ["Bonjour", "flexbot subscription add …"]
    opened = desk.open()
    run(desk, Terminal([f"/start {opened.code}", "1", "Dupont"]))
    resumed = Terminal([])
    run(desk, resumed)
    assert "flexbot subscription add …" not in resumed.printed
    assert resumed.printed[0] == "Bonjour" and "Quel est votre prénom" in resumed.printed[1]


def test_the_password_is_read_through_the_secret_reader(desk: Desk) -> None:
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", "1", "Dupont", "Jean", "jean@entreprise.fr"], [ADMIN_PASSWORD])
    run(desk, terminal)
    assert terminal.secret_prompts == 1
    assert "Vérifiez votre compte administrateur" in terminal.printed[-2]
    assert ADMIN_PASSWORD not in terminal.screen


def test_url_buttons_are_shown_with_their_url(desk: Desk) -> None:
    opened = desk.open()
    to_download = ["1", "Dupont", "Jean", "jean@entreprise.fr"]
    terminal = Terminal([f"/start {opened.code}", *to_download, "6", "6"], [ADMIN_PASSWORD])
    run(desk, terminal)
    url = desk.toolkit.settings.software_download_url
    downloads = next(text for text in terminal.printed if "TÉLÉCHARGER mon logiciel" in text)
    assert f"  🔗 ⬇️ TÉLÉCHARGER mon logiciel: {url}" in downloads and "  1) 🏠 Menu" in downloads


def test_the_assistant_is_rated_by_number_once_the_downloads_are_shown(desk: Desk) -> None:
    """As in Telegram, the rating question comes after step 4's message: its numbers are the marks."""
    opened = desk.open()
    to_download = ["1", "Dupont", "Jean", "jean@entreprise.fr", "6", "6"]
    terminal = Terminal([f"/start {opened.code}", *to_download, "4"], [ADMIN_PASSWORD])
    run(desk, terminal)
    rated = desk.toolkit.store.load_feedback(f"assistant-{CONSOLE_CHAT_ID}")
    assert rated is not None and rated.rating == 4


def test_end_of_input_ends_cleanly(desk: Desk) -> None:
    terminal = Terminal([])
    run(desk, terminal)
    assert "Je n'ai pas reçu l'e-mail" in terminal.printed[2] and terminal.printed[-1] == ""


def test_one_terminal_plays_the_agent_too_and_the_help_desk_works_both_ways() -> None:
    desk = Desk.build(agents=frozenset({CONSOLE_AGENT_ID}))
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", "2", "/basculer", "1", "Je regarde votre compte.", "/basculer",
                         "Merci !", "/basculer"])
    run(desk, terminal)
    screen = terminal.screen
    assert "Un message attend le conseiller" in screen and "Vous jouez maintenant le conseiller" in screen
    assert "Demande d'aide n° 1" in screen and "Rejoindre" in screen
    assert "Console, conseiller, a rejoint la conversation" in screen  # the administrator's side, read after switching
    assert "👤 Console (conseiller) : Je regarde votre compte." in screen
    back_as_agent = screen.rsplit("Vous jouez maintenant le conseiller", 1)[1]
    assert "Merci !" in back_as_agent  # the administrator's answer, relayed to the agent


@pytest.mark.parametrize(("environment", "language"), [
    ({"LANG": "en_GB.UTF-8"}, "en"), ({"LANG": "fr_FR.UTF-8"}, "fr"), ({"LANG": "C.UTF-8"}, "fr"),
    ({"LANG": "fr_FR.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"), ({"LANG": "en_US.UTF-8", "CONSOLE_LANGUAGE": "fr"}, "fr"),
])
def test_the_terminal_speaks_the_configured_language_else_the_locales(
        monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], language: str) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "CONSOLE_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None).terminal_language() == language



def test_after_rating_the_advisor_a_comment_is_asked_for_by_its_number_then_typed() -> None:
    desk = Desk.build(agents=frozenset({CONSOLE_AGENT_ID}))
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", "2", "/basculer", "1", "/quitter", "/basculer",
                         "5", "1", "Très clair, merci"])
    run(desk, terminal)
    assert "  1) 💬 Ajouter un commentaire" in terminal.screen and "  1) Annuler" in terminal.screen
    feedback = desk.toolkit.store.load_feedback("help-1")
    assert feedback is not None and (feedback.rating, feedback.comment) == (5, "Très clair, merci")
