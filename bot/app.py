"""Builds the bolt App and the services, and serves them in Socket Mode or over HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

import handlers
from bot.deliver import make_slack_client
from bot.scheduler import build_scheduler
from bot.services import Services, build_services
from bot.settings import Settings

log = logging.getLogger(__name__)


def build_bolt_app(services: Services) -> App:
    """The bolt App with every paperbot listener registered on it."""
    slack = services.settings.slack
    app = App(
        client=services.slack,
        signing_secret=slack.signing_secret or None,
        token_verification_enabled=False,
    )
    handlers.register(app, services)
    return app


def health(services: Services) -> dict:
    return {"ok": True, "papers": services.store.count_papers()}


def wsgi_app(app: App, status: Callable[[], dict]):
    """Slack's requests on POST /slack/events, and GET /healthz for load balancers."""
    slack_handler = SlackRequestHandler(app, path="/slack/events")

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps(status()).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        return slack_handler(environ, start_response)

    return application


def serve(settings: Settings, port: int | None = None) -> None:
    """Run paperbot: the model loads first, then the scheduler, then the Slack connection."""
    import waitress

    slack = make_slack_client(settings.slack.bot_token, settings.slack.api_base_url)
    services = build_services(settings, slack=slack)
    services.embedder.load()
    app = build_bolt_app(services)
    scheduler = build_scheduler(services)
    scheduler.start()
    try:
        if settings.slack.app_token:
            log.info("connecting to Slack in Socket Mode")
            SocketModeHandler(app, settings.slack.app_token).start()
        else:
            port = port or settings.server.port
            log.info(
                "serving Slack requests on http://%s:%d/slack/events", settings.server.host, port
            )
            waitress.serve(
                wsgi_app(app, lambda: health(services)), host=settings.server.host, port=port
            )
    finally:
        scheduler.shutdown(wait=True)
