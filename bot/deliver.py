"""The outbox worker: claims pending deliveries, posts them to Slack, records the outcome.

Every alert is sent once, or is visible as failed with its reason:

- A row is claimed ('sending') before it is posted and marked 'sent' with Slack's ts after.
- A post whose answer never came (timeout, dropped connection, or a process killed while
  waiting) may have reached Slack. Its row is marked uncertain; before posting it again the
  worker looks for the alert in the channel's history: every alert carries message
  metadata {event_type: paperbot_alert, event_payload: {paper_id}}. Found: marked sent.
  Not found: posted. History unreadable (no history scope, not a member): marked failed
  with the reason rather than risk posting twice, since a duplicate cannot be taken back
  and a failed row is visible in `paperbot status`.
- 429: Retry-After is waited out (a few times) and posts keep about one a second a channel.
- 5xx, timeouts, connection errors: retried in later cycles with exponential backoff,
  up to `max_attempts`, then failed with the last reason.
- Permanent errors pause the target's subscriptions with the reason and tell their owners
  once by DM; errors of the token itself pause every subscription and stop the batch.
  The DM is a notice row (Store.queue_notice) posted at the end of the batch and retried
  like an alert: backed off on 5xx, timeouts and 429s, looked for in the DM's history
  (metadata {event_type: paperbot_notice, event_payload: {notice_id}}) when its post got no
  answer, failed with the reason when the owner cannot be reached.

Digests (bot/digest.py) go the same way, as one unit: the digest job starts a digest of
the rows held for it (Store.open_digest); the worker claims it, posts its first message
and the rest as replies in that thread, records each part as it lands, and marks the digest
and all its rows sent with the first message's ts. Every part carries metadata
{event_type: paperbot_digest, event_payload: {digest_id, part}}, so an unanswered part is
looked for in the channel's history (or the thread's replies) before it is posted again.

After the posts, a target whose alerts went over its daily cap gets one "N more matched
today" offer per day.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.blocks import render_alert
from bot.digest import digest_of_run, more_matches_message
from bot.match import OVER_CAP_REASON, Match, day_start
from bot.settings import DeliverySettings
from bot.storage import Delivery, DigestRun, Notice, Store, Subscription
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
# Permanent errors of the token itself: every target would fail the same way.
TOKEN_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})
# API errors Slack gives for its own trouble; retried like a 5xx.
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
ALERT_EVENT_TYPE = "paperbot_alert"
DIGEST_EVENT_TYPE = "paperbot_digest"
NOTICE_EVENT_TYPE = "paperbot_notice"
# How far before the unanswered post the history check starts, for clock skew.
HISTORY_MARGIN = timedelta(minutes=5)
HISTORY_PAGE_SIZE = 200
HISTORY_MAX_PAGES = 10


def make_slack_client(token: str, base_url: str = "") -> WebClient:
    """A WebClient that retries connection errors, 5xx and 429 (waiting Retry-After).

    Fine for reads and for replies to users; alerts are posted by the Deliverer through a
    client without automatic retries, because retrying a post can duplicate it.
    """
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


def unreachable(base_url: str, error: Exception) -> str:
    """What to say when Slack at `base_url` did not answer (urllib's URLError for no network,
    DNS or a refused connection is an OSError)."""
    reason = getattr(error, "reason", None) or error
    return (
        f"could not reach Slack at {base_url} ({reason}): check this machine's network "
        "connection and proxy settings, or SLACK_API_BASE_URL"
    )


def compose_alert(store: Store, summarizer: Summarizer, paper_id: str, matches: list[Match]):
    """The Block Kit message for one alert; the summary is made once per paper and kept."""
    paper = store.papers.get(paper_id)
    summary = store.papers.summary(paper_id)
    if summary is None:
        topic = matches[0].topic if matches else None
        summary = summarizer.summarize(paper.title, paper.abstract, topic)
        store.papers.set_summary(paper_id, summary)
    return render_alert(paper, matches, summary)


def matches_of(delivery: Delivery) -> list[Match]:
    return [Match(**m) for m in delivery.matches]


def iso(moment: datetime) -> str:
    """The store's timestamp format (UTC, seconds), which sorts as text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def utc_now() -> datetime:
    return datetime.now(UTC)


class ChannelPacer:
    """Keeps posts to one channel at least `interval` seconds apart, and honours 429s."""

    def __init__(
        self, interval: float, clock: Callable[[], datetime], sleep: Callable[[float], None]
    ):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._free_at: dict[str, float] = {}

    def wait(self, channel: str) -> None:
        """Sleep until `channel` may take a post, and book the next slot."""
        now = self.clock().timestamp()
        free_at = self._free_at.get(channel, now)
        if free_at > now:
            self.sleep(free_at - now)
            now = free_at
        self._free_at[channel] = now + self.interval

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said wait `seconds` (Retry-After) before the next post to `channel`."""
        self._free_at[channel] = self.clock().timestamp() + seconds


def retry_after_seconds(error: SlackApiError) -> float:
    """Retry-After of a 429 answer, 1 second when missing or unreadable."""
    headers = error.response.headers or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return 1.0


def may_have_landed(error: Exception) -> bool:
    """Whether a post that raised `error` may still have reached Slack.

    A refused connection sent nothing; a timeout or a dropped connection may have come
    after Slack took the message.
    """
    reason = getattr(error, "reason", None)
    return not isinstance(error, ConnectionRefusedError) and not isinstance(
        reason, ConnectionRefusedError
    )


def describe(item: Delivery | DigestRun) -> str:
    """`delivery 12` or `digest 3`, for log lines."""
    return f"{'digest' if isinstance(item, DigestRun) else 'delivery'} {item.id}"


class HistoryUnavailable(Exception):
    """The target's history cannot be read, so whether an alert landed is unknown."""


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    released: int = 0
    seconds: float = 0.0


class Deliverer:
    """Posts the outbox to Slack. A row is sent once, retried, or failed with its reason."""

    def __init__(
        self,
        store: Store,
        client: WebClient,
        summarizer: Summarizer,
        settings: DeliverySettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store = store
        self.client = client
        # Posts go through a client that never retries on its own: a retried post whose
        # first try landed would be a duplicate. This class decides what to retry.
        self.poster = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=settings.post_timeout_seconds,
            retry_handlers=[],
        )
        self.summarizer = summarizer
        self.settings = settings
        self.clock = clock
        self.pacer = ChannelPacer(settings.channel_interval_seconds, clock, sleep)
        self._stop = threading.Event()
        self._halt_batch = False
        self._paused_targets: set[str] = set()
        self._dm_channels: dict[str, str] = {}
        self.last_report = DeliveryReport()

    def request_stop(self) -> None:
        """Finish the alert being posted, give the rest of the batch back, and return."""
        self._stop.set()

    def deliver_pending(self) -> DeliveryReport:
        """Post every due row; requeue rows a dead process left half-sent first."""
        started = time.monotonic()
        report = DeliveryReport()
        self._halt_batch = False
        self._requeue_claimed_before(self.clock() - timedelta(seconds=self.settings.lease_seconds))
        while not self._stop.is_set() and not self._halt_batch:
            batch = self.store.alerts.claim(
                self.settings.batch_size, iso(self.clock()), claim=uuid.uuid4().hex
            )
            if not batch:
                break
            for index, delivery in enumerate(batch):
                if self._stop.is_set() or self._halt_batch:
                    rest = [d.id for d in batch[index:]]
                    self.store.alerts.unclaim(rest)
                    report.released += len(rest)
                    break
                if delivery.target in self._paused_targets:
                    # Paused a moment ago: it waits, pending, until its owner resumes it.
                    self.store.alerts.unclaim([delivery.id])
                    report.released += 1
                    continue
                outcome = self._deliver(delivery)
                setattr(report, outcome, getattr(report, outcome) + 1)
        self._deliver_digests(report)
        if not self._stop.is_set() and not self._halt_batch:
            self._deliver_notices()
            self._offer_more_matches()
        report.seconds = round(time.monotonic() - started, 3)
        self.last_report = report
        return report

    def take_over_claims(self) -> None:
        """Requeue every post left claimed, lease or not: for the holder of the instance
        lock (bot/instance.py), whoever claimed them is gone. A post that had started is
        looked for in Slack's history before it is made again, as after a lease."""
        self._requeue_claimed_before(self.clock() + timedelta(seconds=1))

    def _requeue_claimed_before(self, moment: datetime) -> None:
        before = iso(moment)
        requeued = self.store.alerts.requeue_stale(before)
        requeued += self.store.digests.requeue_stale(before)
        requeued += self.store.notices.requeue_stale(before)
        if requeued:
            log.warning("%d post(s) left claimed by a stopped process: requeued", requeued)

    def _deliver_digests(self, report: DeliveryReport) -> None:
        """Post every digest that is due; each counts once in the report."""
        if self._stop.is_set() or self._halt_batch:
            return
        runs = self.store.digests.claim(iso(self.clock()), claim=uuid.uuid4().hex)
        for index, run in enumerate(runs):
            if self._stop.is_set() or self._halt_batch or run.target in self._paused_targets:
                rest = [r.id for r in runs[index:]]
                self.store.digests.unclaim(rest)
                report.released += len(rest)
                return
            outcome = self._deliver_digest(run)
            setattr(report, outcome, getattr(report, outcome) + 1)

    def deliver_digest(self, run: DigestRun) -> str:
        """Post one claimed digest: sent, retrying, failed or released (claim lost)."""
        return self._deliver_digest(run)

    def _deliver_digest(self, run: DigestRun) -> str:
        """Post the parts of a digest not yet in Slack, the first as the thread's parent."""
        posting = False
        try:
            channel = run.slack_channel or self._channel_for(run.target)
            try:
                messages = digest_of_run(self.store, self.summarizer, run).messages
            except Exception as error:
                log.exception("digest %s could not be made", run.id)
                return self._fail(run, f"the digest could not be made: {error!r}")
            part, thread_ts = run.parts_posted, run.slack_ts
            if run.uncertain and part < len(messages):
                ts = self._find_digest_part(channel, run, part)
                if ts:
                    log.info("digest %s part %d had landed before (ts %s)", run.id, part, ts)
                    thread_ts = thread_ts or ts
                    part += 1
                    self.store.digests.part_posted(run.id, part, channel, thread_ts)
            if not self.store.digests.start_posting(run.id, run.claim, iso(self.clock())):
                log.warning("digest %s was taken over by another process", run.id)
                return "released"
            while part < len(messages):
                posting = True
                response = self._post(
                    channel,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata={
                        "event_type": DIGEST_EVENT_TYPE,
                        "event_payload": {"digest_id": run.id, "part": part},
                    },
                    **messages[part],
                )
                posting = False
                channel, thread_ts = response["channel"], thread_ts or response["ts"]
                part += 1
                self.store.digests.part_posted(run.id, part, channel, thread_ts)
        except HistoryUnavailable as error:
            return self._fail(
                run,
                f"outcome unknown: a digest post got no answer and the channel history "
                f"cannot be read ({error}); not posted again, to avoid a duplicate",
            )
        except SlackApiError as error:
            return self._api_failure(run, error, run.uncertain and not posting)
        except (SlackClientError, OSError) as error:
            uncertain = may_have_landed(error) if posting else run.uncertain
            return self._retry_later(run, f"could not reach Slack: {error}", uncertain)
        self.store.digests.finish(run.id, "sent")
        return "sent"

    def _find_digest_part(self, channel: str, run: DigestRun, part: int) -> str | None:
        """The ts of part `part` of the digest in Slack: the first in the channel's history,
        the others among the replies to it."""
        payload = {"digest_id": run.id, "part": part}
        since = run.attempted_at or run.created
        thread_ts = run.slack_ts if part > 0 else None
        return self._find_message(channel, since, DIGEST_EVENT_TYPE, payload, thread_ts)

    def _offer_more_matches(self) -> None:
        """One "N more matched today" message per target and day when the cap held some back,
        edited when a later cycle of the day holds more back (arXiv's listings can come in
        over two cycles). The day's offers are read once: a tick claims, renders and posts
        only for the targets whose offer is missing or counts another number."""
        now = self.clock()
        day = day_start(now)[:10]
        held_back = self.store.alerts.over_cap_counts(day_start(now), OVER_CAP_REASON)
        made = self.store.alerts.more_offers(day) if held_back else {}
        for target, held in held_back.items():
            if target in self._paused_targets:
                continue
            offer = made.get(target)
            try:
                if offer is None:
                    if self.store.alerts.claim_more_offer(target, day):
                        self._post_offer(target, day, held, now)
                # One made before its message was recorded, by an older version, has no ts:
                # it is left as it is.
                elif offer["slack_ts"] and offer["held"] != held:
                    self._update_offer(target, day, held, offer, now)
            except (SlackApiError, SlackClientError, OSError) as error:
                log.warning("could not offer %s the alerts over its cap: %s", target, error)

    def _post_offer(self, target: str, day: str, held: int, now: datetime) -> None:
        """Post the day's offer, claimed before it is posted so that two cycles never both
        make it; a post that fails gives the claim back for the next cycle."""
        try:
            channel = self._channel_for(target)
            posted = self._post(channel, **more_matches_message(held, now, now))
        except (SlackApiError, SlackClientError, OSError):
            self.store.alerts.release_more_offer(target, day)
            raise
        self.store.alerts.record_more_offer(target, day, channel, posted["ts"], held)

    def _update_offer(self, target: str, day: str, held: int, made: dict, now: datetime) -> None:
        """Edit the day's offer (`made`: where it was posted) to count the `held` papers."""
        channel, ts = made["slack_channel"], made["slack_ts"]
        self.client.chat_update(channel=channel, ts=ts, **more_matches_message(held, now, now))
        self.store.alerts.record_more_offer(target, day, channel, ts, held)

    def _deliver(self, delivery: Delivery) -> str:
        """Post one claimed row and record what happened: sent, retrying or failed."""
        posting = False
        try:
            channel = self._channel_for(delivery.target)
            if delivery.uncertain:
                ts = self._find_message(
                    channel,
                    delivery.attempted_at or delivery.created,
                    ALERT_EVENT_TYPE,
                    {"paper_id": delivery.paper_id},
                )
                if ts:
                    log.info("delivery %s had landed before (ts %s)", delivery.id, ts)
                    self.store.alerts.finish(delivery.id, "sent", slack_ts=ts, channel=channel)
                    return "sent"
            try:
                message = compose_alert(
                    self.store, self.summarizer, delivery.paper_id, matches_of(delivery)
                )
            except Exception as error:
                # The same on every try: this row fails alone and the queue moves on.
                log.exception("delivery %s: the alert could not be made", delivery.id)
                return self._fail(delivery, f"the alert could not be made: {error!r}")
            if not self.store.alerts.start_posting(delivery.id, delivery.claim, iso(self.clock())):
                log.warning("delivery %s was taken over by another process", delivery.id)
                return "released"
            posting = True
            response = self._post(
                channel,
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": ALERT_EVENT_TYPE,
                    "event_payload": {"paper_id": delivery.paper_id},
                },
                **message,
            )
        except HistoryUnavailable as error:
            return self._fail(
                delivery,
                f"outcome unknown: a post got no answer and the channel history cannot be "
                f"read ({error}); not posted again, to avoid a duplicate",
            )
        except SlackApiError as error:
            uncertain = delivery.uncertain and not posting
            return self._api_failure(delivery, error, uncertain)
        except (SlackClientError, OSError) as error:
            uncertain = may_have_landed(error) if posting else delivery.uncertain
            return self._retry_later(delivery, f"could not reach Slack: {error}", uncertain)
        self.store.alerts.finish(
            delivery.id, "sent", slack_ts=response["ts"], channel=response["channel"]
        )
        return "sent"

    def _post(self, channel: str, **message):
        """chat.postMessage, paced per channel, waiting out a few 429s."""
        for _ in range(self.settings.max_rate_limit_waits):
            self.pacer.wait(channel)
            try:
                return self.poster.chat_postMessage(channel=channel, **message)
            except SlackApiError as error:
                if error.response.status_code != 429:
                    raise
                wait = retry_after_seconds(error)
                log.info("Slack rate limit on %s: waiting %.0fs", channel, wait)
                self.pacer.hold(channel, wait)
        self.pacer.wait(channel)
        return self.poster.chat_postMessage(channel=channel, **message)

    def _channel_for(self, target: str) -> str:
        """A user id is delivered to the DM with that user; anything else is a channel."""
        if not target.startswith(("U", "W")):
            return target
        if target not in self._dm_channels:
            response = self.client.conversations_open(users=target)
            self._dm_channels[target] = response["channel"]["id"]
        return self._dm_channels[target]

    def _find_message(
        self,
        channel: str,
        since: str,
        event_type: str,
        payload: dict,
        thread_ts: str | None = None,
    ) -> str | None:
        """The ts of our message whose metadata has `event_type` and `payload`, posted since
        `since` in the channel (or in the thread of `thread_ts`); None if it is not there."""
        oldest = datetime.fromisoformat(since) - HISTORY_MARGIN
        if thread_ts is None:
            read = self.client.conversations_history
        else:
            read = partial(self.client.conversations_replies, ts=thread_ts)
        cursor = None
        for _ in range(HISTORY_MAX_PAGES):
            try:
                response = read(
                    channel=channel,
                    oldest=f"{oldest.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=HISTORY_PAGE_SIZE,
                    cursor=cursor,
                )
            except SlackApiError as error:
                status = error.response.status_code
                if status == 429 or status >= 500:
                    raise
                raise HistoryUnavailable(error.response.get("error") or f"HTTP {status}") from None
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                found = metadata.get("event_payload") or {}
                if metadata.get("event_type") == event_type and all(
                    found.get(key) == value for key, value in payload.items()
                ):
                    return message["ts"]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    # The outcome of an alert row or of a digest (`delivery` is either) is recorded by the
    # methods below; only _fail and _retry_later write, to the row's or the digest's table.

    def _api_failure(
        self, delivery: Delivery | DigestRun, error: SlackApiError, uncertain: bool
    ) -> str:
        status = error.response.status_code
        reason = error.response.get("error") or f"HTTP {status}"
        if reason in TOKEN_ERRORS:
            return self._token_failure(delivery, reason)
        if reason in PERMANENT_ERRORS:
            return self._target_failure(delivery, reason)
        if status == 429 or status >= 500 or reason in TRANSIENT_ERRORS:
            return self._retry_later(delivery, f"Slack answered {reason}", uncertain)
        # Anything else (invalid_blocks, msg_too_long...) fails the same way on every try.
        return self._fail(delivery, f"Slack answered {reason}")

    def _retry_later(self, delivery: Delivery | DigestRun, reason: str, uncertain: bool) -> str:
        if delivery.attempts >= self.settings.max_attempts:
            if uncertain:
                reason += "; it may have been posted without Slack confirming"
            return self._fail(delivery, f"{reason} (gave up after {delivery.attempts} tries)")
        next_attempt = self._next_attempt(delivery.attempts)
        if isinstance(delivery, DigestRun):
            self.store.digests.retry_later(delivery.id, reason, next_attempt, uncertain=uncertain)
        else:
            self.store.alerts.retry_later(delivery.id, reason, next_attempt, uncertain=uncertain)
        log.info("%s retried after %s: %s", describe(delivery), next_attempt, reason)
        # Slack is struggling: leave the rest of the batch for a later cycle.
        self._halt_batch = True
        return "retrying"

    def _next_attempt(self, attempts: int) -> str:
        """When to try again after `attempts` tries: exponential backoff, capped."""
        delay = min(
            self.settings.retry_base_seconds * 2 ** (attempts - 1),
            self.settings.retry_max_seconds,
        )
        return iso(self.clock() + timedelta(seconds=delay))

    def _fail(self, delivery: Delivery | DigestRun, reason: str) -> str:
        if isinstance(delivery, DigestRun):
            self.store.digests.finish(delivery.id, "failed", error=reason)
        else:
            self.store.alerts.finish(delivery.id, "failed", error=reason)
        log.warning("%s to %s failed: %s", describe(delivery), delivery.target, reason)
        return "failed"

    def _target_failure(self, delivery: Delivery | DigestRun, reason: str) -> str:
        """Fail the row, pause the target's subscriptions and tell their owners once."""
        self._fail(delivery, reason)
        self._paused_targets.add(delivery.target)
        paused = self.store.subscriptions.pause_target(delivery.target, f"Slack answered {reason}")
        if paused:
            log.warning("paused %d subscription(s) of %s", len(paused), delivery.target)
            self._tell_owners(paused, delivery.target, reason)
        return "failed"

    def _token_failure(self, delivery: Delivery | DigestRun, reason: str) -> str:
        """The bot token stopped working: pause everything; no DM could be sent anyway."""
        self._fail(delivery, reason)
        paused = self.store.subscriptions.pause_all(
            f"Slack answered {reason}: the bot token no longer works"
        )
        log.error("Slack answered %s: paused all %d subscription(s)", reason, len(paused))
        self._halt_batch = True
        return "failed"

    def _tell_owners(self, paused: list[Subscription], target: str, reason: str) -> None:
        """Queue one DM per owner about the subscriptions just paused, unless that DM is
        the destination that failed; the notices go out at the end of the batch."""
        owners: dict[str, list[Subscription]] = {}
        for subscription in paused:
            owners.setdefault(subscription.owner, []).append(subscription)
        for owner, subscriptions in owners.items():
            if owner == target or self._dm_channels.get(owner) == target:
                continue
            topics = ", ".join(f"#{s.id} “{s.topic}”" for s in subscriptions)
            text = (
                f"I paused your paper alerts to <#{target}> ({topics}): Slack answered "
                f"`{reason}` when I posted there. Invite me to the channel or pick another "
                "one, then resume the subscription (see `/papers list`)."
            )
            if target.startswith(("U", "W")):
                text = text.replace(f"<#{target}>", f"<@{target}>")
            self.store.notices.queue(owner, text)

    # Notices to owners: posted once, retried across cycles, never posted twice.

    def _deliver_notices(self) -> None:
        """Post every notice that is due; one Slack refuses for now waits for a later cycle."""
        for notice in self.store.notices.due(iso(self.clock())):
            if self._stop.is_set():
                return
            if self.store.notices.claim(notice.id, iso(self.clock())):
                self._deliver_notice(notice)

    def _deliver_notice(self, notice: Notice) -> None:
        """Post one claimed notice to its user's DM, unless an unanswered post of it landed."""
        posting = False
        try:
            channel = self._channel_for(notice.user)
            if notice.uncertain:
                ts = self._find_message(
                    channel,
                    notice.attempted_at or notice.created,
                    NOTICE_EVENT_TYPE,
                    {"notice_id": notice.id},
                )
                if ts:
                    self.store.notices.finish(notice.id, "sent", slack_ts=ts)
                    return
            posting = True
            response = self._post(
                channel,
                text=notice.text,
                metadata={
                    "event_type": NOTICE_EVENT_TYPE,
                    "event_payload": {"notice_id": notice.id},
                },
            )
        except HistoryUnavailable as error:
            self._fail_notice(notice, f"outcome unknown: the DM history cannot be read ({error})")
            return
        except SlackApiError as error:
            status = error.response.status_code
            reason = error.response.get("error") or f"HTTP {status}"
            if status == 429 or status >= 500 or reason in TRANSIENT_ERRORS:
                uncertain = notice.uncertain and not posting
                self._retry_notice_later(notice, f"Slack answered {reason}", uncertain)
            else:
                self._fail_notice(notice, f"Slack answered {reason}")
            return
        except (SlackClientError, OSError) as error:
            uncertain = may_have_landed(error) if posting else notice.uncertain
            self._retry_notice_later(notice, f"could not reach Slack: {error}", uncertain)
            return
        self.store.notices.finish(notice.id, "sent", slack_ts=response["ts"])

    def _retry_notice_later(self, notice: Notice, reason: str, uncertain: bool) -> None:
        attempts = notice.attempts + 1  # the claim counted this try
        if attempts >= self.settings.max_attempts:
            if uncertain:
                reason += "; it may have been posted without Slack confirming"
            self._fail_notice(notice, f"{reason} (gave up after {attempts} tries)")
            return
        next_attempt = self._next_attempt(attempts)
        self.store.notices.retry_later(notice.id, reason, next_attempt, uncertain=uncertain)
        log.info(
            "notice %s to %s retried after %s: %s", notice.id, notice.user, next_attempt, reason
        )

    def _fail_notice(self, notice: Notice, reason: str) -> None:
        self.store.notices.finish(notice.id, "failed", error=reason)
        log.warning("could not tell %s (notice %s): %s", notice.user, notice.id, reason)
