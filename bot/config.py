"""Configuration, read once at the edge from the environment and `.env` into a frozen object."""

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.steps.base import AssistantSettings

DAY = 24 * 3600


class Settings(BaseSettings):
    """Every key is documented in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", frozen=True, extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    bot_username: str = "FlexSetupBot"
    flexbot_data_dir: Path = Path("data")
    flexbot_fsync: bool = True
    mail_from: str = "Sage Flex <no-reply@flex.example>"
    download_url_sage50: str = AssistantSettings.software_download_url
    download_url_direct_declaration: str = AssistantSettings.direct_declaration_url
    activation_code_ttl_days: float = 30
    invitation_ttl_days: float = 7
    log_level: str = "INFO"

    @property
    def database_dir(self) -> Path:
        return self.flexbot_data_dir / "db"

    @property
    def inbox_dir(self) -> Path:
        return self.flexbot_data_dir / "inbox"

    @property
    def outbox_dir(self) -> Path:
        return self.flexbot_data_dir / "outbox"

    def assistant_settings(self, bot_username: str | None = None) -> AssistantSettings:
        return AssistantSettings(
            bot_username=bot_username or self.bot_username,
            software_download_url=self.download_url_sage50,
            direct_declaration_url=self.download_url_direct_declaration,
            activation_code_ttl=self.activation_code_ttl_days * DAY,
            invitation_ttl=self.invitation_ttl_days * DAY,
        )
