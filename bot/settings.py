"""Settings: config/settings.toml, a user TOML file and the environment, in one typed object.

config/settings.toml holds every key with its default and is the only place defaults live.
A user file is laid over it key by key; the environment has the last word for the database
path and carries the Slack secrets, which never live in a file.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULTS_FILE = CONFIG_DIR / "settings.toml"
# The values [model] precision accepts.
MODEL_PRECISIONS = ("auto", "float32", "bfloat16")


class SettingsError(Exception):
    """A setting is wrong; the message names the key, the file and what to write instead."""


@dataclass(frozen=True)
class FeedSettings:
    url: str
    name: str = ""
    kind: str = ""
    include_cross_lists: bool = True
    # Minutes between polls of this feed; 0 means [schedule] poll_minutes.
    poll_minutes: int = 0


@dataclass(frozen=True)
class DatabaseSettings:
    path: str


@dataclass(frozen=True)
class ModelSettings:
    path: str
    batch_size: int
    # "auto", "float32" or "bfloat16": the number format the model computes in (bot/embed.py).
    precision: str = dataclasses.field(metadata={"choices": MODEL_PRECISIONS})


@dataclass(frozen=True)
class MatchingSettings:
    default_threshold: float
    max_alerts_per_cycle: int
    strict_threshold: float
    broad_threshold: float
    calibration_offset: float
    lexical_weight: float
    daily_cap_dm: int
    daily_cap_channel: int
    feedback_precision: float
    feedback_prior_judgments: float


@dataclass(frozen=True)
class SummarySettings:
    max_chars: int
    llm_url: str
    llm_model: str
    llm_api_key_env: str
    llm_timeout: float


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str
    connect_timeout: float
    read_timeout: float
    max_attempts: int
    total_timeout: float
    command_timeout: float
    allow_private_addresses: bool
    arxiv_api_url: str


@dataclass(frozen=True)
class ScheduleSettings:
    poll_minutes: int
    tick_seconds: int
    arxiv_repoll_minutes: int
    arxiv_repoll_window_minutes: int
    feed_error_backoff_max_minutes: int
    digest_hour: int
    weekly_digest_day: str
    channel_timezone: str


@dataclass(frozen=True)
class DeliverySettings:
    batch_size: int
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    channel_interval_seconds: float
    post_timeout_seconds: int
    lease_seconds: int
    max_rate_limit_waits: int


@dataclass(frozen=True)
class IngestSettings:
    notify_updates: bool
    max_items_per_feed: int


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int


@dataclass(frozen=True)
class SlackSettings:
    """Slack credentials, from the environment only."""

    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""
    api_base_url: str = ""

    @classmethod
    def from_env(cls, env: typing.Mapping[str, str]) -> SlackSettings:
        return cls(
            bot_token=env.get("SLACK_BOT_TOKEN", ""),
            signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
            app_token=env.get("SLACK_APP_TOKEN", ""),
            api_base_url=env.get("SLACK_API_BASE_URL", ""),
        )

    def require_for_run(self) -> None:
        """Raise with what to set when the tokens for `paperbot run` are missing."""
        if not self.bot_token:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set: export SLACK_BOT_TOKEN=xoxb-... "
                "(the Bot User OAuth Token, on your Slack app's 'OAuth & Permissions' page)."
            )
        if not self.app_token and not self.signing_secret:
            raise SettingsError(
                "Neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set: export "
                "SLACK_APP_TOKEN=xapp-... for Socket Mode (an app-level token with "
                "connections:write), or SLACK_SIGNING_SECRET=... for HTTP mode "
                "('Basic Information' page of your Slack app)."
            )


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    model: ModelSettings
    matching: MatchingSettings
    fetch: FetchSettings
    schedule: ScheduleSettings
    delivery: DeliverySettings
    server: ServerSettings
    feeds: tuple[FeedSettings, ...]
    summary: SummarySettings
    ingest: IngestSettings
    slack: SlackSettings = SlackSettings()


def load_settings(
    config_path: str | Path | None = None,
    db_path: str | None = None,
    env: typing.Mapping[str, str] | None = None,
) -> Settings:
    """Load the defaults, lay the user file over them, then the environment and `db_path`.

    `config_path` falls back to PAPERBOT_CONFIG, `db_path` to PAPERBOT_DB.
    """
    env = os.environ if env is None else env
    data = _read_toml(DEFAULTS_FILE)
    source = str(DEFAULTS_FILE)
    config_path = config_path or env.get("PAPERBOT_CONFIG")
    if config_path:
        data = _merge(data, _read_toml(Path(config_path)))
        source = str(config_path)
    db_path = db_path or env.get("PAPERBOT_DB")
    if db_path:
        data["database"]["path"] = db_path
    settings = _build(Settings, data, source, prefix="")
    return dataclasses.replace(settings, slack=SlackSettings.from_env(env))


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"Settings file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path} is not valid TOML: {error}.") from None


def _merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def _build(cls: type, data: typing.Any, source: str, prefix: str) -> typing.Any:
    """Build dataclass `cls` from `data`, checking each value against the field's type."""
    where = prefix.rstrip(".") or "the top level"
    if not isinstance(data, dict):
        raise SettingsError(f"'{where}' in {source} must be a table, like [{where}].")
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name == "slack":
            continue
        key = f"{prefix}{field.name}"
        if field.name not in data:
            if field.default is not dataclasses.MISSING:
                continue
            raise SettingsError(f"Setting '{key}' is missing from {source}: add it.")
        values[field.name] = _convert(hints[field.name], data[field.name], source, key)
        choices = field.metadata.get("choices")
        if choices and values[field.name] not in choices:
            raise SettingsError(
                f"Setting '{key}' in {source} must be one of {', '.join(map(repr, choices))}; "
                f"got {values[field.name]!r}."
            )
    known = [f.name for f in dataclasses.fields(cls) if f.name != "slack"]
    for name in sorted(set(data) - set(known)):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{prefix}{close[0]}'?" if close else f"known keys: {known}"
        raise SettingsError(f"Unknown setting '{prefix}{name}' in {source}: {hint}")
    return cls(**values)


def _convert(hint: typing.Any, value: typing.Any, source: str, key: str) -> typing.Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, source, prefix=f"{key}.")
    if typing.get_origin(hint) is tuple:
        (item_hint, _) = typing.get_args(hint)
        if not isinstance(value, list):
            raise SettingsError(f"Setting '{key}' in {source} must be a list, like [[{key}]].")
        return tuple(
            _convert(item_hint, item, source, f"{key}[{i}]") for i, item in enumerate(value)
        )
    expected = {float: (int, float), int: (int,), str: (str,), bool: (bool,)}[hint]
    if isinstance(value, bool) and hint is not bool or not isinstance(value, expected):
        example = {float: "0.5", int: "10", str: '"text"', bool: "true"}[hint]
        raise SettingsError(
            f"Setting '{key}' in {source} must be {_type_name(hint)}, "
            f"like {key.rsplit('.', 1)[-1]} = {example}; got {value!r}."
        )
    return float(value) if hint is float else value


def _type_name(hint: type) -> str:
    return {float: "a number", int: "a whole number", str: "a string", bool: "true or false"}[hint]
