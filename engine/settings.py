"""Runtime settings, read from `JOURNEYS_*` environment variables and command-line flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.local_time import is_zone


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
    # API requests handled at once (the others wait their turn without a thread): fewer than the connection
    # pool holds, so the engine's jobs always find a connection and a fair share of the interpreter.
    request_threads: int = 8
    # SQLite: how long a writer may queue for this process's one write slot before answering 503 (seconds).
    write_wait_seconds: float = 30.0
    # Free-form JSON (attributes, event properties, update values): bytes per value set, nesting depth.
    json_max_bytes: int = 65_536
    json_max_depth: int = 32
    # Message templates: wall-clock seconds and characters of output per render.
    template_time_limit: float = 2.0
    template_max_output: int = 262_144
    # CEL: the most work one evaluation may cost (estimated from the expression and its inputs).
    cel_cost_limit: int = 1_000_000
    # Local time (engine/local_time.py): the customer attribute naming their IANA zone, and the zone of
    # customers without one when their journey names none.
    timezone_attribute: str = "timezone"
    default_timezone: str = "UTC"
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
    # Request bodies larger than this are refused at the edge with 413 (bytes); the demo sink takes less.
    max_body_bytes: int = 33_554_432
    sink_max_bytes: int = 65_536
    # Sign-in: wrong passwords allowed per account and per client address before each further try must
    # wait; the wait doubles from login_delay_seconds up to login_max_delay_seconds.
    login_free_failures: int = 5
    login_delay_seconds: float = 1.0
    login_max_delay_seconds: float = 900.0

    @field_validator("timezone_attribute")
    @classmethod
    def _attribute_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("JOURNEYS_TIMEZONE_ATTRIBUTE must name a customer attribute (such as timezone)")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_zone(value):
            raise ValueError(
                f"JOURNEYS_DEFAULT_TIMEZONE: {value!r} is not an IANA time zone (such as Europe/Berlin)")
        return value

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


@dataclass
class Invocation:
    """What the command line asked for: a command (`serve` when none is given) and the settings to use.

    `action` and `options` hold a subcommand's own arguments (for `db`: upgrade, current, history, revision).
    """

    command: str
    settings: Settings
    action: str = ""
    options: dict[str, Any] = field(default_factory=dict)


def _add_db_flag(parser: argparse.ArgumentParser, default: Any = None) -> None:
    parser.add_argument("--db", dest="database_url", default=default,
                        help="database URL (default: SQLite in ./data/)")


def _add_db_command(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema: upgrade, current revision, history")
    # SUPPRESS: a --db given before the subcommand is not overwritten by this one's absence.
    _add_db_flag(db, default=argparse.SUPPRESS)
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="upgrade the database to this release's schema")
    actions.add_parser("current", help="print the revision the database is at")
    actions.add_parser("history", help="list every schema revision, newest first")
    revision = actions.add_parser("revision", help="(developers) write a migration for the models' changes")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes")


def _add_worker_command(commands: Any) -> None:
    worker = commands.add_parser(
        "worker", help="run the engine and the dispatcher without the web app",
        description="Run the engine (runner, sweeps, segment backfills) and the dispatcher without the web "
                    "app, until SIGTERM or SIGINT. On PostgreSQL, start as many as you like beside a web "
                    "process (`--no-scheduler` leaves the engine to the workers): they share the work.")
    _add_db_flag(worker, default=argparse.SUPPRESS)


def parse_cli(argv: list[str] | None = None) -> Invocation:
    """The command and settings: the environment, overridden by command-line flags.

    No subcommand serves the app; a subcommand is one `_add_<name>_command` adding its parser below.
    """
    parser = argparse.ArgumentParser(prog="journeys", description="Journeys: customer-journey orchestrator")
    _add_db_flag(parser)
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    parser.add_argument("--no-demo", dest="demo", action="store_false", default=None,
                        help="do not seed demo data into an empty database")
    parser.add_argument("--no-scheduler", dest="scheduler", action="store_false", default=None,
                        help="do not run the background engine")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_db_command(commands)
    _add_worker_command(commands)
    args = vars(parser.parse_args(argv))
    command = args.pop("command") or "serve"
    action = args.pop("action", None) or ""
    known = set(Settings.model_fields)
    overrides = {key: value for key, value in args.items() if key in known and value is not None}
    options = {key: value for key, value in args.items() if key not in known}
    return Invocation(command=command, settings=Settings(**overrides), action=action, options=options)
