"""The outbox worker: claims pending deliveries, posts them to Slack, records the outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.blocks import render_alert
from bot.match import Match
from bot.store import Delivery, Store
from bot.summarize import Summarizer

log = logging.getLogger(__name__)

# Errors that will not go away by retrying: the target's subscriptions are paused.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "token_revoked",
        "account_inactive",
        "missing_scope",
        "user_not_found",
        "cannot_dm_bot",
    }
)
ALERT_EVENT_TYPE = "paperbot_alert"


def make_slack_client(token: str, base_url: str = "") -> WebClient:
    """A WebClient that retries connection errors, 5xx and 429 (waiting Retry-After)."""
    kwargs = {"base_url": base_url} if base_url else {}
    return WebClient(
        token=token,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
        timeout=30,
        **kwargs,
    )


def compose_alert(store: Store, summarizer: Summarizer, paper_id: str, matches: list[Match]):
    """The Block Kit message for one alert; the summary is made once per paper and kept."""
    paper = store.get_paper(paper_id)
    summary = store.get_summary(paper_id)
    if summary is None:
        topic = matches[0].topic if matches else None
        summary = summarizer.summarize(paper.title, paper.abstract, topic)
        store.set_summary(paper_id, summary)
    return render_alert(paper, matches, summary)


def matches_of(delivery: Delivery) -> list[Match]:
    return [Match(**m) for m in delivery.matches]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0


class Deliverer:
    """Posts the outbox to Slack. A row is sent once, retried, or failed with its reason."""

    def __init__(
        self,
        store: Store,
        client: WebClient,
        summarizer: Summarizer,
        *,
        batch_size: int = 50,
        max_attempts: int = 5,
    ):
        self.store = store
        self.client = client
        self.summarizer = summarizer
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self._dm_channels: dict[str, str] = {}

    def deliver_pending(self) -> DeliveryReport:
        report = DeliveryReport()
        while batch := self.store.claim_pending_deliveries(self.batch_size):
            for delivery in batch:
                outcome = self._deliver(delivery)
                setattr(report, outcome, getattr(report, outcome) + 1)
            if report.retrying:
                # Retryable failures go back to pending; they wait for the next cycle
                # rather than spinning here against a struggling Slack.
                break
        return report

    def _deliver(self, delivery: Delivery) -> str:
        try:
            channel = self._channel_for(delivery.target)
            message = compose_alert(
                self.store, self.summarizer, delivery.paper_id, matches_of(delivery)
            )
            response = self.client.chat_postMessage(
                channel=channel,
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": ALERT_EVENT_TYPE,
                    "event_payload": {"paper_id": delivery.paper_id},
                },
                **message,
            )
        except SlackApiError as error:
            return self._failed(delivery, error.response.get("error") or str(error))
        except SlackClientError as error:
            return self._failed(delivery, f"could not reach Slack: {error}")
        except OSError as error:
            return self._failed(delivery, f"could not reach Slack: {error}")
        self.store.finish_delivery(
            delivery.id, "sent", slack_ts=response["ts"], channel=response["channel"]
        )
        return "sent"

    def _channel_for(self, target: str) -> str:
        """A user id is delivered to the DM with that user; anything else is a channel."""
        if not target.startswith(("U", "W")):
            return target
        if target not in self._dm_channels:
            response = self.client.conversations_open(users=target)
            self._dm_channels[target] = response["channel"]["id"]
        return self._dm_channels[target]

    def _failed(self, delivery: Delivery, reason: str) -> str:
        if reason in PERMANENT_ERRORS:
            self.store.finish_delivery(delivery.id, "failed", error=reason)
            paused = self.store.pause_subscriptions_for_target(
                delivery.target, f"Slack answered {reason}"
            )
            log.warning(
                "delivery %s to %s failed for good (%s); paused %d subscription(s)",
                delivery.id,
                delivery.target,
                reason,
                len(paused),
            )
            return "failed"
        if delivery.attempts + 1 >= self.max_attempts:
            self.store.finish_delivery(
                delivery.id, "failed", error=f"{reason} (gave up after {self.max_attempts} tries)"
            )
            log.warning("delivery %s gave up: %s", delivery.id, reason)
            return "failed"
        self.store.finish_delivery(delivery.id, "pending", error=reason)
        log.info("delivery %s will be retried: %s", delivery.id, reason)
        return "retrying"
