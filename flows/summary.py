"""The account at a glance: what was done, which services run, who the users are."""

from datetime import tzinfo

from flows.catalogue import Catalogue
from flows.offer import OFFER_NAME
from flows.records import Subscription, UserAccount, UserStatus


def product_name(account: Subscription, catalogue: Catalogue) -> str:
    """The software the subscription is for: what its people install and sign in to."""
    return catalogue.text(f"product.{account.product.value}")


def subscription_line(account: Subscription, catalogue: Catalogue) -> str:
    return catalogue.text("summary.subscription", number=account.number, offer=OFFER_NAME,
                          product=product_name(account, catalogue),
                          users=catalogue.plural("count.users", account.seats))


def user_line(user: UserAccount, catalogue: Catalogue, zone: tzinfo) -> str:
    """One user and their status; an invited user reminded of their link says on which day (in `zone`,
    the subscription's)."""
    role = catalogue.text("summary.admin_role") if user.is_admin else ""
    if user.status is UserStatus.INVITED and user.reminded_at is not None:
        status = catalogue.text("status.invited_reminded", date=catalogue.date(user.reminded_at, zone))
    else:
        status = catalogue.text(f"status.{user.status.value}")
    return catalogue.text("summary.user", first_name=user.first_name, last_name=user.last_name,
                          email=user.email, status=status, role=role)


def active_services(account: Subscription, catalogue: Catalogue) -> str:
    active = [catalogue.text(f"service.{key}") for key, on in account.services.items() if on]
    return ", ".join(active) if active else catalogue.text("summary.no_service")


def summary(account: Subscription, catalogue: Catalogue, zone: tzinfo) -> str:
    lines = [subscription_line(account, catalogue)]
    if account.admin:
        lines.append(catalogue.text("summary.admin", first_name=account.admin.first_name,
                                    last_name=account.admin.last_name, email=account.admin.email))
    invited = sum(1 for user in account.users if not user.is_admin and user.status is not UserStatus.PENDING)
    lines.append(catalogue.text("summary.actions", admin="✅" if account.admin else "⬜",
                                invitations=catalogue.plural("count.invitations_sent", invited)))
    lines.append(catalogue.text("summary.services", services=active_services(account, catalogue)))
    lines.append(catalogue.text("summary.users", taken=catalogue.number(account.seats_taken),
                                seats=catalogue.number(account.seats)))
    lines.extend(user_line(user, catalogue, zone) for user in account.users)
    return "\n".join(lines)
