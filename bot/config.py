"""Configuration, read once at the edge from the environment and `.env` into a frozen object."""

import os
import re
from functools import partial
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cryptography.fernet import Fernet

from bot.mail_delivery import RetryPolicy, SmtpSettings
from flows.catalogue import language_for
from flows.reminder_settings import ReminderSettings, is_time_zone
from flows.steps.base import AssistantSettings
from storage.mail_cipher import MailCipher, key_from_file

DAY = 24 * 3600
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as a webhook secret_token
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday is 0, as `datetime.weekday`


def host_and_port(listen: str, name: str = "WEBHOOK_LISTEN") -> tuple[str, int]:
    """`127.0.0.1:8443`, or `[::1]:8443` for IPv6."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{name} must be host:port, e.g. 127.0.0.1:8443, not {listen!r}")
    return host.strip("[]"), int(port)


def weekdays(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri`, `mon-thu,sat` or `sun-thu` (a range may run over the weekend), in any
    case: the days' numbers, Monday 0."""
    days: set[int] = set()
    for part in filter(None, (part.strip() for part in text.lower().split(","))):
        first, dash, last = part.partition("-")
        start = _day(first)
        end = _day(last) if dash else start
        days.update((start + offset) % 7 for offset in range((end - start) % 7 + 1))
    return frozenset(days)


def _day(name: str) -> int:
    day = name.strip()
    if day not in DAY_NAMES:
        raise ValueError(f"REMINDER_BUSINESS_DAYS must be days among {', '.join(DAY_NAMES)} or ranges of them, "
                         f"separated by commas (e.g. mon-fri, or mon-thu,sat), not {day!r}")
    return DAY_NAMES.index(day)


class Settings(BaseSettings):
    """Every key is documented in `.env.example`."""

    # An empty key (as .env.example has them) means "not set": its default, not an empty value.
    model_config = SettingsConfigDict(env_file=".env", frozen=True, extra="ignore", env_ignore_empty=True)

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    telegram_retry_after_limit_seconds: float = 30  # a 429 asking a chat to wait longer fails the request
    bot_username: str = "FlexSetupBot"
    flexbot_data_dir: Path = Path("data")
    flexbot_fsync: bool = True
    flexbot_secret_key: SecretStr | None = None
    mail_from: str = "Sage Flex <no-reply@flex.example>"
    vendor_name: str = AssistantSettings.vendor_name
    download_url_sage50: str = AssistantSettings.software_download_url
    download_url_direct_declaration: str = AssistantSettings.direct_declaration_url
    activation_code_ttl_days: float = 30
    invitation_ttl_days: float = 7
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    console_language: str | None = None
    helpdesk_agent_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    helpdesk_chat_id: int | None = None
    database_url: SecretStr | None = None  # postgresql://user:password@host/db: the PostgreSQL store
    database_pool_size: int = 10
    db_migrate: bool = True  # `flexbot run` migrates the schema at start; DB_MIGRATE=0 only checks it
    support_contact: str = AssistantSettings.support_contact

    @field_validator("helpdesk_agent_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`HELPDESK_AGENT_IDS=111,222` in the environment; a set when built in code."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("flexbot_secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        """A wrong key is said at start-up, not found out mail by mail."""
        if value is not None:
            try:
                Fernet(value.get_secret_value())
            except ValueError:
                raise ValueError("FLEXBOT_SECRET_KEY must be a Fernet key: 32 bytes in urlsafe base64 (44 "
                                 "characters), e.g. from `python -c \"from cryptography.fernet import Fernet; "
                                 "print(Fernet.generate_key().decode())\"`") from None
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _postgresql(cls, value: object) -> object:
        """Empty (as in `.env.example`) is TinyDB; anything else must be a PostgreSQL URL."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text in (None, ""):
            return None
        if not isinstance(text, str) or not text.startswith(("postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must be a postgresql://user:password@host:port/database URL")
        return value

    @model_validator(mode="after")
    def _shared_secret_key(self) -> "Settings":
        """Processes sharing a database must seal and open secret mail with one key: a key file
        generated per data directory would make another process's mail undecryptable."""
        if self.database_url is not None and self.flexbot_secret_key is None:
            raise ValueError("DATABASE_URL needs FLEXBOT_SECRET_KEY: every process sharing the database "
                             "must seal secret mail with the same key")
        return self

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_timeout_seconds: float = 30
    mail_retry_first_seconds: float = 30
    mail_retry_longest_seconds: float = 3600
    mail_failed_after_attempts: int = 5
    mail_poll_seconds: float = 5
    reminder_first_hours: float = 24
    reminder_second_hours: float = 72
    reminder_time_zone: str = "Europe/Paris"
    reminder_opens_hour: int = 9
    reminder_closes_hour: int = 19
    reminder_business_days: Annotated[frozenset[int], NoDecode] = frozenset(range(5))
    reminder_poll_seconds: float = 60
    reminder_invited_hours_before: float = 48

    @field_validator("reminder_time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        """A misspelt zone would only fail when the first reminder is scheduled: say so at start-up."""
        if not is_time_zone(value):
            raise ValueError("REMINDER_TIME_ZONE must be an IANA time zone name, e.g. Europe/Paris")
        return value

    @field_validator("reminder_first_hours", "reminder_poll_seconds", "reminder_invited_hours_before")
    @classmethod
    def _more_than_zero(cls, value: float, info: ValidationInfo) -> float:
        """0 or less: a reminder due as the chat moves, a notice after the link expired, a poll that never waits."""
        if value <= 0:
            raise ValueError(f"{str(info.field_name).upper()} must be more than 0")
        return value

    # Cross-field checks read the fields declared before (`info.data`; absent when refused themselves), so
    # an error shows the one value it is about, not every setting given.

    @field_validator("reminder_second_hours")
    @classmethod
    def _after_the_first(cls, value: float, info: ValidationInfo) -> float:
        """A second reminder not after the first would go with it, or before it."""
        if value <= info.data.get("reminder_first_hours", 0):
            raise ValueError("REMINDER_SECOND_HOURS must be more than REMINDER_FIRST_HOURS (e.g. 72 and 24)")
        return value

    @field_validator("reminder_opens_hour")
    @classmethod
    def _opening_hour(cls, value: int) -> int:
        """An hour the clock never shows would leave no time to remind in."""
        if not 0 <= value <= 23:
            raise ValueError("REMINDER_OPENS_HOUR must be an hour from 0 to 23")
        return value

    @field_validator("reminder_closes_hour")
    @classmethod
    def _closing_hour(cls, value: int, info: ValidationInfo) -> int:
        """Business hours that leave no time to remind in would fail every administrator's event."""
        if not info.data.get("reminder_opens_hour", 0) < value <= 24:
            raise ValueError("REMINDER_CLOSES_HOUR must be an hour up to 24, after REMINDER_OPENS_HOUR (e.g. 9 and 19)")
        return value

    @field_validator("reminder_business_days", mode="before")
    @classmethod
    def _business_days(cls, value: object) -> object:
        """`REMINDER_BUSINESS_DAYS=mon-fri` in the environment (`weekdays`); a set of numbers when built in code."""
        return weekdays(value) if isinstance(value, str) else value

    @field_validator("reminder_business_days")
    @classmethod
    def _some_business_day(cls, value: frozenset[int]) -> frozenset[int]:
        """No day at all (a set built in code may also hold numbers that are no day) would leave no time
        to remind in."""
        if not value or not value <= frozenset(range(7)):
            raise ValueError("REMINDER_BUSINESS_DAYS must name at least one day, e.g. mon-fri")
        return value

    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1:8443"
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = 40
    webhook_stop_seconds: float = 30
    webhook_give_up_after: int = 8

    http_listen: str | None = None
    operator_api_token: SecretStr | None = None
    ready_bot_api_seconds: float = 60
    ready_mail_age_seconds: float = 3600

    @field_validator("http_listen")
    @classmethod
    def _http_listen(cls, value: str | None) -> str | None:
        """Empty: no HTTP server in long polling (webhook mode serves everything on WEBHOOK_LISTEN)."""
        if not value:
            return None
        host_and_port(value, "HTTP_LISTEN")
        return value

    @field_validator("operator_api_token")
    @classmethod
    def _api_token(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty token is no token: the API stays off rather than open to an empty bearer."""
        return value if value is not None and value.get_secret_value().strip() else None

    @property
    def http_address(self) -> tuple[str, int] | None:
        """Where the one HTTP server listens: the webhook's address in webhook mode, else HTTP_LISTEN."""
        if self.webhook_url:
            return self.webhook_address
        return host_and_port(self.http_listen, "HTTP_LISTEN") if self.http_listen else None

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram refuses any other secret at setWebhook: say so at start-up."""
        if value is not None and not SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_max_connections")
    @classmethod
    def _max_connections(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError("WEBHOOK_MAX_CONNECTIONS must be between 1 and 100 (Telegram's range)")
        return value

    @field_validator("webhook_give_up_after")
    @classmethod
    def _give_up_after(cls, value: int) -> int:
        if value < 1:
            raise ValueError("WEBHOOK_GIVE_UP_AFTER must be at least 1")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        """An empty WEBHOOK_URL means long polling; a set one must be a URL with a host."""
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("WEBHOOK_URL must be a full URL, e.g. https://bot.example.com/telegram")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host_and_port(value)
        return value

    @property
    def webhook_path(self) -> str:
        """The path Telegram posts to, as the reverse proxy passes it on."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def webhook_address(self) -> tuple[str, int]:
        return host_and_port(self.webhook_listen)

    @property
    def database_dir(self) -> Path:
        return self.flexbot_data_dir / "db"

    @property
    def inbox_dir(self) -> Path:
        return self.flexbot_data_dir / "inbox"

    @property
    def outbox_dir(self) -> Path:
        return self.flexbot_data_dir / "outbox"

    @property
    def secret_key_file(self) -> Path:
        return self.flexbot_data_dir / "secret.key"

    def terminal_language(self) -> str:
        """The terminal chat's language: CONSOLE_LANGUAGE, else the terminal's locale (English for en_*)."""
        configured = self.console_language or next(
            (os.environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if os.environ.get(name)), None)
        return language_for(configured)

    def mail_cipher(self) -> MailCipher:
        """Seals secret mail at rest: FLEXBOT_SECRET_KEY, or a key generated once into the data dir."""
        configured = self.flexbot_secret_key
        if configured is not None:
            return MailCipher(lambda: configured.get_secret_value().encode())
        return MailCipher(partial(key_from_file, self.secret_key_file))

    def smtp(self) -> SmtpSettings | None:
        """None when SMTP_HOST is not set: mail then stays in the maildir outbox."""
        if not self.smtp_host:
            return None
        password = self.smtp_password.get_secret_value() if self.smtp_password else None
        return SmtpSettings(self.smtp_host, self.smtp_port, self.smtp_user, password, self.smtp_starttls,
                            self.smtp_tls, self.smtp_timeout_seconds)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.mail_retry_first_seconds, self.mail_retry_longest_seconds)

    def assistant_settings(self, bot_username: str | None = None) -> AssistantSettings:
        return AssistantSettings(
            bot_username=bot_username or self.bot_username,
            software_download_url=self.download_url_sage50,
            direct_declaration_url=self.download_url_direct_declaration,
            activation_code_ttl=self.activation_code_ttl_days * DAY,
            invitation_ttl=self.invitation_ttl_days * DAY,
            vendor_name=self.vendor_name,
            agent_ids=self.helpdesk_agent_ids,
            helpdesk_chat_id=self.helpdesk_chat_id,
            support_contact=self.support_contact,
            reminders=ReminderSettings(self.reminder_first_hours, self.reminder_second_hours, self.reminder_time_zone,
                                       self.reminder_opens_hour, self.reminder_closes_hour,
                                       self.reminder_business_days, self.reminder_invited_hours_before),
        )
