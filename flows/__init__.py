"""The conversation: states, transitions, validation and replies, free of Telegram and of storage."""
