"""What every listener shares: replying through response_url with retries, apologising on
failure, and refreshing a person's Home tab after a change."""

from __future__ import annotations

import contextlib
import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot import views
from bot.services import Services
from bot.subscriptions import SubscriptionError, threshold_of

log = logging.getLogger(__name__)


class Reply:
    """Posts ephemeral answers to a response_url, retrying 429s, 5xx and dropped connections.

    bolt's respond() neither retries nor raises; a lost answer is logged here instead.
    """

    def __init__(self, response_url: str | None):
        self.client = None
        if response_url:
            self.client = WebhookClient(
                url=response_url,
                timeout=10,
                retry_handlers=[
                    ConnectionErrorRetryHandler(max_retry_count=2),
                    ServerErrorRetryHandler(max_retry_count=2),
                    RateLimitErrorRetryHandler(max_retry_count=3),
                ],
            )

    def __call__(self, message: dict, replace_original: bool = False) -> None:
        if self.client is None:
            log.warning("no response_url to answer on; dropped: %s", message.get("text", "")[:80])
            return
        body = {"response_type": "ephemeral", **message}
        if replace_original:
            body["replace_original"] = True
        response = self.client.send_dict(body)
        if response.status_code != 200:
            log.warning("response_url answered %s: %s", response.status_code, response.body[:200])

    def text(self, text: str) -> None:
        self(views.text_message(text))


@contextlib.contextmanager
def apologising(reply: Reply, what: str):
    """Run a listener's work: a user's mistake is told as it is; a failure of ours is
    logged with its details and the user gets a short apology with what to try."""
    try:
        yield
    except SubscriptionError as error:
        reply.text(str(error))
    except Exception:
        log.exception("%s failed", what)
        try:
            reply.text(views.apology())
        except Exception:
            log.exception("could not even apologise for %s", what)


def publish_home(client: WebClient, services: Services, user: str) -> None:
    """Render and publish `user`'s Home tab (after app_home_opened and every change)."""
    store = services.store
    subscriptions = [s for s in store.subscriptions.for_owner(owner=user) if s.owner == user]
    saved = store.saved.papers(user, limit=views.HOME_PAPERS)
    recent_ids = [d.paper_id for d in store.alerts.recent(user, limit=views.HOME_PAPERS)]
    found = store.papers.get_many(recent_ids)
    recent = [found[i] for i in recent_ids if i in found]
    view = views.home_view(
        subscriptions, saved, recent, threshold_getter(services), store.saved.count(user)
    )
    client.views_publish(user_id=user, view=view)


def threshold_getter(services: Services):
    """The threshold matching applies to a subscription, for showing it."""
    return lambda subscription: threshold_of(services.matcher, subscription)


def refresh_home(client: WebClient, services: Services, user: str) -> None:
    """publish_home, where a failure is logged but does not spoil the answer already given."""
    try:
        publish_home(client, services, user)
    except Exception:
        log.exception("could not refresh the Home tab of %s", user)
