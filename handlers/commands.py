"""The /papers slash command: acknowledge, parse, call a service in bot/, render the answer."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_sdk import WebClient

from bot import subscriptions as subs
from bot import views
from bot.blocks import bold
from bot.commands import Command, parse
from bot.discover import search_page
from bot.search import spelling_note
from bot.services import Services
from bot.status_report import status_lines
from handlers.common import Reply, apologising, refresh_home, threshold_getter

log = logging.getLogger(__name__)


class Caller:
    """Who typed the command, where, and what answers them."""

    def __init__(self, body: dict, client: WebClient, services: Services):
        self.user = body.get("user_id", "")
        self.channel = body.get("channel_id") or None
        self.client = client
        self.services = services
        self.reply = Reply(body.get("response_url"))
        self.is_member = subs.slack_membership(client)


def register(app: App, services: Services, work: Executor) -> None:
    def papers_command(ack, body, client):
        ack()
        work.submit(answer, Caller(body, client, services), body.get("text"))

    app.command("/papers")(papers_command)


def answer(caller: Caller, text: str | None) -> None:
    with apologising(caller.reply, "/papers"):
        command = parse(text)
        log.info("/papers %s from %s", command.name, caller.user)
        run(command, caller)


def run(command: Command, caller: Caller) -> None:
    """Do what the parsed command asks and answer the caller."""
    if command.error:
        caller.reply.text(command.error)
        return
    HANDLERS.get(command.name, show_help)(command, caller)


def show_help(command: Command, caller: Caller) -> None:
    caller.reply(views.help_message(command.unknown))


def search(command: Command, caller: Caller) -> None:
    services = caller.services
    papers, more = search_page(services.search, command.query, 0, views.PAGE_SIZE)
    spelling = spelling_note(services.store, command.query.text)
    caller.reply(views.search_results(command.query, papers, 0, more, spelling))


def subscribe(command: Command, caller: Caller) -> None:
    services = caller.services
    target = resolve_target(command.channel, caller)
    subscription = subs.subscribe(
        services.store, services.embedder, topic=command.text, owner=caller.user, target=target
    )
    answer_subscribed(subscription, caller, command.text)


def answer_subscribed(subscription, caller: Caller, typed: str = "") -> None:
    """The reply to a new subscription (to the topic `typed`): what it is and what it would
    have matched."""
    new = subs.introduce(caller.services.matcher, subscription, typed)
    caller.reply(views.subscribed_message(new))
    refresh_home(caller.client, caller.services, caller.user)


def resolve_target(channel: str | None, caller: Caller) -> str:
    """The target a subscribe command names: the caller's DM, or a channel they are in."""
    if channel is None:
        return caller.user
    if channel == "here":
        channel = caller.channel or ""
        if not channel or channel.startswith("D"):
            return caller.user
    elif channel.startswith("#"):
        channel = channel_id_by_name(caller.client, channel[1:])
    if not caller.is_member(caller.user, channel):
        raise subs.SubscriptionError(
            "Only members of a channel can subscribe it, and I can only see channels "
            "I have been added to: join it (or `/invite @paperbot` there) and try again."
        )
    return channel


def channel_id_by_name(client: WebClient, name: str) -> str:
    """A channel's id from its name (people type `#name` when Slack does not link it)."""
    for page in client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True, limit=1000
    ):
        for channel in page.get("channels", []):
            if channel.get("name") == name.lower():
                return channel["id"]
    raise subs.SubscriptionError(
        f"I can't find a channel called #{views.quote(name)}; pick it from Slack's "
        "autocomplete, or run `/papers subscribe here <topic>` in the channel."
    )


def list_subscriptions(command: Command, caller: Caller) -> None:
    found = subs.visible_subscriptions(
        caller.services.store, caller.user, caller.channel, caller.is_member
    )
    caller.reply(views.subscription_list(found, threshold_getter(caller.services), command.page))


def unsubscribe(command: Command, caller: Caller) -> None:
    store = caller.services.store
    if command.subscription_id is not None:
        removed = subs.unsubscribe(store, caller.user, command.subscription_id, caller.is_member)
    else:
        removed = subs.unsubscribe_topic(
            store, caller.user, caller.channel, command.text, caller.is_member
        )
    caller.reply.text(f"Removed #{removed.id} {bold(views.quote(removed.topic))}.")
    refresh_home(caller.client, caller.services, caller.user)


def pause(command: Command, caller: Caller) -> None:
    changed = subs.pause(
        caller.services.store, caller.user, command.subscription_id, caller.is_member
    )
    answer_changed(changed, f"Paused. `/papers resume {changed.id}` starts it again.", caller)


def resume(command: Command, caller: Caller) -> None:
    changed = subs.resume(
        caller.services.store, caller.user, command.subscription_id, caller.is_member
    )
    answer_changed(changed, "Resumed.", caller)


def threshold(command: Command, caller: Caller) -> None:
    services = caller.services
    changed = subs.set_threshold(
        services.store,
        caller.user,
        command.subscription_id,
        command.value,
        caller.is_member,
        services.matcher,
    )
    answer_changed(
        changed,
        "Threshold set. Set by hand, it stays there: your judgments still teach it what you "
        "like, but no longer move it.",
        caller,
    )


def digest(command: Command, caller: Caller) -> None:
    changed = subs.set_cadence(
        caller.services.store, caller.user, command.subscription_id, command.value, caller.is_member
    )
    answer_changed(changed, "Delivery changed.", caller)


def answer_changed(subscription, note: str, caller: Caller) -> None:
    threshold = subs.threshold_of(caller.services.matcher, subscription)
    caller.reply.text(f"{note}\n{views.describe(subscription, threshold)}")
    refresh_home(caller.client, caller.services, caller.user)


def like(command: Command, caller: Caller) -> None:
    services = caller.services
    paper = subs.find_arxiv_paper(
        services.store,
        services.command_fetcher,
        services.settings.fetch.arxiv_api_url,
        command.text,
    )
    services.pipeline.embed_missing()
    subscription = subs.like(
        services.store, services.embedder, services.matcher, paper, owner=caller.user
    )
    answer_subscribed(subscription, caller)


def saved(command: Command, caller: Caller) -> None:
    store, size = caller.services.store, views.SAVED_PAGE
    total = store.saved.count(caller.user)
    papers = store.saved.papers(caller.user, limit=size, offset=(command.page - 1) * size)
    if total and not papers:
        caller.reply(views.no_such_page("saved", command.page, total, size))
        return
    caller.reply(
        views.papers_message(
            "*Your saved papers:*",
            papers,
            views.saved_buttons,
            empty="You have no saved papers yet: press *Save* on an alert or a search result.",
            note=views.page_note("saved", command.page, len(papers), size, total),
        )
    )


def status(command: Command, caller: Caller) -> None:
    services = caller.services
    schedule = services.settings.schedule
    lines = status_lines(services.store, schedule.poll_minutes, caller.user, schedule)
    caller.reply(views.status_message(lines))


HANDLERS = {
    "help": show_help,
    "search": search,
    "subscribe": subscribe,
    "list": list_subscriptions,
    "unsubscribe": unsubscribe,
    "pause": pause,
    "resume": resume,
    "threshold": threshold,
    "digest": digest,
    "like": like,
    "saved": saved,
    "status": status,
}
