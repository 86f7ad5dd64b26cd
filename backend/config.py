"""Service settings: one object, read from the environment with the prefix ``RAPPORT_``."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
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
    #: The clinic's IANA time zone (e.g. "Europe/Berlin"): "today" on a session's date is
    #: the clinic's today, not the server's.
    clinic_time_zone: str = "UTC"
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1)

    db_pool_size: int = Field(default=10, ge=1)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=5000)

    https: bool = False
    #: The clinic's own safety notice and its Spanish version (None: the US lines, translated).
    emergency_notice: str | None = Field(default=None, min_length=1)
    emergency_notice_es: str | None = Field(default=None, min_length=1)
    #: Who reads a client's answers, as the clinic words it (None: therapist and supervisor).
    who_reads_answers: str | None = Field(default=None, min_length=1)
    who_reads_answers_es: str | None = Field(default=None, min_length=1)

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

    #: Erase discharged clients this many years after discharge (``rapport retention``);
    #: unset keeps every record until an administrator erases it.
    retention_years: int | None = Field(default=None, ge=1, le=100)

    #: "json": one JSON object a log line, with the request id (backend/log_format.py).
    log_format: Literal["text", "json"] = "text"

    #: This process takes part in running the scheduled jobs (each runs on one instance).
    run_scheduled_jobs: bool = True
    #: How often every client's flags are recomputed (missing-rating flags need it daily).
    rescore_every_minutes: float = Field(default=1440, gt=0)
    #: While ratings keep arriving, scoring passes start at most this often (the first
    #: rating after a quiet spell is scored at once): a pass costs about as much for one
    #: client as for fifty, and each one holds Python's interpreter lock for its length,
    #: which the phones' submissions wait on (backend/flags/rescore_queue.py).
    scoring_interval_seconds: float = Field(default=2.0, ge=0, le=60)
    #: How often a process looks for a due job, and how long a claim on one lasts unrenewed
    #: (the time another instance waits before taking over from one that died).
    jobs_check_seconds: float = Field(default=30, gt=0)
    jobs_lease_seconds: float = Field(default=120, ge=1)

    #: Where people open the dashboard; the link in a notification points here.
    dashboard_url: str = "http://127.0.0.1:8501"
    #: Empty: notifications wait in the outbox, unsent, until a server is configured.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    #: "starttls" upgrades a plain connection (port 587); "tls" is TLS from the start (465).
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_sender: str = ""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    #: How often the sender looks for mail to send and digests that are due.
    notify_interval_seconds: float = Field(default=10.0, gt=0)
    #: The first retry after a failed delivery; each further one waits twice as long.
    notify_retry_seconds: float = Field(default=30.0, gt=0)
    notify_retry_max_seconds: float = Field(default=3600.0, gt=0)
    #: A claimed message not confirmed sent by then (its sender died) is sent again.
    notify_lease_seconds: float = Field(default=300.0, gt=0)
    #: Digests go out from this hour (UTC): daily ones every day, weekly ones on Mondays.
    digest_hour_utc: int = Field(default=7, ge=0, le=23)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> str:
        return sqlite_file(self.database_url)

    def clinic_text(self, name: str, language: str) -> str | None:
        """A text the clinic set (``emergency_notice``, ``who_reads_answers``) for a page.

        The one set for the page's language, else the clinic's main one, else any it set:
        once a clinic words a text itself, no language falls back to the built-in default.
        """
        chosen = {
            lang: getattr(self, f"{name}_{lang}" if lang != "en" else name, None)
            for lang in ("en", "es")
        }
        chosen = {lang: text for lang, text in chosen.items() if text}
        if not chosen:
            return None
        return chosen.get(language) or chosen.get("en") or next(iter(chosen.values()))

    @property
    def sends_mail(self) -> bool:
        return bool(self.smtp_host)

    @property
    def docs_enabled(self) -> bool:
        return self.mode != "production"

    @field_validator("clinic_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"RAPPORT_CLINIC_TIME_ZONE must be an IANA time zone such as Europe/Berlin, "
                f"not {value!r}."
            ) from None
        return value

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

    @model_validator(mode="after")
    def _refuse_mail_without_a_sender(self) -> Settings:
        if self.smtp_host and "@" not in self.smtp_sender:
            raise ValueError(
                "RAPPORT_SMTP_SENDER must be the address notifications come from "
                "(e.g. rapport@clinic.example) when RAPPORT_SMTP_HOST is set"
            )
        if bool(self.smtp_user) != bool(self.smtp_password.get_secret_value()):
            raise ValueError(
                "RAPPORT_SMTP_USER and RAPPORT_SMTP_PASSWORD are set together or not at all"
            )
        if not self.dashboard_url.startswith(("http://", "https://")):
            raise ValueError(
                "RAPPORT_DASHBOARD_URL must be the dashboard's http(s) address, "
                "e.g. https://rapport.clinic.example"
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


#: The settings as a route's dependency, so a test can override them per app.
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _explained(invalid: ValidationError) -> str:
    """One line per problem, named by the environment variable to change."""
    lines = []
    for problem in invalid.errors():
        message = problem["msg"].removeprefix("Value error, ")
        fields = ".".join(str(part) for part in problem["loc"])
        lines.append(f"RAPPORT_{fields.upper()}: {message}" if fields else message)
    return "\n".join(lines)
