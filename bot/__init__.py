"""Transports (Telegram, terminal), configuration and the `flexbot` command."""
