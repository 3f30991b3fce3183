# SPDX-License-Identifier: AGPL-3.0-or-later
"""One settings object, built once at start-up and passed down.

Every field reads from a `CRENEAU_<NAME>` environment variable or `.env`; every field has a default and a
description (a test keeps `docs/settings.md` in sync with this table). Nothing here opens a client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRENEAU_", env_file=".env", extra="ignore")

    # --- identity and politeness -------------------------------------------------------------
    operator_contact: str = Field(
        "admin@localhost",
        description="E-mail or URL of whoever runs this instance; sent in the User-Agent so sites can reach us.",
    )
    user_agent: str = Field(
        "creneau/{version} (+https://github.com/creneau/creneau; notification only; contact: {contact})",
        description="User-Agent template; {version} and {contact} are filled in. It always names creneau.",
    )
    http_timeout_s: float = Field(20.0, description="Total time allowed for one HTTP request, in seconds.")
    http_max_page_bytes: int = Field(
        5_000_000, description="Pages longer than this are cut and reported as an unknown layout, never parsed."
    )

    legacy_max_weeks: int = Field(
        6, ge=1, le=26, description="Legacy booking module: how many weeks of each guichet's calendar one check reads."
    )
    legacy_request_gap_s: float = Field(
        1.5,
        ge=0,
        description=(
            "Legacy booking module: pause after each answer before the next request to the same host, redirects "
            "and other checks included (its sites answer 502 above ~1 request/s over 10 s). With N monitor "
            "processes each waits N times this."
        ),
    )

    # --- routing to the simulator --------------------------------------------------------------
    route_overrides: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'JSON map from official host (or "*" for every host) to a base URL, e.g. '
            '{"*": "http://127.0.0.1:8950"}: requests keep their official URL and Host header but are sent '
            "there. Used by the demo, the tests and the benchmarks to talk to the simulator."
        ),
    )

    # --- storage --------------------------------------------------------------------------------
    data_dir: Path = Field(Path("./var"), description="Folder for the SQLite database, captures and desk files.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty means SQLite in data_dir (postgresql+psycopg://… for the distributed mode).",
    )

    # --- web app ----------------------------------------------------------------------------------
    web_host: str = Field("127.0.0.1", description="Address the web app listens on.")
    web_port: int = Field(8000, ge=0, le=65535, description="Port the web app listens on.")
    web_base_url: str = Field(
        "",
        description="Public URL of the web app, used in sign-in e-mails (empty: http://WEB_HOST:WEB_PORT).",
    )
    web_secret: SecretStr = Field(
        SecretStr(""),
        description=(
            "Key that signs CSRF tokens; empty means one is generated once and kept in DATA_DIR/web_secret "
            "(set it explicitly when several web processes run)."
        ),
    )
    web_admin_emails: list[str] = Field(
        default_factory=list, description="JSON list of e-mail addresses that get the operator role when they sign in."
    )
    web_session_days: float = Field(30.0, gt=0, description="How long a web session lasts without being used.")
    web_login_token_minutes: float = Field(
        15.0, gt=0, le=60, description="How long a sign-in link stays valid (it works once)."
    )
    web_login_per_email_hour: int = Field(
        5, ge=1, description="How many sign-in links one e-mail address may ask for per hour."
    )
    web_login_per_ip_hour: int = Field(
        20, ge=1, description="How many sign-in links one IP address may ask for per hour."
    )
    web_board_refresh_s: float = Field(
        3.0, gt=0, description="How often the status board re-reads the store while someone is looking at it."
    )
    web_stale_after_min: float = Field(
        60.0, gt=0, description="A watched target not checked for this many minutes shows as stale on the board."
    )
    metrics_token: SecretStr = Field(
        SecretStr(""),
        description=(
            "Bearer token Prometheus must send to read /metrics; empty means /metrics answers only to "
            "clients on this machine (127.0.0.1, ::1)."
        ),
    )
    metrics_host: str = Field("127.0.0.1", description="Address `creneau serve` serves /metrics on (metrics_port).")
    metrics_port: int = Field(
        0, ge=0, le=65535, description="Port `creneau serve` serves /metrics on; 0 means it serves none."
    )

    # --- notifications ----------------------------------------------------------------------------
    smtp_host: str = Field("localhost", description="SMTP relay that sends alert e-mails.")
    smtp_port: int = Field(25, ge=1, le=65535, description="Port of the SMTP relay.")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none", description="SMTP transport security: none, starttls (usually port 587) or tls (usually 465)."
    )
    smtp_username: str = Field("", description="SMTP login; empty means no authentication.")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password (never logged).")
    smtp_from: str = Field(
        "creneau <alerts@localhost>", description="From header of alert e-mails; its domain also ends Message-IDs."
    )
    smtp_local_hostname: str = Field("localhost", description="Name this host gives in the SMTP EHLO greeting.")
    smtp_pool_size: int = Field(
        16, ge=1, le=64, description="How many SMTP connections are kept open for sending (one per e-mail worker)."
    )
    smtp_timeout_s: float = Field(20.0, gt=0, description="Timeout of one SMTP command, in seconds.")
    email_unsubscribe_url: str = Field(
        "http://127.0.0.1:8000/unsubscribe/{channel_id}/{token}",
        description=(
            "One-click unsubscribe URL put in alert e-mails (RFC 8058 List-Unsubscribe); {channel_id} and the "
            "signed {token} are filled in. The web app answers POST on it."
        ),
    )
    link_secret: SecretStr = Field(
        SecretStr(""),
        description="Key that signs unsubscribe links; set a long random value in production (empty = unsigned links).",
    )
    telegram_bot_token: SecretStr = Field(SecretStr(""), description="Token of the Telegram bot that sends alerts.")
    telegram_api_base: str = Field(
        "https://api.telegram.org",
        description="Base URL of the Telegram Bot API (a local Bot API server or the demo's fake).",
    )
    bot_username: str = Field(
        "", description="Username of the Telegram bot (without @), for the t.me links that link an account to a chat."
    )
    bot_link_minutes: float = Field(
        30.0, gt=0, le=1440, description="How long a Telegram link (t.me/<bot>?start=…) stays valid (it works once)."
    )
    bot_enabled: bool = Field(
        False,
        description=(
            "Run the Telegram bot in `creneau serve --role all` (`--role bot` always runs it). Only one process "
            "may poll one bot."
        ),
    )
    bot_poll_timeout_s: int = Field(
        25, ge=1, le=50, description="Long-polling wait of the Telegram bot's getUpdates calls, in seconds."
    )
    captcha_desk: Literal["file", "store"] = Field(
        "file",
        description=(
            "Where captchas wait for a person: file (DATA_DIR/captcha, one machine) or store (the database; "
            "needed when monitors, the bot and the web app run on several machines)."
        ),
    )
    ntfy_server_url: str = Field(
        "https://ntfy.sh", description="Default ntfy server for ntfy channels that do not name their own."
    )
    ntfy_topic_prefix: str = Field("creneau-", description="Prefix of the per-target public ntfy topics.")
    notify_timeout_s: float = Field(15.0, gt=0, description="Timeout of one Telegram, ntfy or webhook request.")
    webhook_allow_private: bool = Field(
        False,
        description=(
            "Allow webhooks to private, loopback and link-local addresses (SSRF guard off). Only for tests, "
            "the demo, or a trusted local network."
        ),
    )
    webpush_vapid_key: SecretStr = Field(
        SecretStr(""),
        description=(
            "VAPID private key of web push (PEM or base64url P-256 scalar); empty means one is generated once "
            "and kept in DATA_DIR/vapid_private.pem. Set it when web and sender processes run on several machines."
        ),
    )

    # --- pipeline: monitor and sender (`creneau serve`) -------------------------------------------
    monitor_concurrency: int = Field(8, ge=1, le=256, description="How many checks one monitor process runs at once.")
    monitor_lease_s: float = Field(
        300.0, gt=0, description="How long a monitor holds a claimed target; a crashed monitor's come back after it."
    )
    monitor_check_timeout_s: float = Field(
        240.0, gt=0, description="A check still running after this many seconds is abandoned (a network error)."
    )
    monitor_processes: int = Field(
        1, ge=1, description="How many monitor processes share the sites' politeness limits (each takes 1/N)."
    )
    sender_lease_s: float = Field(
        120.0, gt=0, description="How long a sender holds its leased deliveries; a crashed sender's come back after it."
    )
    sender_batch: int = Field(
        200, ge=1, le=5000, description="How many deliveries one sender leases at a time per channel kind."
    )
    sender_concurrency: int = Field(
        16, ge=1, le=512, description="Deliveries in flight at once per channel kind in one sender process."
    )
    sender_processes: int = Field(
        1, ge=1, description="How many sender processes share each provider's global rate (e.g. Telegram's 30 msg/s)."
    )
    sender_kinds: list[str] = Field(
        default_factory=list,
        description='JSON list of the channel kinds this sender delivers, e.g. ["telegram"]; empty means all of them.',
    )
    sender_max_age_h: float = Field(
        24.0, gt=0, description="A delivery that still cannot be sent this many hours after its alert is given up."
    )
    poll_s: float = Field(
        5.0, gt=0, description="Polling fallback: how long an idle monitor or sender waits for a wake-up (seconds)."
    )
    shutdown_grace_s: float = Field(
        30.0, ge=0, description="On Ctrl-C or SIGTERM, how long in-flight checks and sends may take to finish."
    )

    # --- evidence dossier, letters, reminders ------------------------------------------------------
    evidence_key: SecretStr = Field(
        SecretStr(""),
        description=(
            "Key that encrypts identifiers (numéro étranger, letters) at rest and seals exported evidence chains; "
            "empty means one is generated once and kept in DATA_DIR/evidence_key. Rotate with `creneau keys rotate`."
        ),
    )
    evidence_old_keys: list[SecretStr] = Field(
        default_factory=list,
        description="JSON list of previous evidence keys, still accepted to read data and check seals until rotated.",
    )
    evidence_chromium: str = Field(
        "/usr/bin/chromium", description="Chromium executable that renders the evidence captures (screenshots)."
    )
    evidence_capture_timeout_s: float = Field(
        20.0, gt=0, description="Time allowed to render one capture in Chromium, in seconds."
    )
    evidence_table_limit: int = Field(
        3000,
        ge=0,
        description="Dossiers list their attempts one by one up to this many; above it, one line per day (all in the attached chain).",
    )

    # --- logging --------------------------------------------------------------------------------
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_json: bool = Field(False, description="Log as JSON lines (production) instead of coloured console text.")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("route_overrides")
    @classmethod
    def _http_bases(cls, value: dict[str, str]) -> dict[str, str]:
        for host, base in value.items():
            if not base.startswith(("http://", "https://")):
                raise ValueError(f"the base URL for {host!r} must start with http:// or https://")
        return value

    def resolved_user_agent(self) -> str:
        from creneau import __version__

        return self.user_agent.format(version=__version__, contact=self.operator_contact)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'creneau.sqlite3').as_posix()}"


class SettingsError(Exception):
    """A setting has a bad value: start-up stops with the variable's name."""


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning pydantic's error into one line naming the CRENEAU_ variable."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "CRENEAU_" + str(first["loc"][0]).upper() if first["loc"] else "CRENEAU_?"
        raise SettingsError(f"{name}: {first['msg']}") from None


def settings_markdown() -> str:
    """The table of every setting for `docs/settings.md` (a test keeps the file equal to it)."""
    lines = [
        "# Settings",
        "",
        "Every setting is a `CRENEAU_<NAME>` environment variable, or a line of `.env` in the working folder.",
        "Lists and maps are given as JSON. Secrets have no default: set them in production.",
        "This file is generated by `creneau.config.settings_markdown()`; a test keeps it in sync.",
        "",
        "| variable | default | meaning |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, SecretStr):
            shown = "(secret)" if default.get_secret_value() else "(empty)"
        elif default is None or (isinstance(default, (str, list, dict)) and not default):
            shown = "(empty)"
        else:
            shown = f"`{default}`".replace("|", "\\|")
        meaning = (field.description or "").replace("|", "\\|")
        lines.append(f"| `CRENEAU_{name.upper()}` | {shown} | {meaning} |")
    return "\n".join(lines) + "\n"
