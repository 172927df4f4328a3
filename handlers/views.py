"""The "Add subscription" modal's submission."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_sdk import WebClient

from bot import subscriptions as subs
from bot import views
from bot.commands import MAX_TOPIC, unquote
from bot.search import names_a_subject
from bot.services import Services
from handlers.common import refresh_home

log = logging.getLogger(__name__)


def form_values(view: dict) -> dict:
    """{block_id: chosen value} from a submitted view's state."""
    values = {}
    for block_id, fields in ((view.get("state") or {}).get("values") or {}).items():
        element = fields.get("value") or {}
        chosen = (
            element.get("value")
            or element.get("selected_conversation")
            or (element.get("selected_option") or {}).get("value")
        )
        values[block_id] = chosen
    return values


def register(app: App, services: Services, work: Executor) -> None:
    def add_subscription(ack, body, client):
        values = form_values(body.get("view") or {})
        topic = unquote(values.get("topic") or "")
        # Checks that need nothing but the form answer in the ack, so the modal shows them.
        if not topic:
            ack(response_action="errors", errors={"topic": "Write a topic to follow."})
            return
        if not names_a_subject(topic):
            ack(
                response_action="errors",
                errors={"topic": "Name a subject, e.g. diffusion models for video."},
            )
            return
        if len(topic) > MAX_TOPIC:
            too_long = f"Keep it to {MAX_TOPIC} characters or fewer."
            ack(response_action="errors", errors={"topic": too_long})
            return
        ack()
        user = (body.get("user") or {}).get("id", "")
        work.submit(add, client, services, user, topic, values)

    app.view(views.ADD_SUBSCRIPTION_MODAL)(add_subscription)


def add(client: WebClient, services: Services, user: str, topic: str, values: dict) -> None:
    """Create the subscription the modal asked for, or tell the user why not, by DM."""
    try:
        create(client, services, user, topic, values)
    except subs.SubscriptionError as error:
        tell(client, user, str(error))
    except Exception:
        log.exception("adding a subscription from the modal failed")
        tell(client, user, views.apology())
    refresh_home(client, services, user)


def create(client: WebClient, services: Services, user: str, topic: str, values: dict) -> None:
    """The subscription the modal asks for (a channel only for one of its members), and a DM
    with the papers to judge that a slash command's reply shows."""
    channel = values.get("channel")
    if channel and not subs.slack_membership(client)(user, channel):
        raise subs.SubscriptionError(
            "Only members of a channel can subscribe it: join it and add the subscription again."
        )
    subscription = subs.subscribe(
        services.store,
        services.embedder,
        topic=topic,
        owner=user,
        target=channel or user,
        cadence=values.get("cadence") or "instant",
        strictness=values.get("strictness") or "normal",
    )
    # A modal has no response_url: the previews to judge go to the user's DM.
    new = subs.introduce(services.matcher, subscription, topic)
    client.chat_postMessage(channel=user, **views.subscribed_message(new))


def tell(client: WebClient, user: str, text: str) -> None:
    """A modal has no response_url: a problem found after closing it goes to the user's DM."""
    try:
        client.chat_postMessage(channel=user, **views.text_message(text))
    except Exception:
        log.exception("could not tell %s: %s", user, text[:80])
