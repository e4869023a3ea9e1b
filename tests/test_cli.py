"""The operators' `flexbot subscription` commands: refuse bad input before writing anything."""

import json
from pathlib import Path

import pytest

from bot.cli import main as flexbot
from bot.config import Settings
from tests.test_telegram_journey import outbox, plain_text

GOOD = ["--email", "achat@garage-dupont.fr", "--product", "paye", "--seats", "3"]


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    """Settings with no token, so no Bot API is asked for the bot's name."""
    return Settings(_env_file=None, flexbot_data_dir=tmp_path / "data", bot_username="FlexCliBot")


def add(settings: Settings, *arguments: str) -> int:
    return flexbot(["subscription", "add", *arguments], settings)


@pytest.mark.parametrize(("changed", "reason"), [
    (("--product", "bureautique"), "unknown product 'bureautique'"),
    (("--seats", "0"), "seats must be at least 1"),
    (("--seats", "-2"), "seats must be at least 1"),
    (("--seats", "51"), "seats must be at most 50"),
    (("--seats", "100000"), "seats must be at most 50"),
    (("--email", "achat@"), "malformed e-mail address"),
])
def test_bad_arguments_are_refused_with_one_line_and_nothing_written(
        offline: Settings, capsys: pytest.CaptureFixture[str], changed: tuple[str, str], reason: str) -> None:
    arguments = list(GOOD)
    arguments[arguments.index(changed[0]) + 1] = changed[1]
    assert add(offline, *arguments) != 0
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and reason in err
    assert not offline.flexbot_data_dir.exists() or not any(p.is_file() for p in offline.flexbot_data_dir.rglob("*"))


def test_good_arguments_print_the_number_code_and_link_and_mail_it(offline: Settings,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert add(offline, *GOOD, "--json") == 0
    opened = json.loads(capsys.readouterr().out)
    assert opened["link"] == f"https://t.me/FlexCliBot?start={opened['code']}"
    assert opened["number"].startswith("FLX") and (opened["product"], opened["seats"]) == ("paye", 3)
    (mail,) = outbox(offline)
    assert mail["To"] == "achat@garage-dupont.fr" and opened["link"] in plain_text(mail)


def test_the_plain_output_names_the_link_and_the_code(offline: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert add(offline, *GOOD) == 0
    out = capsys.readouterr().out
    assert "Commencer link (also e-mailed): https://t.me/FlexCliBot?start=" in out and "Code: " in out


@pytest.mark.parametrize(("seats", "said"), [("1", "(paye, 1 seat)"), ("50", "(paye, 50 seats)")])
def test_one_to_fifty_seats_are_accepted_and_counted_in_words(
        offline: Settings, capsys: pytest.CaptureFixture[str], seats: str, said: str) -> None:
    assert add(offline, "--email", "achat@garage-dupont.fr", "--product", "paye", "--seats", seats) == 0
    assert said in capsys.readouterr().out


def test_list_shows_every_subscription_as_json_and_as_a_table(offline: Settings,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    add(offline, *GOOD, "--json")
    add(offline, "--email", "compta@boulangerie.fr", "--product", "comptabilite", "--seats", "1", "--json")
    numbers = sorted(json.loads(line)["number"] for line in capsys.readouterr().out.splitlines())
    assert flexbot(["subscription", "list", "--json"], offline) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(row["number"] for row in rows) == numbers
    assert {(r["email"], r["product"], r["seats"], r["users"], r["admin"], r["setup_done"]) for r in rows} == {
        ("achat@garage-dupont.fr", "paye", 3, 0, None, False),
        ("compta@boulangerie.fr", "comptabilite", 1, 0, None, False)}
    assert flexbot(["subscription", "list"], offline) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == ["number", "email", "product", "seats", "users", "admin", "setup_done"]
    assert sorted(line.split()[0] for line in lines) == numbers
    assert all(line.split()[5] == "-" for line in lines)


def test_list_of_an_empty_data_dir_is_empty(offline: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert flexbot(["subscription", "list", "--json"], offline) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("damage", [b"", b"{\"record\": {\"1\": {\"nu", b"\xff\xfe garbage", b"[]",
                                    b'{"record": {"1": {"number": 7}}}'])
def test_list_names_an_unreadable_subscription_and_lists_the_others(
        offline: Settings, capsys: pytest.CaptureFixture[str], damage: bytes) -> None:
    add(offline, *GOOD, "--json")
    add(offline, "--email", "compta@boulangerie.fr", "--product", "comptabilite", "--seats", "1", "--json")
    first, second = (json.loads(line)["number"] for line in capsys.readouterr().out.splitlines())
    (damaged,) = (offline.flexbot_data_dir / "db" / "subscriptions").glob(f"*/{first}.json")
    damaged.write_bytes(damage)
    assert flexbot(["subscription", "list", "--json"], offline) == 1
    out, err = capsys.readouterr()
    assert [row["number"] for row in json.loads(out)] == [second]
    assert first in err and "garbage" not in err and err.count("\n") == 1
    assert not damaged.exists() and any((offline.flexbot_data_dir / "db" / "quarantine").rglob(f"{first}.*"))


def test_env_example_copied_as_it_is_runs_in_the_terminal(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cp .env.example .env`: its empty keys mean "not set", not an empty token or a chat id of ''."""
    for name in ("TELEGRAM_BOT_TOKEN", "HELPDESK_CHAT_ID", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text((Path(__file__).parent.parent / ".env.example").read_text())
    settings = Settings(_env_file=env)
    assert settings.telegram_bot_token is None and settings.helpdesk_chat_id is None and settings.smtp() is None
    assert not settings.assistant_settings().helpdesk_open
