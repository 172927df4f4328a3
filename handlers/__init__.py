"""Slack listeners. Each module has register(app, services, work); handlers stay thin.

A listener acknowledges at once and hands what takes time to `work`, an executor of its
own: bolt acknowledges on a small thread pool, and slow work there (a lookup at a slow
arXiv) would leave other people's commands unacknowledged.
"""

from __future__ import annotations

from concurrent.futures import Executor

from slack_bolt import App

from bot.services import Services


def register(app: App, services: Services, work: Executor) -> None:
    from handlers import actions, commands, events, views

    commands.register(app, services, work)
    actions.register(app, services, work)
    events.register(app, services, work)
    views.register(app, services, work)
