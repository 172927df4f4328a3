"""`paperbot doctor`: checks what a running paperbot needs, and says what to fix."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.deliver import unreachable
from bot.embed import Embedder, ModelError
from bot.feeds import active_feeds
from bot.settings import SettingsError, load_settings
from bot.storage import Store, StoreError, require_existing, shown


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
    store, unreadable = None, False
    try:
        # Checked, not made: a mistyped path must not look like a healthy empty database.
        require_existing(settings.database.path)
    except StoreError:
        yield Check(
            "database",
            True,
            f"none yet at {settings.database.path}: paperbot makes it when it first stores "
            "something (if you expected one there, check --db or PAPERBOT_DB)",
        )
    else:
        try:
            store = Store(settings.database.path)
            yield Check(
                "database",
                True,
                f"{shown(settings.database.path)}, {store.papers.count()} papers stored",
            )
        except StoreError as error:
            unreadable = True
            yield Check("database", False, str(error))
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
    # Feeds added with `paperbot feeds add` live in the database, beside the declared ones.
    feeds = active_feeds(settings, store) if store else settings.feeds
    if unreadable:
        yield Check(
            "feeds",
            False,
            f"{len(feeds)} declared in your settings; those added with `paperbot feeds add` "
            "could not be read, because the database could not be opened",
        )
    elif feeds:
        yield Check("feeds", True, f"{len(feeds)} configured")
    else:
        yield Check(
            "feeds",
            False,
            "none configured: add [[feeds]] entries to your settings, or `paperbot feeds add URL`",
        )
    yield _slack_check(settings)


def _slack_check(settings) -> Check:
    try:
        settings.slack.require_for_run()
    except SettingsError as error:
        return Check("slack", False, f"{error} (not needed for `paperbot demo`)")
    # One try, not the service's retries, and no log lines: the check reports what failed.
    client = WebClient(
        token=settings.slack.bot_token,
        base_url=settings.slack.api_base_url or WebClient.BASE_URL,
        timeout=10,
        logger=logging.Logger("paperbot.doctor.slack", level=logging.CRITICAL),
    )
    try:
        identity = client.auth_test()
    except SlackApiError as error:
        return Check("slack", False, f"auth.test answered {error.response.get('error')}")
    except (SlackClientError, OSError) as error:
        return Check(
            "slack", False, f"{unreachable(client.base_url, error)}, then run doctor again"
        )
    mode = "Socket Mode" if settings.slack.app_token else "HTTP mode"
    return Check("slack", True, f"signed in as {identity['user']} in {identity['team']}; {mode}")
