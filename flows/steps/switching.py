"""A link for another account opened in a chat already bound to one: said, and asked, never done silently.

A Commencer link of another subscription, or an invitation opened in the administrator's chat (or in
another user's), would move the chat to that account; the person chooses to switch or to stay.
"""

from transitions import EventData

from flows.records import Code, CodeKind
from flows.steps.members import MemberSteps


class SwitchSteps(MemberSteps):
    def is_bound(self) -> bool:
        return self.subscription is not None

    def ask_to_switch(self, code: Code) -> None:
        """Keep the link until the person decides; Retour, like Rester, goes back where they were."""
        account = self.toolkit.store.load_subscription(code.subscription_number)
        user = account.user(code.user_id or "") if account and code.kind == CodeKind.INVITATION.value else None
        self.answers["switch"] = {"code": code.value, "number": code.subscription_number,
                                  "name": f"{user.first_name} {user.last_name}" if user else ""}
        self.conversation.history.append(self.state)
        self.machine.set_state("confirming_switch", model=self)

    def switch_chat(self, event: EventData) -> None:
        """The link is checked again: it may have expired or been revoked meanwhile."""
        pending = self.answers.pop("switch", {})
        code = self.toolkit.store.load_code(pending.get("code", ""))
        if code is not None and code.kind == CodeKind.INVITATION.value:
            if self.invitation_is_usable(code):
                self.join(code)
                self.machine.set_state(self.member_resume_point(), model=self)
                return
        elif code is not None and self.usable_code(code.value) is not None:
            self.redeem(code)
            self.machine.set_state(self.resume_point(), model=self)
            return
        else:
            self.refuse("error.link_invalid")
        self.stay_in_chat(event)

    def stay_in_chat(self, event: EventData) -> None:
        self.answers.pop("switch", None)
        history = self.conversation.history
        self.machine.set_state(history.pop() if history else self.state, model=self)
