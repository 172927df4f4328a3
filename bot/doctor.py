"""`paperbot doctor`: checks what a running paperbot needs, and says what to fix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.deliver import make_slack_client
from bot.embed import Embedder, ModelError
from bot.settings import SettingsError, load_settings
from bot.store import Store


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(config_path: str | None, db_path: str | None) -> Iterator[Check]:
    """Yield one Check per thing paperbot depends on; stop early when settings are unusable."""
    try:
        settings = load_settings(config_path, db_path)
    except SettingsError as error:
        yield Check("settings", False, str(error))
        return
    yield Check("settings", True, "valid")
    try:
        store = Store(settings.database.path)
        yield Check(
            "database", True, f"{settings.database.path}, {store.count_papers()} papers stored"
        )
    except Exception as error:  # any failure to open the file is worth reporting verbatim
        yield Check("database", False, f"{settings.database.path}: {error}")
    try:
        embedder = Embedder(
            settings.model.path, settings.model.batch_size, settings.model.precision
        )
        dimension = embedder.encode_one("test").shape[0]
        yield Check("model", True, f"{embedder.name} loaded offline, {dimension} dimensions")
        precision = embedder.precision
        yield Check("precision", True, f"{precision.name} ({precision.reason})")
    except ModelError as error:
        yield Check("model", False, str(error))
    if settings.feeds:
        yield Check("feeds", True, f"{len(settings.feeds)} configured")
    else:
        yield Check("feeds", False, "none configured: add [[feeds]] entries to your settings")
    yield _slack_check(settings)


def _slack_check(settings) -> Check:
    try:
        settings.slack.require_for_run()
    except SettingsError as error:
        return Check("slack", False, f"{error} (not needed for `paperbot demo`)")
    client = make_slack_client(settings.slack.bot_token, settings.slack.api_base_url)
    try:
        identity = client.auth_test()
    except SlackApiError as error:
        return Check("slack", False, f"auth.test answered {error.response.get('error')}")
    except SlackClientError as error:
        return Check("slack", False, f"could not reach Slack: {error}")
    mode = "Socket Mode" if settings.slack.app_token else "HTTP mode"
    return Check("slack", True, f"signed in as {identity['user']} in {identity['team']}; {mode}")
