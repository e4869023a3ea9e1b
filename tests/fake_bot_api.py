"""A small Bot API server on 127.0.0.1 that plays Telegram for the real python-telegram-bot.

It queues the updates that simulated people send, answers the bot's calls the way Telegram does
(including "message is not modified"), and keeps each chat as the person would see it. Once the bot
calls setWebhook, it delivers the updates by POST the way Telegram does (see `WebhookSender`).
"""

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_ID = 999_000
REPLY_METHODS = {"sendMessage", "editMessageText", "copyMessage"}
RAW_FIELDS = {"caption", "text", "callback_query_id", "parse_mode", "name", "url", "secret_token"}  # PTB sends these as plain strings
TEXT_LIMIT, CAPTION_LIMIT, TOPIC_NAME_LIMIT = 4096, 1024, 128  # Telegram's, counted in UTF-16 code units


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def checked_text(text: str) -> str:
    if not text.strip():
        raise ApiError("Bad Request: message text is empty")
    if units(text) > TEXT_LIMIT:
        raise ApiError("Bad Request: message is too long")
    return text


def checked_caption(caption: str | None) -> str | None:
    if caption is not None and units(caption) > CAPTION_LIMIT:
        raise ApiError("Bad Request: message caption is too long")
    return caption


@dataclass
class ChatMessage:
    """A message as it stands in a chat after edits; `from_bot` tells who wrote it."""

    message_id: int
    from_bot: bool
    text: str | None
    reply_markup: dict[str, Any] | None = None
    thread_id: int | None = None
    deleted: bool = False
    sent_at: float = field(default_factory=time.monotonic)

    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class Webhook:
    """What the bot registered with setWebhook."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int


def chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to, which Telegram's webhook delivers one update at a time."""
    for key in ("message", "edited_message"):
        if key in update:
            return int(update[key]["chat"]["id"])
    if "callback_query" in update:
        return int(update["callback_query"]["from"]["id"])
    return 0


class WebhookSender:
    """Telegram's webhook delivery: at most one update per chat in flight, the chat's next one only
    after a 2xx; a non-2xx, a refused connection or a timeout is retried after `first_backoff`,
    doubling up to `longest_backoff` (Telegram: 1 s up to a minute or two); at most
    `max_connections` requests at once; the secret token in its header.

    `attempts` keeps every try as (update id, HTTP status, or None when no answer came)."""

    def __init__(self, webhook: Webhook, first_backoff: float, longest_backoff: float, timeout: float,
                 notify: Callable[[], None]) -> None:
        self.webhook = webhook
        self.first_backoff, self.longest_backoff, self.timeout = first_backoff, longest_backoff, timeout
        self.attempts: list[tuple[int, int | None]] = []
        self.acknowledged: set[int] = set()
        self.chats: dict[int, int] = {}  # update id -> its chat
        self._queues: dict[int, deque[dict[str, Any]]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(webhook.max_connections)
        self._notify = notify
        self.on_post: Callable[[dict[str, Any]], None] | None = None  # each try, as it is sent: for load tests
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))

    def queue(self, update: dict[str, Any]) -> None:
        chat = self.chats[update["update_id"]] = chat_of(update)
        self._queues.setdefault(chat, deque()).append(update)
        if chat not in self._workers:
            self._workers[chat] = asyncio.get_running_loop().create_task(self._deliver_chat(chat))

    def pending(self) -> list[dict[str, Any]]:
        """What is not acknowledged yet, in update order."""
        return sorted((u for q in self._queues.values() for u in q), key=lambda u: u["update_id"])

    async def _deliver_chat(self, chat: int) -> None:
        queue = self._queues[chat]
        try:
            while queue:
                await self._deliver(queue[0])
                queue.popleft()
        finally:
            del self._workers[chat]

    async def _deliver(self, update: dict[str, Any]) -> None:
        backoff = self.first_backoff
        while True:
            status = await self._post(update)
            self.attempts.append((update["update_id"], status))
            if status is not None and 200 <= status < 300:
                self.acknowledged.add(update["update_id"])
                self._notify()
                return
            self._notify()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.longest_backoff)

    async def _post(self, update: dict[str, Any]) -> int | None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook.secret_token} if self.webhook.secret_token else {}
        async with self._slots:
            if self.on_post is not None:
                self.on_post(update)
            try:
                async with self._session.post(self.webhook.url, json=update, headers=headers) as answer:
                    await answer.read()
                    return answer.status
            except (aiohttp.ClientError, TimeoutError):
                return None

    async def close(self) -> None:
        for worker in list(self._workers.values()):
            worker.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        await self._session.close()


class FakeBotAPI:
    def __init__(self, token: str = "123456:TEST-TOKEN", username: str = "FlexTestBot") -> None:
        self.token, self.username = token, username
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answered: list[tuple[str, dict[str, Any]]] = []  # calls that succeeded, once done
        self.chats: dict[int, list[ChatMessage]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._closing = False
        self.fail_next: dict[str, dict[str, Any]] = {}
        self.fail_in_chat: dict[int, list[dict[str, Any]]] = {}  # the next calls about a chat get these, in turn
        self.raw_next: dict[str, list[bytes]] = {}  # a hostile server: these bodies, as they are, first
        self.missing_methods: set[str] = set()  # a minimal server: these answer 404
        self.blocked: set[int] = set()  # people who blocked the bot: sending to them is forbidden
        self.group_members: set[int] = set()
        self.forums: set[int] = set()
        self._thread_ids = itertools.count(100)
        self.on_reply: Callable[[int, str], None] | None = None  # (chat_id, method) for load tests
        self.webhook: WebhookSender | None = None
        self.webhook_backoff = (0.05, 0.5)  # first and longest retry wait: Telegram's 1 s and 60-120 s, shortened
        self.webhook_timeout = 10.0
        self.delays: dict[str, float] = {}  # a method answered after this many seconds (a slow Bot API)
        self.down = False  # every method answers 502, as a Bot API behind a failing proxy

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Long polls still waiting are answered at once, so nothing holds the shutdown."""
        self._closing = True
        await self._notify()
        if self.webhook is not None:
            await self.webhook.close()
        if self._runner:
            await self._runner.cleanup()

    # What simulated people do.

    def push_update(self, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **payload}
        if self.webhook is not None:
            self.webhook.queue(update)
        else:
            self._updates.append(update)
        self._notify_soon()
        return update_id

    def user_message(self, user: dict[str, Any], chat_id: int | None = None, thread_id: int | None = None,
                     **content: Any) -> tuple[int, int]:
        """Queue a message from `user`, in their private chat or in a group's topic; returns ids."""
        message_id = next(self._message_ids)
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if chat_id is not None:
            chat = {"id": chat_id, "type": "supergroup", "title": "Support", "is_forum": chat_id in self.forums}
        text = content.get("text", content.get("caption"))
        self.chats.setdefault(chat["id"], []).append(ChatMessage(message_id, False, text))
        message = {"message_id": message_id, "date": int(time.time()), "from": user, "chat": chat, **content}
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        return self.push_update({"message": message}), message_id

    def user_edit(self, user: dict[str, Any], message_id: int, text: str) -> int:
        """The person edits a message they sent earlier in their private chat."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        now = int(time.time())
        edited = {"message_id": message_id, "date": now, "edit_date": now, "from": user, "chat": chat, "text": text}
        return self.push_update({"edited_message": edited})

    def press(self, user: dict[str, Any], message: ChatMessage, data: str, say_which: bool = True) -> int:
        """A button press; `say_which=False` leaves out the pressed message, as a minimal server may."""
        query = {"id": str(next(self._message_ids)), "from": user, "chat_instance": f"ci{user['id']}",
                 "data": data}
        if say_which:
            query["message"] = self._message_json(user["id"], message)
        return self.push_update({"callback_query": query})

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    def outputs(self, chat_id: int) -> int:
        """How many replies (sent, copied or edited messages) the bot produced in this chat so far."""
        return sum(1 for method, params in self.answered
                   if method in REPLY_METHODS and params.get("chat_id") == chat_id)

    def method_calls(self, name: str) -> list[dict[str, Any]]:
        return [params for method, params in self.calls if method == name]

    def answered_calls(self, name: str) -> list[dict[str, Any]]:
        """Calls of this method that succeeded, once answered (a setWebhook: the bot listens already)."""
        return [params for method, params in self.answered if method == name]

    # The Bot API, as far as the bot uses it.

    def _notify_soon(self) -> None:
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        await self._notify()
        if self.down:
            return web.Response(status=502, text="Bad Gateway")
        if self.raw_next.get(method):
            return web.Response(body=self.raw_next[method].pop(0), content_type="application/json")
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        if method in self.fail_next:
            failure = self.fail_next.pop(method)
            return web.json_response({"ok": False, **failure}, status=failure.get("error_code", 400))
        if "chat_id" in params and self.fail_in_chat.get(int(params["chat_id"])):
            failure = self.fail_in_chat[int(params["chat_id"])].pop(0)
            return web.json_response({"ok": False, **failure}, status=failure.get("error_code", 400))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None or method in self.missing_methods:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            result = await handler(params)
        except ApiError as error:
            return web.json_response({"ok": False, "error_code": error.code, "description": str(error)},
                                     status=error.code)
        self.answered.append((method, params))
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if key in RAW_FIELDS or not isinstance(value, str):
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                params[key] = value
        return params

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Flex", "username": self.username}

    def _message_json(self, chat_id: int, message: ChatMessage) -> dict[str, Any]:
        sender = self._bot_user() if message.from_bot else {"id": chat_id, "is_bot": False, "first_name": "U"}
        data = {"message_id": message.message_id, "date": int(time.time()), "from": sender,
                "chat": {"id": chat_id, "type": "private"}, "text": message.text or ""}
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    def _find(self, chat_id: int, message_id: int) -> ChatMessage:
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise ApiError("Bad Request: message to edit not found")

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        """Undelivered updates go back to getUpdates, as Telegram keeps them."""
        if self.webhook is not None:
            sender, self.webhook = self.webhook, None
            await sender.close()
            self._updates = sender.pending()
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        """Registering again (another process, a restart) keeps what is queued and what is in flight."""
        webhook = Webhook(str(params["url"]), params.get("secret_token"), params.get("allowed_updates"),
                          int(params.get("max_connections") or 40))
        if self.webhook is not None and self.webhook.webhook == webhook:
            return True
        pending = self.webhook.pending() if self.webhook is not None else self._updates
        if self.webhook is not None:
            await self.webhook.close()
        self.webhook = WebhookSender(webhook, *self.webhook_backoff, self.webhook_timeout,
                                     self._notify_soon)
        self._updates = []
        for update in pending:
            self.webhook.queue(update)
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError("Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                           "to delete the webhook first", 409)
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            timeout = float(params.get("timeout") or 0)
            try:
                await self.wait_until(lambda: bool(self._updates) or self._closing, timeout=timeout)
            except TimeoutError:
                return []
        return self._updates[: int(params.get("limit") or 100)]

    def _post(self, method: str, params: dict[str, Any], text: str | None) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            raise ApiError("Forbidden: bot was blocked by the user", 403)
        message = ChatMessage(next(self._message_ids), True, text, params.get("reply_markup"),
                              params.get("message_thread_id"))
        self.chats.setdefault(chat_id, []).append(message)
        if self.on_reply:
            self.on_reply(chat_id, method)
        return self._message_json(chat_id, message)

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._post("sendMessage", params, checked_text(params["text"]))

    async def _api_copyMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        """Without a caption the copy keeps the original's; an empty one removes it."""
        original = self._find(int(params["from_chat_id"]), int(params["message_id"]))
        caption = checked_caption(params.get("caption"))
        posted = self._post("copyMessage", params, original.text if caption is None else caption)
        return {"message_id": posted["message_id"]}

    async def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._post("sendPhoto", params, checked_caption(params.get("caption")))

    async def _api_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        kind = "supergroup" if chat_id < 0 else "private"
        return {"id": chat_id, "type": kind, "title": "Support", "is_forum": chat_id in self.forums,
                "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types":
                {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}}

    async def _api_createForumTopic(self, params: dict[str, Any]) -> dict[str, Any]:
        if int(params["chat_id"]) not in self.forums:
            raise ApiError("Bad Request: the chat is not a forum")
        if not 1 <= units(params["name"]) <= TOPIC_NAME_LIMIT:
            raise ApiError("Bad Request: TOPIC_NAME_INVALID")
        return {"message_thread_id": next(self._thread_ids), "name": params["name"], "icon_color": 7322096}

    async def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = int(params["user_id"])
        status = "member" if user_id in self.group_members else "left"
        return {"status": status, "user": {"id": user_id, "is_bot": False, "first_name": "M"}}

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = self._find(chat_id, int(params["message_id"]))
        markup = params.get("reply_markup")
        checked_text(params["text"])
        if message.text == params["text"] and message.reply_markup == markup:
            raise ApiError("Bad Request: message is not modified: specified new message content and reply "
                           "markup are exactly the same as a current content and reply markup of the message")
        message.text, message.reply_markup = params["text"], markup
        if self.on_reply:
            self.on_reply(chat_id, "editMessageText")
        return self._message_json(chat_id, message)

    async def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        self._find(int(params["chat_id"]), int(params["message_id"])).deleted = True
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True


def too_many_requests(retry_after: int) -> dict[str, Any]:
    """Telegram's 429 answer, asking to wait `retry_after` seconds."""
    return {"error_code": 429, "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after}}


class ApiError(Exception):
    """An error answer of the Bot API, with Telegram's description and code."""

    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.code = code
