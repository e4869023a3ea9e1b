"""Steps 3 and 4: connected services, then the download and the account's summary."""

from transitions import EventData

from flows.steps.base import TurnBase
from flows.summary import summary


class ServiceSteps(TurnBase):
    def service_can_toggle(self, event: EventData) -> bool:
        if event.kwargs.get("arg") not in self.account().services:
            return self.refuse("error.service_unavailable")
        return True

    def toggle_service(self, event: EventData) -> None:
        account = self.account()
        key = event.kwargs["arg"]
        account.services[key] = not account.services[key]
        self.touch_account("service_toggled", service=key, active=account.services[key])

    def note_deferred_services(self, event: EventData) -> None:
        later = [key for key, active in self.account().services.items() if not active]
        if later:
            names = ", ".join(self.catalogue.text(f"service.{key}") for key in later)
            self.say("services.deferred", services=names)

    def complete_setup(self, event: EventData) -> None:
        """Entering step 4 ends the setup; from then on the administrator has a menu."""
        account = self.account()
        if account.setup_completed_at is None:
            account.setup_completed_at = self.now
            self.touch_account("setup_completed")
        self.conversation.setup_done = True

    def note_summary(self, event: EventData) -> None:
        self.notes.append(summary(self.account(), self.catalogue, self.local_zone()))
