"""Service settings: one object, read from the environment with the prefix ``RAPPORT_``."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Shipped so that ``make run`` works out of the box; refused outside dev/demo mode.
DEMO_SECRET_KEY = "rapport-demo-secret-do-not-use-in-production"
#: The dashboard's key in dev/demo mode (see ``dashboard_key``); refused in production.
DEMO_DASHBOARD_KEY = "rapport-demo-dashboard-key-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAPPORT_", extra="ignore")

    mode: Literal["production", "demo", "dev"] = "production"
    database_url: str = "sqlite:///var/rapport.db"
    secret_key: str = ""
    public_base_url: str = "http://127.0.0.1:8000"

    link_ttl_days: int = Field(default=7, ge=1, le=60)
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1)

    db_pool_size: int = Field(default=10, ge=1)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=5000)

    https: bool = False
    emergency_notice: str = (
        "These answers are not monitored in real time. In an emergency call 911, "
        "or call or text 988 (Suicide & Crisis Lifeline, US)."
    )
    emergency_notice_es: str = (
        "Nadie revisa estas respuestas en tiempo real. En una emergencia llama al 911, "
        "o llama o envía un mensaje de texto al 988 (Línea de Prevención del Suicidio "
        "y Crisis, EE. UU.; opción en español)."
    )

    #: Requests per minute and client IP on /r/ and /api/public/ (per process; see public_edge).
    public_rate_limit_per_minute: int = Field(default=60, ge=1)
    #: The proxies whose X-Forwarded-For is believed: comma-separated addresses or networks
    #: ("" trusts none). uvicorn must be started with the same list as --forwarded-allow-ips.
    trust_forwarded_for: str = ""
    #: Shared with the dashboard, which signs the browser's address with it on sign-in.
    dashboard_key: str = ""

    @property
    def trusted_proxies(self) -> list[str]:
        return [part.strip() for part in self.trust_forwarded_for.split(",") if part.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> str:
        return sqlite_file(self.database_url)

    def emergency_notice_in(self, language: str) -> str:
        """The safety notice for a client page; English unless a translation is configured."""
        return self.emergency_notice_es if language == "es" else self.emergency_notice

    @property
    def docs_enabled(self) -> bool:
        return self.mode != "production"

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.mode == "production" and (
            len(self.secret_key) < 32 or self.secret_key == DEMO_SECRET_KEY
        ):
            raise ValueError(
                "RAPPORT_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (generate one with: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'), or set RAPPORT_MODE=demo for a trial."
            )
        if not self.secret_key:
            self.secret_key = DEMO_SECRET_KEY
        return self

    @model_validator(mode="after")
    def _proxies_are_addresses(self) -> Settings:
        if self.trust_forwarded_for.strip().lower() in ("false", "no", "0", "none"):
            self.trust_forwarded_for = ""
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an address or network; name the proxies whose "
                    "X-Forwarded-For to believe, e.g. 127.0.0.1 or 10.0.0.0/24 "
                    "(comma-separated; empty trusts none)"
                ) from None
        return self

    @model_validator(mode="after")
    def _dashboard_key_is_secret(self) -> Settings:
        weak = len(self.dashboard_key) < 32 or self.dashboard_key == DEMO_DASHBOARD_KEY
        if self.mode == "production" and self.dashboard_key and weak:
            raise ValueError(
                "RAPPORT_DASHBOARD_KEY must be a random value of at least 32 characters "
                "in production, the same for the API and the dashboard"
            )
        if not self.dashboard_key and self.mode != "production":
            self.dashboard_key = DEMO_DASHBOARD_KEY
        return self

    @model_validator(mode="after")
    def _refuse_in_memory_sqlite(self) -> Settings:
        if self.is_sqlite and (
            self.sqlite_path in ("", ":memory:") or "mode=memory" in self.database_url
        ):
            raise ValueError(
                "RAPPORT_DATABASE_URL names an in-memory SQLite database, which would lose "
                "every rating when the service stops; give a file, e.g. sqlite:///var/rapport.db"
            )
        return self


def sqlite_file(database_url: str) -> str:
    """The file a SQLite URL names, relative to the working directory ("" for none)."""
    return database_url.split("///", 1)[1].split("?", 1)[0] if "///" in database_url else ""


class ConfigurationError(Exception):
    """The environment does not describe a service that can run; the message says why."""


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as invalid:
        raise ConfigurationError(_explained(invalid)) from None


def _explained(invalid: ValidationError) -> str:
    """One line per problem, named by the environment variable to change."""
    lines = []
    for problem in invalid.errors():
        message = problem["msg"].removeprefix("Value error, ")
        fields = ".".join(str(part) for part in problem["loc"])
        lines.append(f"RAPPORT_{fields.upper()}: {message}" if fields else message)
    return "\n".join(lines)
