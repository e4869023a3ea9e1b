"""The engine alone: one event through `flows/` with the in-memory store and a cheap password
hasher, so no disk, no network and no argon2 — what the conversation logic itself costs."""

import time

from bench.journey import steps
from bench.stats import percentiles_ms
from flows.assistant import Assistant
from flows.boundary import Event, Outcome
from flows.steps.base import Toolkit
from tests.flow_harness import Chat, make_toolkit, open_account


class TimedAssistant(Assistant):
    """Notes how long each `handle` takes."""

    def __init__(self, toolkit: Toolkit) -> None:
        super().__init__(toolkit)
        self.durations: list[float] = []

    def handle(self, chat_id: int, event: Event) -> Outcome:
        started = time.perf_counter()
        outcome = super().handle(chat_id, event)
        self.durations.append(time.perf_counter() - started)
        return outcome


def play(assistant: Assistant, administrators: int, first_chat: int = 1) -> None:
    """Each administrator through the journey, one after the other."""
    for chat_id in range(first_chat, first_chat + administrators):
        chat = Chat(assistant, chat_id)
        for action, value in steps(open_account(assistant.toolkit).code):
            if action == "press":
                chat.press(value)
            elif value.startswith("/"):
                chat.command(value)
            else:
                chat.type(value)


def run(administrators: int) -> dict[str, object]:
    toolkit, _, _ = make_toolkit()
    assistant = TimedAssistant(toolkit)
    play(assistant, administrators)
    durations = assistant.durations
    return {"events": len(durations), "mean_ms": round(sum(durations) / len(durations) * 1000, 3),
            **percentiles_ms(durations), "resident_models": len(assistant.machine.models)}
