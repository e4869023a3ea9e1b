"""A simulated person in a private chat with the bot, talking through the fake Bot API server."""

from tests.fake_bot_api import REPLY_METHODS, ChatMessage, FakeBotAPI


class TelegramUser:
    def __init__(self, api: FakeBotAPI, user_id: int, first_name: str = "Jean", language: str = "fr") -> None:
        self.api = api
        self.id = user_id
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language}

    async def _reply_to(self, push, reply_in: "TelegramUser | None" = None) -> ChatMessage:
        """Do something, then wait for the bot to write in this chat (or in `reply_in`'s)."""
        watched = reply_in or self
        before = self.api.outputs(watched.id)
        push()
        await self.api.wait_until(lambda: self.api.outputs(watched.id) > before)
        return watched.last

    def type(self, text: str) -> int:
        """Queue a typed message (a command when it starts with '/'); returns its update id."""
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
        return self.api.user_message(self.user, text=text, entities=entities)[0]

    async def send(self, text: str, reply_in: "TelegramUser | None" = None) -> ChatMessage:
        """Type a message and wait for the bot's reply."""
        return await self._reply_to(lambda: self.type(text), reply_in)

    async def edit(self, message_id: int, text: str) -> ChatMessage:
        """Edit a message sent earlier and wait for the bot's reply."""
        return await self._reply_to(lambda: self.api.user_edit(self.user, message_id, text))

    async def send_photo(self, caption: str = "", reply_in: "TelegramUser | None" = None) -> ChatMessage:
        photo = [{"file_id": "AgAC", "file_unique_id": "AQAD", "width": 90, "height": 90}]
        return await self._reply_to(lambda: self.api.user_message(self.user, photo=photo, caption=caption), reply_in)

    async def sees(self, fragment: str) -> ChatMessage:
        """Wait until a message of the bot in this chat contains `fragment`."""
        def found() -> ChatMessage | None:
            return next((m for m in reversed(self.messages) if m.from_bot and fragment in (m.text or "")), None)
        await self.api.wait_until(lambda: found() is not None)
        return found()  # type: ignore[return-value]

    async def send_sticker(self) -> ChatMessage:
        sticker = {"file_id": "CAAC", "file_unique_id": "AgAD", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False}
        return await self._reply_to(lambda: self.api.user_message(self.user, sticker=sticker))

    def tap(self, label: str, message: ChatMessage | None = None) -> int:
        """Queue a press on the first button whose label contains `label`, on `message` or the newest
        one showing it; returns its update id."""
        message = message or self.message_with_button(label)
        button = next(b for b in message.buttons() if label in b["text"])
        return self.api.press(self.user, message, button["callback_data"])

    async def press(self, label: str, message: ChatMessage | None = None) -> ChatMessage:
        """Press a button (see `tap`) and wait for the bot's reply."""
        return await self._reply_to(lambda: self.tap(label, message))

    def message_with_button(self, label: str) -> ChatMessage:
        for message in reversed(self.messages):
            if any(label in b["text"] for b in message.buttons()):
                return message
        raise AssertionError(f"no message shows a button {label!r}; last: {self.last.text!r}")

    @property
    def messages(self) -> list[ChatMessage]:
        return [m for m in self.api.chats.get(self.id, []) if not m.deleted]

    @property
    def last(self) -> ChatMessage:
        """The message the bot wrote or edited most recently."""
        for method, params in reversed(self.api.answered):
            if method in REPLY_METHODS and params.get("chat_id") == self.id:
                ids = {m.message_id: m for m in self.messages}
                if method == "editMessageText" and int(params["message_id"]) in ids:
                    return ids[int(params["message_id"])]
                if method != "editMessageText":
                    return [m for m in self.messages if m.from_bot][-1]
        raise AssertionError("the bot has not written yet")

    def labels(self, message: ChatMessage | None = None) -> list[str]:
        return [b["text"] for b in (message or self.last).buttons()]
