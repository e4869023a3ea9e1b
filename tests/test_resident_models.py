"""The single machine keeps no conversation attached once an event is handled, however many chats pass."""

from flows.assistant import Assistant
from tests.flow_harness import Chat, make_toolkit, open_account


def test_no_model_stays_attached_after_many_conversations():
    toolkit, _, _ = make_toolkit()
    assistant = Assistant(toolkit)
    for chat_id in range(1, 201):
        chat = Chat(assistant, chat_id)
        chat.command(f"/start {open_account(toolkit).code}")
        chat.press("CRÉER mon compte Administrateur")
        chat.type("Dupont")
        chat.press("Retour")
        chat.sticker()
        chat.command("/etat")
    assert len(assistant.machine.models) == 0
