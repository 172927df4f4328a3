"""Slack listeners. Each module has register(app, services); handlers stay thin."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services


def register(app: App, services: Services) -> None:
    from handlers import actions, commands, events, views

    commands.register(app, services)
    actions.register(app, services)
    events.register(app, services)
    views.register(app, services)
