"""Runtime settings, read from `JOURNEYS_*` environment variables and command-line flags."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEYS_", extra="ignore")

    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    demo: bool = True
    scheduler: bool = True
    # How often the runner wakes on its own when nothing pokes it (seconds).
    tick_seconds: float = 1.0
    batch_size: int = 500
    # Free-form JSON (attributes, event properties, update values): bytes per value set, nesting depth.
    json_max_bytes: int = 65_536
    json_max_depth: int = 32
    # Message templates: wall-clock seconds and characters of output per render.
    template_time_limit: float = 2.0
    template_max_output: int = 262_144
    # CEL: the most work one evaluation may cost (estimated from the expression and its inputs).
    cel_cost_limit: int = 1_000_000
    # Outbound requests (webhook, sms, push, SMTP) may reach these private hosts or CIDRs (comma-separated).
    outbound_allowlist: str = ""
    # Accounts bootstrap: an admin created or updated at start, and an admin API key for automation.
    admin_email: str = ""
    admin_password: str = ""
    admin_token: str = ""
    # Host headers the app answers (comma-separated); empty: the bind host and localhost.
    allowed_hosts: str = ""
    # Signs session cookies; empty: generated once and kept in the data folder.
    storage_secret: str = ""

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in ./data/ (created on demand)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{data_dir() / 'journeys.db'}"


def data_dir() -> Path:
    """./data/, created on demand: the default database and generated secrets live here."""
    data = Path.cwd() / "data"
    data.mkdir(parents=True, exist_ok=True)
    return data


def parse_cli(argv: list[str] | None = None) -> Settings:
    """Settings from the environment, overridden by command-line flags."""
    parser = argparse.ArgumentParser(prog="journeys", description="Journeys: customer-journey orchestrator")
    parser.add_argument("--db", dest="database_url", help="database URL (default: SQLite in ./data/)")
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    parser.add_argument("--no-demo", dest="demo", action="store_false", default=None,
                        help="do not seed demo data into an empty database")
    parser.add_argument("--no-scheduler", dest="scheduler", action="store_false", default=None,
                        help="do not run the background engine")
    args = parser.parse_args(argv)
    overrides = {key: value for key, value in vars(args).items() if value is not None}
    return Settings(**overrides)
