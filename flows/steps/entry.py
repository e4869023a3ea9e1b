"""Step 0: reaching the subscription, by the Commencer link or by proving the purchase e-mail."""

from transitions import EventData

from flows import codes, limits, validation
from flows.records import Code, CodeKind
from flows.steps.base import TurnBase

LOCK_AFTER_FAILURES = 3
CHAT_CODE_INTERVAL = 60.0


class EntrySteps(TurnBase):
    def keep_subscription_number(self, event: EventData) -> None:
        self.answers["claimed_number"] = validation.subscription_number(event.kwargs["answer"])

    def is_not_locked_out(self, event: EventData | None = None) -> bool:
        wait = self.conversation.locked_until - self.now
        if wait > 0:
            self.problem = self.catalogue.plural("error.locked_out", max(1, round(wait / 60)))
            return False
        return True

    def purchase_email_is_well_formed(self, event: EventData) -> bool:
        """An address that cannot be one is said so; past that, every answer is the same."""
        try:
            self.value = validation.email_address(event.kwargs["answer"])
        except validation.InvalidAnswer as error:
            self.problem = error.explained(self.catalogue)
            return False
        return True

    def answer_claim(self, event: EventData) -> None:
        """Match or not, mail limit or not, the chat is told the same thing (a code was sent if the
        details match): nothing about a subscription is revealed to someone who cannot read its mail."""
        claimed = self.toolkit.store.load_subscription(self.answers.pop("claimed_number", ""))
        if claimed is not None and claimed.email.lower() == self.value.lower():
            self.subscription = claimed
            self.send_chat_code()
        else:
            self.audit("entry_claim_unmatched")

    def count_failure(self) -> None:
        """Slow down guessing: from the third failure on, wait 1, 2, 4… minutes."""
        self.conversation.failures += 1
        excess = self.conversation.failures - LOCK_AFTER_FAILURES
        if excess >= 0:
            self.conversation.locked_until = self.now + 60 * 2 ** min(excess, 10)
        self.audit("entry_refused", failures=self.conversation.failures)

    def send_chat_code(self) -> None:
        """One live code per chat, and at most one e-mail a minute, so the mailbox cannot be flooded;
        when none may leave, a code sent before still works, and nothing different is said."""
        account = self.account()
        recently = self.now - self.answers.get("chat_code_sent_at", 0) < CHAT_CODE_INTERVAL
        if recently or limits.mail_wait(self.toolkit.store, self.now, account.email, self.conversation.chat_id) > 0:
            self.audit("chat_code_held_back")
        else:
            self.retire_chat_code()
            code = self.new_code(CodeKind.ACTIVATION, self.toolkit.settings.chat_code_ttl,
                                 value=self.toolkit.short_code(), chat_id=self.conversation.chat_id)
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
        self.value = self.accepted_code(event.kwargs["answer"], refusal="error.code_invalid",
                                        malformed="error.typed_code_format")
        return self.value is not None

    def accepted_code(self, text: str, *, refusal: str, malformed: str = "error.code_format") -> Code | None:
        """The usable code `text` spells; a well-formed miss counts towards the lock-out, a malformed
        input (not a code at all) only gets its format explained."""
        if not self.is_not_locked_out():
            return None
        spellings = codes.spellings(text)
        if not spellings:
            self.refuse(malformed)
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
