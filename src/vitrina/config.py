"""Settings: every knob of Vitrina, read once from ``VITRINA_*`` environment variables."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)


class Settings(BaseSettings):
    """Configuration by environment, with defaults that work on a laptop."""

    model_config = SettingsConfigDict(env_prefix="VITRINA_", extra="ignore")

    database_url: str = "sqlite:///./vitrina.db"
    redis_url: str | None = None
    redis_prefix: str = "vitrina:"
    secret_key: str | None = Field(default=None, repr=False)
    data_dir: Path = Path("./.vitrina")
    media_dir: Path | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_json: bool = True

    token_ttl_seconds: int = 3600
    max_body_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    rate_limits_enabled: bool = True
    public_verify_rate_per_minute: int = 60
    idempotency_ttl_seconds: int = 24 * 3600
    idempotency_lock_seconds: int = 60
    # Seconds a verified API key stays cached per worker process. 0 (the default) keeps revocation immediate on
    # every worker; a few seconds saves a database round trip per request, and a revocation then reaches the
    # other workers within that time.
    auth_cache_seconds: float = 0.0

    webhook_allow_hosts: str = ""
    webhook_allow_http: bool = False
    webhook_retry_schedule: str = ",".join(str(s) for s in DEFAULT_RETRY_SCHEDULE)
    webhook_timeout_seconds: float = 10.0

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_redis_is_none(cls, value: object) -> object:
        return value or None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def media_path(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def retry_schedule(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.webhook_retry_schedule.split(",") if part.strip())

    @property
    def allow_hosts(self) -> tuple[str, ...]:
        return tuple(h.strip() for h in self.webhook_allow_hosts.split(",") if h.strip())

    @cached_property
    def signing_secret(self) -> str:
        """The server secret: from the environment, else generated once into the data directory.

        Generating it (rather than shipping a default) means two installs never share a key, and
        keeping it in the data directory means tokens survive a restart.
        """
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value


def get_settings() -> Settings:
    return Settings()
