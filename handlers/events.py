"""Events: app_home_opened publishes the viewer's Home tab."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App

from bot.services import Services
from handlers.common import refresh_home

log = logging.getLogger(__name__)


def register(app: App, services: Services, work: Executor) -> None:
    def home_opened(ack, event, client):
        ack()
        # The same event comes for the Messages tab; only Home has something to draw.
        if event.get("tab", "home") == "home" and event.get("user"):
            work.submit(refresh_home, client, services, event["user"])

    app.event("app_home_opened")(home_opened)
