"""Property: whatever hostile updates arrive and whichever stored files are damaged, the running bot
still answers a newcomer, starts again, and a password is nowhere — not on disk, not in the log, not in
anything the bot sent.

Each example runs the real Application against the fake Bot API, on real files in a fresh directory.
`FLEXBOT_PROPERTY_EXAMPLES` raises the number of examples for a longer hunt (the suite runs a few)."""

import asyncio
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from bot.app import build_toolkit
from bot.logs import cap_libraries
from bot.config import Settings
from flows.subscriptions import open_subscription
from tests.conftest import running_bot
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

SECRET = "Tournesol#2026x"
AGENT = 900
VICTIM, NEWCOMER, AFTER_RESTART = 801, 802, 803
INTERNAL_ERROR = "erreur inattendue"
EXAMPLES = int(os.environ.get("FLEXBOT_PROPERTY_EXAMPLES", "5"))

# What strangers send: texts of every kind, including lone surrogates, huge ones and commands.
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["/start", "/aide", "/etat", "/file", "/rejoindre 1", "/quitter", "/start " + "A" * 300,
                     "/start ../../flexbot.lock", "\ud83d", "a\udfffb", "", " ", "\x00"]),
    st.integers(4000, 9000).map(lambda n: "é" * n),
)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                           max_leaves=8)
stranger_ids = st.integers(2000, 2004)


@st.composite
def chats(draw: st.DrawFn, user_id: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["private", "private", "group", "supergroup", "channel"]))
    return {"id": user_id if kind == "private" else -100 - user_id, "type": kind, "title": "x", "first_name": "x"}


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    user_id = draw(stranger_ids)
    message: dict[str, Any] = {"message_id": draw(st.integers(1, 50)), "date": 0,
                               "from": {"id": user_id, "is_bot": False, "first_name": draw(texts)},
                               "chat": draw(chats(user_id))}
    message.update(draw(st.sampled_from([{"text": draw(texts)}, {"caption": draw(texts), "photo": []},
                                         {"sticker": draw(json_values)}, {}])))
    return message


@st.composite
def hostile_updates(draw: st.DrawFn) -> dict[str, Any]:
    """The payload of one update, well formed or not."""
    return draw(st.one_of(
        messages().map(lambda m: {"message": m}),
        messages().map(lambda m: {"edited_message": {**m, "edit_date": 0}}),
        st.builds(lambda user_id, data, message: {"callback_query": {
            "id": "q", "from": {"id": user_id, "is_bot": False, "first_name": "x"}, "chat_instance": "c",
            "data": data, **({"message": message} if message else {})}},
            stranger_ids, texts, st.none() | messages()),
        st.dictionaries(st.sampled_from(["message", "callback_query", "poll", "edited_message", "zzz"]),
                        json_values, min_size=1, max_size=2),
        st.just({"poll": {"id": "1", "question": "?"}}),
    ))


corruptions = st.tuples(st.integers(0, 10_000), st.sampled_from(
    [b"", b"{", b"[]", b"null", b'{"record": {"1": {}}}', b'{"record": {"1": {"state": 5}}}', b"\xff\xfe\x00"]))
actions = st.lists(st.one_of(hostile_updates().map(lambda u: ("update", u)), corruptions.map(lambda c: ("corrupt", c))),
                   max_size=12)
password_ways = st.sampled_from(["once", "twice", "after_refused_email", "as_caption", "then_chatter"])


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def damage(data_dir: Path, choice: int, content: bytes) -> Path | None:
    """Overwrite one stored file (any of them but the directory lock) with `content`."""
    files = sorted(p for p in data_dir.rglob("*") if p.is_file() and p.name != "flexbot.lock")
    if not files:
        return None
    files[choice % len(files)].write_bytes(content)
    return files[choice % len(files)]


async def push_all(api: FakeBotAPI, data_dir: Path, steps: list[tuple[str, Any]]) -> list[Path]:
    """Sends the updates and damages the files, in order; returns the files damaged."""
    damaged = []
    for kind, value in steps:
        if kind == "update":
            api.push_update(value)
        elif path := damage(data_dir, *value):
            damaged.append(path)
        await asyncio.sleep(0)
    return damaged


async def answered(user: TelegramUser, text: str) -> bool:
    return INTERNAL_ERROR not in ((await asyncio.wait_for(user.send(text), 10)).text or "")


async def give_password(victim: TelegramUser, way: str) -> None:
    """At the e-mail question, the victim sends the password in one of the ways people do."""
    if way == "after_refused_email":
        victim.api.user_message(victim.user, text="jean.dupont@entreprise")
        await victim.send(SECRET)
        return
    await victim.send("jean.dupont@entreprise.fr")
    if way == "as_caption":
        await victim.send_photo(caption=SECRET)
        return
    await victim.send(SECRET)
    if way == "twice":
        await victim.send(SECRET)
    if way == "then_chatter":
        await victim.send("Dois-je cocher la case ?")


async def scenario(before: list, after: list, way: str) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        data_dir = Path(temporary) / "data"
        api = FakeBotAPI()
        await api.start()
        recorder = Recorder()
        logging.getLogger().addHandler(recorder)
        logging.getLogger().setLevel(logging.DEBUG)  # LOG_LEVEL=DEBUG, the most an operator can ask
        cap_libraries()
        try:
            config = Settings(_env_file=None, telegram_bot_token=api.token, telegram_api_base_url=api.base_url,
                              flexbot_data_dir=data_dir, helpdesk_agent_ids=frozenset({AGENT}))
            opened = open_subscription(build_toolkit(config, api.username), "achat@garage-dupont.fr", "comptabilite", 2)
            victim = TelegramUser(api, VICTIM)
            async with running_bot(config, api):
                await victim.send(f"/start {opened.code}")
                await victim.press("CRÉER mon compte Administrateur")
                await victim.send("Dupont")
                await victim.send("Jean")
                damaged = await push_all(api, data_dir, before)
                # With its record destroyed, the chat starts again: the bot cannot know a password comes.
                forgotten = any(path.name == f"{VICTIM}.json" for path in damaged)
                await give_password(victim, way)
                await push_all(api, data_dir, after)
                assert await answered(TelegramUser(api, NEWCOMER), "/aide")
                assert await answered(victim, "/etat")
            async with running_bot(config, api):  # damaged files never stop the start
                assert await answered(TelegramUser(api, AFTER_RESTART), "/start")
            assert_secret_nowhere(api, data_dir, recorder, forgotten)
        finally:
            logging.getLogger().removeHandler(recorder)
            await api.stop()


def assert_secret_nowhere(api: FakeBotAPI, data_dir: Path, recorder: Recorder, forgotten: bool) -> None:
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"the password is in {path.relative_to(data_dir)}"
    assert not any(SECRET in line for line in recorder.lines), "the password is in the log"
    sent = [(method, params) for method, params in api.calls if method != "getUpdates"]
    assert SECRET not in json.dumps(sent, ensure_ascii=False), "the bot sent the password somewhere"
    typed = [m for m in api.chats[VICTIM] if not m.from_bot and SECRET in (m.text or "")]
    assert typed and (forgotten or all(m.deleted for m in typed)), "a message holding the password was left in the chat"
    copied = {int(p["message_id"]) for p in api.method_calls("copyMessage") if int(p["from_chat_id"]) == VICTIM}
    assert not copied & {m.message_id for m in typed}, "a message holding the password was relayed"


@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(before=actions, after=actions, way=password_ways)
def test_hostile_updates_and_damaged_files_never_stop_the_bot_nor_leak_a_password(before, after, way) -> None:
    asyncio.run(scenario(before, after, way))
