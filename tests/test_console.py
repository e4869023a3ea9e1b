"""The terminal transport: the same conversation, buttons as numbered choices, secrets not echoed."""

from collections.abc import Iterator

from bot.console_transport import CONSOLE_AGENT_ID, ConsoleTransport
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


def run(desk: Desk, terminal: Terminal) -> None:
    ConsoleTransport(desk.assistant, terminal.write, terminal.read, terminal.read_secret, chat_id=1).run(intro="Bonjour")


def test_buttons_are_numbered_and_typing_a_number_presses_it(desk: Desk) -> None:
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", "1", "Dupont"])
    run(desk, terminal)
    assert terminal.printed[0] == "Bonjour"
    assert "  1) 👤 CRÉER mon compte Administrateur" in terminal.screen
    assert "  2) 🙋 Parler à un conseiller" in terminal.screen
    assert "Quel est votre Prénom ?" in terminal.printed[-2]


def test_a_number_out_of_range_is_an_answer_not_a_press(desk: Desk) -> None:
    opened = desk.open()
    terminal = Terminal([f"/start {opened.code}", "9"])
    run(desk, terminal)
    assert "utilisez les boutons sous la question" in terminal.printed[-2]


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
    assert f"  🔗 ⬇️ TÉLÉCHARGER mon logiciel: {url}" in terminal.printed[-2]
    assert "  1) 🏠 Menu" in terminal.printed[-2]


def test_end_of_input_ends_cleanly(desk: Desk) -> None:
    terminal = Terminal([])
    run(desk, terminal)
    assert "Je n'ai pas reçu l'e-mail" in terminal.printed[1] and terminal.printed[-1] == ""


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
    assert "👤 Console (conseiller) : Je regarde votre compte." in screen
    back_as_agent = screen.rsplit("Vous jouez maintenant le conseiller", 1)[1]
    assert " : Merci !" in back_as_agent  # the administrator's answer, relayed to the agent
