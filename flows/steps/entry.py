"""Step 0: reaching the subscription, by the Commencer link or by proving the purchase e-mail."""

import secrets

from transitions import EventData

from flows import validation
from flows.records import Code, CodeKind
from flows.steps.base import TurnBase

LOCK_AFTER_FAILURES = 3
TYPED_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: it is read off an e-mail
TYPED_CODE_LENGTH = 8
CHAT_CODE_INTERVAL = 60.0


def typed_code() -> str:
    """A short code to copy from an e-mail into the chat."""
    return "".join(secrets.choice(TYPED_CODE_ALPHABET) for _ in range(TYPED_CODE_LENGTH))


class EntrySteps(TurnBase):
    def keep_subscription_number(self, event: EventData) -> None:
        self.answers["claimed_number"] = validation.subscription_number(event.kwargs["answer"])

    def is_not_locked_out(self, event: EventData | None = None) -> bool:
        wait = self.conversation.locked_until - self.now
        if wait > 0:
            self.problem = self.catalogue.plural("error.locked_out", max(1, round(wait / 60)))
            return False
        return True

    def proves_purchase(self, event: EventData) -> bool:
        """Both the number and the purchase address must match; the refusal never says which."""
        claimed = self.toolkit.store.load_subscription(self.answers.get("claimed_number", ""))
        typed = event.kwargs["answer"].strip().lower()
        if claimed is None or claimed.email.lower() != typed:
            return self.refuse("error.identity_mismatch")
        self.subscription = claimed
        return True

    def refuse_identity(self, event: EventData) -> None:
        if self.conversation.locked_until <= self.now:
            self.count_failure()
        self.answers.pop("claimed_number", None)

    def count_failure(self) -> None:
        """Slow down guessing: from the third failure on, wait 1, 2, 4… minutes."""
        self.conversation.failures += 1
        excess = self.conversation.failures - LOCK_AFTER_FAILURES
        if excess >= 0:
            self.conversation.locked_until = self.now + 60 * 2 ** min(excess, 10)
        self.audit("entry_refused", failures=self.conversation.failures)

    def send_chat_code(self, event: EventData) -> None:
        """One live code per chat, and at most one e-mail a minute, so the mailbox cannot be flooded."""
        account = self.account()
        if self.now - self.answers.get("chat_code_sent_at", 0) < CHAT_CODE_INTERVAL:
            self.say("entry.code_recently_sent")
        elif self.may_mail(account.email):  # if not, the problem says when; a code sent before still works
            self.retire_chat_code()
            code = self.new_code(CodeKind.ACTIVATION, self.toolkit.settings.chat_code_ttl,
                                 value=typed_code(), chat_id=self.conversation.chat_id)
            self.send_mail(account.email, "mail.chat_code", self.toolkit.settings.deep_link(code.value),
                           code=code.value, number=account.number,
                           validity=self.catalogue.duration(self.toolkit.settings.chat_code_ttl))
            self.answers.update(chat_code=code.value, chat_code_sent_at=self.now)
            self.audit("chat_code_sent")
        self.subscription = None  # proven, not yet opened: that takes the code

    def retire_chat_code(self) -> None:
        """A new code makes the previous one of this chat stop working."""
        previous = self.toolkit.store.load_code(self.answers.pop("chat_code", ""))
        if previous is not None and previous.used_at is None:
            previous.expires_at = min(previous.expires_at, self.now)
            self.toolkit.store.save_code(previous)

    def code_opens_subscription(self, event: EventData) -> bool:
        typed = event.kwargs["answer"].strip()
        self.value = self.accepted_code(typed, typed.upper(), refusal="error.code_invalid")
        return self.value is not None

    def accepted_code(self, *spellings: str, refusal: str) -> Code | None:
        """The first spelling that is a usable code; a miss counts towards the lock-out."""
        if not self.is_not_locked_out():
            return None
        code = next(filter(None, map(self.usable_code, spellings)), None)
        if code is None:
            self.count_failure()
            self.refuse(refusal)
        return code

    def bind_subscription(self, event: EventData) -> None:
        self.redeem(self.value)
        self.machine.set_state(self.resume_point(), model=self)

    def usable_code(self, value: str) -> Code | None:
        """An activation code this chat may still use, or None whatever the reason."""
        code = self.toolkit.store.load_code(value) if validation.looks_like_code(value) else None
        if code is None or code.kind != CodeKind.ACTIVATION.value or code.expires_at <= self.now:
            return None
        if code.chat_id is not None and code.chat_id != self.conversation.chat_id:
            return None
        if code.used_at is not None and code.used_by_chat != self.conversation.chat_id:
            return None
        return code

    def redeem(self, code: Code) -> None:
        """Bind this chat to the code's subscription, afresh (no answers, no way back), and use the code up."""
        if code.used_at is None:
            code.used_at, code.used_by_chat = self.now, self.conversation.chat_id
            self.toolkit.store.save_code(code)
        self.subscription = self.toolkit.store.load_subscription(code.subscription_number)
        self.conversation.subscription_number = code.subscription_number
        self.conversation.user_id = None
        self.conversation.answers, self.conversation.history = {}, []
        self.conversation.failures, self.conversation.locked_until = 0, 0.0
        self.audit("chat_bound")

    def resume_point(self) -> str:
        """Where a chat that just opened the account starts: where the account itself stands."""
        account = self.account()
        if account.admin is None:
            return "welcoming"
        self.answers["admin"] = account.admin.to_dict()
        if account.setup_completed_at is not None:
            self.conversation.setup_done = True
            return "in_menu"
        return "managing_users" if account.seats > 1 else "choosing_services"
