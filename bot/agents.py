"""Who may act as a help-desk agent: the configured user IDs, and members of the support group."""

import time

from telegram import Bot, ChatMember
from telegram.error import TelegramError

MEMBERSHIP_TTL = 300.0
MEMBER_STATUSES = {ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER}


class AgentDirectory:
    """Answers "is this person an agent?"; group membership is asked of Telegram and kept 5 minutes."""

    def __init__(self, agent_ids: frozenset[int], group_id: int | None) -> None:
        self.agent_ids = agent_ids
        self.group_id = group_id
        self._members: dict[int, tuple[bool, float]] = {}

    async def is_agent(self, bot: Bot, user_id: int | None) -> bool:
        if user_id is None:
            return False
        if user_id in self.agent_ids:
            return True
        if self.group_id is None:
            return False
        known = self._members.get(user_id)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        try:
            member = await bot.get_chat_member(self.group_id, user_id)
            is_member = member.status in MEMBER_STATUSES
        except TelegramError:
            is_member = False
        self._members[user_id] = (is_member, time.monotonic() + MEMBERSHIP_TTL)
        return is_member
