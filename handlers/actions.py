"""Buttons: on alerts (relevant, not relevant, save, more like this, mute), on search results
(save, more like this, subscribe, next 5), on subscription lists and the Home tab, and on the
"N more matched today" offer."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Executor
from datetime import UTC, datetime

from slack_bolt import App
from slack_sdk import WebClient

from bot import subscriptions as subs
from bot import views
from bot.blocks import SHOW_MORE_ACTION, bold
from bot.commands import SearchQuery
from bot.digest import more_matches_message, show_more
from bot.discover import more_like_this, search_page
from bot.feedback import judge
from bot.services import Services
from handlers.common import Reply, apologising, refresh_home, threshold_getter

log = logging.getLogger(__name__)


class Click:
    """One button press: who, on what, and how to answer them."""

    def __init__(self, body: dict, client: WebClient, services: Services):
        self.body = body
        self.user = (body.get("user") or {}).get("id", "")
        self.channel = (body.get("channel") or {}).get("id")
        self.action = (body.get("actions") or [{}])[0]
        self.client = client
        self.services = services
        self.reply = Reply(body.get("response_url"))
        self.is_member = subs.slack_membership(client)

    @property
    def from_home(self) -> bool:
        return (self.body.get("view") or {}).get("type") == "home"

    def paper_and_subscription(self) -> tuple[str, int | None]:
        """The {"paper", "sub"} a paper button carries; SubscriptionError if it is not that."""
        try:
            value = json.loads(self.action.get("value") or "")
            paper_id, subscription_id = str(value["paper"]), value.get("sub")
        except (ValueError, KeyError, TypeError):
            raise subs.SubscriptionError("That button is out of date; search again.") from None
        if subscription_id is not None and not isinstance(subscription_id, int):
            raise subs.SubscriptionError("That button is out of date; search again.")
        return paper_id, subscription_id

    def subscription_id(self) -> int:
        value = self.action.get("value") or ""
        if not value.isdigit():
            raise subs.SubscriptionError("That button is out of date; run `/papers list`.")
        return int(value)


def register(app: App, services: Services, work: Executor) -> None:
    def listen(action_id: str, handle) -> None:
        def listener(ack, body, client):
            ack()
            work.submit(press, action_id, handle, Click(body, client, services))

        app.action(action_id)(listener)

    listen(views.RELEVANT, feedback)
    listen(views.NOT_RELEVANT, feedback)
    listen(views.SAVE, save)
    listen(views.UNSAVE, unsave)
    listen(views.MORE_LIKE_THIS, more_like)
    listen(views.MUTE_TOPIC, mute)
    listen(views.SUBSCRIBE_TO_PAPER, subscribe_to_paper)
    listen(views.SEARCH_NEXT, next_page)
    listen(views.SUB_PAUSE, pause)
    listen(views.SUB_RESUME, resume)
    listen(views.SUB_REMOVE, remove)
    listen(views.HOME_ADD, open_add_modal)
    listen(SHOW_MORE_ACTION, show_more_matches)


def press(action_id: str, handle, click: Click) -> None:
    log.info("button %s from %s", action_id, click.user)
    with apologising(click.reply, f"button {action_id}"):
        handle(click)


def known_paper(click: Click) -> tuple[str, int | None]:
    paper_id, subscription_id = click.paper_and_subscription()
    if click.services.store.papers.get(paper_id) is None:
        raise subs.SubscriptionError("I no longer have that paper stored.")
    return paper_id, subscription_id


def feedback(click: Click) -> None:
    """Relevant / not relevant: stored for the subscription that matched, which re-learns its
    profile from it; the alert shows the choice."""
    paper_id, subscription_id = known_paper(click)
    if subscription_id is None:
        raise subs.SubscriptionError("This message came from no subscription, so I can't learn.")
    store = click.services.store
    before = subs.subscription_for(store, click.user, subscription_id, click.is_member)
    relevant = click.action.get("action_id") == views.RELEVANT
    learned, threshold = judge(click.services.matcher, click.user, before, paper_id, relevant)
    if learned is None:
        return
    message = click.body.get("message")
    if not message:
        # An ephemeral message (a subscription's previews) has no message to mark.
        paper = store.papers.get(paper_id)
        click.reply(views.feedback_noted(paper, relevant, threshold))
    elif click.channel:
        action = click.action
        blocks = views.feedback_marked(
            message.get("blocks") or [],
            action["action_id"],
            action.get("value", ""),
            click.user,
            learned.topic,
            threshold,
        )
        click.client.chat_update(
            channel=click.channel, ts=message["ts"], text=message.get("text") or "", blocks=blocks
        )


def save(click: Click) -> None:
    paper_id, _ = known_paper(click)
    click.services.store.saved.add(click.user, paper_id)
    click.reply.text("Saved. `/papers saved` lists your saved papers.")
    refresh_home(click.client, click.services, click.user)


def unsave(click: Click) -> None:
    paper_id, _ = click.paper_and_subscription()
    click.services.store.saved.remove(click.user, paper_id)
    if not click.from_home:
        click.reply.text("Removed from your saved papers.")
    refresh_home(click.client, click.services, click.user)


def more_like(click: Click) -> None:
    """Similar stored papers, shown only to the person who asked."""
    paper_id, _ = known_paper(click)
    papers = more_like_this(click.services.search, paper_id)
    click.reply(
        views.papers_message(
            "*Papers like that one:*",
            papers,
            views.search_buttons,
            empty="No similar papers are stored yet.",
        )
    )


def mute(click: Click) -> None:
    """Pause the subscription an alert came from."""
    _, subscription_id = click.paper_and_subscription()
    if subscription_id is None:
        raise subs.SubscriptionError("This message came from no subscription.")
    muted = subs.pause(
        click.services.store, click.user, subscription_id, click.is_member, "muted from an alert"
    )
    click.reply.text(
        f"Muted {bold(views.quote(muted.topic))}. `/papers resume {muted.id}` turns it back on."
    )
    refresh_home(click.client, click.services, click.user)


def subscribe_to_paper(click: Click) -> None:
    """Subscribe the clicker's DM to papers like this one."""
    paper_id, _ = known_paper(click)
    services = click.services
    paper = services.store.papers.get(paper_id)
    subscription = subs.like(
        services.store, services.embedder, services.matcher, paper, owner=click.user
    )
    click.reply(views.subscribed_message(subs.introduce(services.matcher, subscription)))
    refresh_home(click.client, services, click.user)


def next_page(click: Click) -> None:
    try:
        value = json.loads(click.action.get("value") or "")
        query = SearchQuery(
            text=str(value["q"]),
            since=value.get("since"),
            categories=tuple(map(str, value.get("cat") or ())),
            authors=tuple(map(str, value.get("au") or ())),
        )
        offset = max(0, int(value["o"]))
    except (ValueError, KeyError, TypeError):
        raise subs.SubscriptionError("That button is out of date; search again.") from None
    papers, more = search_page(click.services.search, query, offset, views.PAGE_SIZE)
    # The first page named the query's words that no stored paper contains.
    click.reply(views.search_results(query, papers, offset, more, ""), replace_original=True)


def change_subscription(click: Click, change, done: str) -> None:
    """Pause, resume or remove from a list, a new subscription's reply or the Home tab,
    then show the new state: a list is shown again, changed; the reply to a new subscription
    stays as it is (its papers may still be judged), with a line saying what was `done`."""
    store = click.services.store
    subscription_id = click.subscription_id()
    changed = change(store, click.user, subscription_id, click.is_member)
    if click.action.get("block_id") == views.NEW_SUBSCRIPTION_BUTTONS:
        click.reply(views.subscription_changed(changed, done))
    elif not click.from_home:
        found = subs.visible_subscriptions(store, click.user, click.channel, click.is_member)
        message = views.subscription_list(found, threshold_getter(click.services))
        click.reply(message, replace_original=True)
    refresh_home(click.client, click.services, click.user)


def pause(click: Click) -> None:
    change_subscription(click, subs.pause, "Paused")


def resume(click: Click) -> None:
    change_subscription(click, subs.resume, "Resumed")


def remove(click: Click) -> None:
    change_subscription(click, subs.unsubscribe, "Removed")


def show_more_matches(click: Click) -> None:
    """Queue the alerts the daily cap held back from this DM or channel since the offer's
    day; the deliverer's next tick posts them (it is not run from here, where it would
    race the scheduler's own run)."""
    if not click.channel:
        raise subs.SubscriptionError("That button is out of date.")
    target = click.user if click.channel.startswith("D") else click.channel
    if target != click.user and not click.is_member(click.user, target):
        raise subs.SubscriptionError("Only members of this channel can ask for more of its papers.")
    day = offer_day(click)
    queued, still_held = show_more(click.services.store, target, day)
    message = click.body.get("message")
    if message:
        # The offer counts what is left, and loses its button once nothing is.
        offer = more_matches_message(still_held, day, datetime.now(UTC))
        click.client.chat_update(channel=click.channel, ts=message["ts"], **offer)
        click.services.store.alerts.record_more_offer(
            target, day.date().isoformat(), click.channel, message["ts"], still_held
        )
    if not queued:
        click.reply.text("Nothing more is held back; you have seen every match.")
        return
    noun = "paper" if queued == 1 else "papers"
    seconds = click.services.settings.schedule.tick_seconds
    click.reply.text(f"{queued} more {noun} on the way: they arrive within about {seconds} s.")


def offer_day(click: Click) -> datetime:
    """The start of the day the offer was made for (UTC), today if the button says none."""
    try:
        day = json.loads(click.action.get("value") or "")["day"]
        return datetime.fromisoformat(day).replace(tzinfo=UTC)
    except (ValueError, KeyError, TypeError):
        return datetime.now(UTC)


def open_add_modal(click: Click) -> None:
    click.client.views_open(
        trigger_id=click.body.get("trigger_id"), view=views.add_subscription_modal(click.channel)
    )
