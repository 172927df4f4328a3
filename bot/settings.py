"""Settings: config/settings.toml, a user TOML file and the environment, in one typed object.

config/settings.toml holds every key with its default and is the only place defaults live.
A user file is laid over it key by key; the environment has the last word for the database
path and carries the Slack secrets, which never live in a file.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import os
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.sources import KINDS

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULTS_FILE = CONFIG_DIR / "settings.toml"
# The values [model] precision accepts.
MODEL_PRECISIONS = ("auto", "float32", "bfloat16")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def between(low: float, high: float) -> typing.Any:
    """A setting that must lie from `low` to `high`, both included."""
    return dataclasses.field(metadata={"range": (low, high)})


def one_of(*choices: str) -> typing.Any:
    return dataclasses.field(metadata={"choices": choices})


class SettingsError(Exception):
    """A setting is wrong; the message names the key, the file and what to write instead."""


@dataclass(frozen=True)
class FeedSettings:
    url: str = dataclasses.field(metadata={"feed_address": True})
    name: str = ""
    # Left out (""), the kind is detected from what the feed answers.
    kind: str = dataclasses.field(default="", metadata={"choices": (*KINDS, "")})
    include_cross_lists: bool = True
    # Minutes between polls of this feed; 0 means [schedule] poll_minutes.
    poll_minutes: int = dataclasses.field(default=0, metadata={"range": (0, 10080)})


@dataclass(frozen=True)
class DatabaseSettings:
    path: str


@dataclass(frozen=True)
class ModelSettings:
    path: str
    batch_size: int = between(1, 1024)
    # "auto", "float32" or "bfloat16": the number format the model computes in (bot/embed.py).
    precision: str = one_of(*MODEL_PRECISIONS)


@dataclass(frozen=True)
class MatchingSettings:
    default_threshold: float = between(0, 1)
    max_alerts_per_cycle: int = between(1, 1000)
    strict_threshold: float = between(0, 1)
    broad_threshold: float = between(0, 1)
    daily_cap_dm: int = between(1, 1000)
    daily_cap_channel: int = between(1, 1000)


@dataclass(frozen=True)
class SummarySettings:
    max_chars: int = between(50, 3000)
    llm_url: str
    llm_model: str
    llm_api_key_env: str
    llm_timeout: float = between(1, 600)


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str
    connect_timeout: float = between(0.1, 300)
    read_timeout: float = between(0.1, 600)
    max_attempts: int = between(1, 100)
    total_timeout: float = between(1, 3600)
    command_timeout: float = between(0.1, 300)
    allow_private_addresses: bool
    arxiv_api_url: str


@dataclass(frozen=True)
class ScheduleSettings:
    poll_minutes: int = between(1, 10080)
    tick_seconds: int = between(1, 3600)
    arxiv_repoll_minutes: int = between(1, 1440)
    arxiv_repoll_window_minutes: int = between(0, 1440)
    feed_error_backoff_max_minutes: int = between(1, 10080)
    digest_hour: int = between(0, 23)
    weekly_digest_day: str = one_of(*WEEKDAYS)
    # An IANA timezone name, checked when the settings load.
    channel_timezone: str = dataclasses.field(metadata={"timezone": True})


@dataclass(frozen=True)
class DeliverySettings:
    batch_size: int = between(1, 1000)
    max_attempts: int = between(1, 100)
    retry_base_seconds: float = between(0, 86400)
    retry_max_seconds: float = between(0, 604800)
    channel_interval_seconds: float = between(0, 60)
    post_timeout_seconds: int = between(1, 600)
    lease_seconds: int = between(1, 86400)
    max_rate_limit_waits: int = between(0, 100)


@dataclass(frozen=True)
class IngestSettings:
    notify_updates: bool
    max_items_per_feed: int


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int = between(1, 65535)


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
            api_base_url=_slack_api_base_url(env.get("SLACK_API_BASE_URL", "")),
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


def _slack_api_base_url(url: str) -> str:
    """SLACK_API_BASE_URL checked, and ending in "/": the Slack SDK joins method names onto
    it as a relative URL, so ".../api" would call ".../auth.test" instead of ".../api/auth.test"."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        # Reading .port raises ValueError for a port that is not a number up to 65535.
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # also an unclosed "http://[::1"
        usable = False
    if not usable:
        raise SettingsError(
            f"SLACK_API_BASE_URL is {url!r}, which is not a web address: set it to one like "
            "https://slack.com/api/ (or unset it to use Slack's own)."
        )
    return url if url.endswith("/") else url + "/"


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
    _check_strictness_order(settings.matching, source)
    return dataclasses.replace(settings, slack=SlackSettings.from_env(env))


def _check_strictness_order(matching: MatchingSettings, source: str) -> None:
    """Refuse thresholds that make a strictness level do the opposite of its name: strict
    must ask at least as much as the default, and the default at least as much as broad."""
    levels = [
        ("strict_threshold", matching.strict_threshold),
        ("default_threshold", matching.default_threshold),
        ("broad_threshold", matching.broad_threshold),
    ]
    for (higher, high), (lower, low) in itertools.pairwise(levels):
        if high < low:
            raise SettingsError(
                f"With the settings of {source}, 'matching.{higher}' ({_shown(high)}) is "
                f"below 'matching.{lower}' ({_shown(low)}): keep strict_threshold >= "
                "default_threshold >= broad_threshold, so that a stricter level never sends more."
            )


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"Settings file {path} does not exist.") from None
    except IsADirectoryError:
        raise SettingsError(
            f"Settings file {path} is a folder: point --config (or PAPERBOT_CONFIG) at a "
            "TOML file, such as mine.toml."
        ) from None
    except OSError as error:
        raise SettingsError(f"Settings file {path} cannot be read: {error.strerror}.") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path} is not valid TOML: {error}.") from None
    except UnicodeDecodeError:
        raise SettingsError(
            f"{path} is not UTF-8 text, which TOML must be: save it as UTF-8 (a settings file "
            "written by Windows PowerShell may be UTF-16)."
        ) from None


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
        if where.endswith("]"):  # an entry of a list of tables, such as feeds[0]
            first = dataclasses.fields(cls)[0].name
            raise SettingsError(
                f"Each entry of '{where.split('[')[0]}' in {source} must be a table; write "
                f"[[{where.split('[')[0]}]] on a line of its own, then "
                f"{first} = {_shown(data)} on the next."
            )
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
        _check(field, values[field.name], source, key)
    known = [f.name for f in dataclasses.fields(cls) if f.name != "slack"]
    for name in sorted(set(data) - set(known)):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{prefix}{close[0]}'?" if close else f"known keys: {known}"
        raise SettingsError(f"Unknown setting '{prefix}{name}' in {source}: {hint}")
    return cls(**values)


def _check(field: dataclasses.Field, value: typing.Any, source: str, key: str) -> None:
    """Check a value against its field's range, choices or kind; say what to write if not."""
    name = key.rsplit(".", 1)[-1]
    choices = field.metadata.get("choices")
    if choices and value not in choices:
        # An empty choice is the setting left out (a feed's kind, then detected).
        named = ", ".join(repr(choice) for choice in choices if choice)
        left_out = " (or left out)" if "" in choices else ""
        raise SettingsError(
            f"Setting '{key}' in {source} must be one of {named}{left_out}, "
            f"like {name} = {choices[0]!r}; got {_shown(value)}."
        )
    if "range" in field.metadata:
        low, high = field.metadata["range"]
        if not low <= value <= high:
            example = _default_of(key)
            if example is None:
                example = low if value < low else high
            raise SettingsError(
                f"Setting '{key}' in {source} must be from {low} to {high}, "
                f"like {name} = {example}; got {value}."
            )
    if field.metadata.get("feed_address") and not is_feed_address(value):
        raise SettingsError(
            f"Setting '{key}' in {source} must be a web address (http or https) or a file "
            f'path, like {name} = "https://rss.arxiv.org/rss/cs.CL"; got {_shown(value)}.'
        )
    if field.metadata.get("timezone"):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"Setting '{key}' in {source} must be an IANA timezone name, "
                f'like {name} = "Europe/Berlin"; got {_shown(value)}.'
            ) from None


def is_feed_address(url: str) -> bool:
    """Whether `url` is of a kind paperbot reads feeds from: an http(s) or file:// address,
    or a path (a one-letter scheme is a Windows drive, "C:\\feeds\\x.xml")."""
    scheme = urlsplit(url.strip()).scheme.lower()
    return bool(url.strip()) and (scheme in ("http", "https", "file") or len(scheme) < 2)


def _shown(value: typing.Any) -> str:
    """A value as the user wrote it, cut short: an error message must not echo a whole file."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _default_of(key: str) -> typing.Any:
    """The value config/settings.toml gives the setting `key`, or None."""
    value = _read_toml(DEFAULTS_FILE)
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


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
            f"like {key.rsplit('.', 1)[-1]} = {example}; got {_shown(value)}."
        )
    return float(value) if hint is float else value


def _type_name(hint: type) -> str:
    return {float: "a number", int: "a whole number", str: "a string", bool: "true or false"}[hint]
