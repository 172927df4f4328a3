"""Block Kit for the Slack app: help, search results, subscriptions, saved papers, status,
the Home tab and the "Add subscription" modal.

Everything from outside (titles, authors, topics, queries) goes through blocks.fit or
blocks.link, which escape mrkdwn and cut at a word with an ellipsis, so a paper titled
`<!channel>` pings nobody and no block passes Slack's limits.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from bot.blocks import bold, escape, fit, link, short_authors, truncate
from bot.commands import SearchQuery
from bot.papers import Paper
from bot.search import read_as_note
from bot.storage import Subscription
from bot.subscriptions import (
    NewSubscription,
    conditions,
    is_personal,
    matched_on,
    not_wanted_note,
    reach_note,
    same_topic_note,
    unknown_words_note,
)

# Slack's limits (PITFALLS.md) and our own, well inside them.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_HEADER = 150
MAX_BUTTON_VALUE = 2000
MAX_SECTION = 3000
MAX_FALLBACK = 300
MAX_SUMMARY_LINE = 200
MAX_TOPIC = 200
PAGE_SIZE = 5
HOME_SUBSCRIPTIONS = 25
# `/papers list` and `/papers saved` show a page at a time, inside one message's 50 blocks.
LIST_PAGE = 20
SAVED_PAGE = 15
HOME_PAPERS = 10

# Action ids. The alert buttons (paper_relevant, paper_not_relevant, paper_save) are
# rendered by bot/blocks.py; more-like-this and mute carry the same {"paper", "sub"} value.
RELEVANT = "paper_relevant"
NOT_RELEVANT = "paper_not_relevant"
SAVE = "paper_save"
UNSAVE = "paper_unsave"
MORE_LIKE_THIS = "paper_more_like"
MUTE_TOPIC = "paper_mute_topic"
SUBSCRIBE_TO_PAPER = "paper_subscribe"
SEARCH_NEXT = "search_next"
SUB_PAUSE = "sub_pause"
SUB_RESUME = "sub_resume"
SUB_REMOVE = "sub_remove"
HOME_ADD = "home_add_subscription"
ADD_SUBSCRIPTION_MODAL = "add_subscription"

FEEDBACK_LABELS = {RELEVANT: "Relevant", NOT_RELEVANT: "Not relevant"}
# The block id of the note under a paper's buttons once it is judged (feedback_marked).
FEEDBACK_NOTE = "feedback_note:"
# The block id of a new subscription's Pause / Remove buttons, under the papers it shows to
# judge: those buttons answer apart instead of replacing the reply.
NEW_SUBSCRIPTION_BUTTONS = "new_subscription"
STRICTNESS = (("strict", "Strict: fewer, closer papers"), ("normal", "Normal"), ("broad", "Broad"))
CADENCE_LABELS = {"instant": "As they arrive", "daily": "Daily digest", "weekly": "Weekly digest"}

HELP_LINES = (
    ("search <query>", "search sparse attention long context since:7d cat:cs.CL"),
    ("subscribe <topic>", "subscribe diffusion models for video"),
    ("subscribe here <topic>", "subscribe here protein structure prediction"),
    ("subscribe #channel <topic>", "subscribe #vision-papers video generation"),
    ("list [page]", "list"),
    ("unsubscribe <id or topic>", "unsubscribe 12"),
    ("pause <id>", "pause 12"),
    ("resume <id>", "resume 12"),
    ("threshold <id> stricter|looser|<0-1>", "threshold 12 stricter"),
    ("digest <id> instant|daily|weekly", "digest 12 daily"),
    ("like <arXiv id or URL>", "like https://arxiv.org/abs/2608.19199"),
    ("saved [page]", "saved"),
    ("status", "status"),
)
ThresholdOf = Callable[[Subscription], float]
# Slack ids as they appear in payloads; anything else is not put into a mention.
SLACK_ID = re.compile(r"^[A-Z0-9]{2,20}$")


def text_message(text: str) -> dict:
    """A short reply; `text` is our own mrkdwn with any outside parts already escaped."""
    return {"text": text, "blocks": [section(text)]}


def help_message(unknown: str | None = None) -> dict:
    """The list of subcommands with an example of each."""
    lines = [f"• `{usage}`: e.g. `/papers {example}`" for usage, example in HELP_LINES]
    intro = "*/papers* commands:"
    if unknown:
        intro = f"I don't know `{fit(unknown, 50)}`. " + intro
    text = intro + "\n" + "\n".join(lines)
    return {"text": "paperbot help", "blocks": [section(text)]}


def search_results(
    query: SearchQuery, papers: list[Paper], offset: int, has_more: bool, spelling: str
) -> dict:
    """One page of search results: each paper with its buttons, and a button for more; and
    what was said of the query's words that no stored paper contains (search.spelling_note)."""
    shown = fit(query.text, 200)
    spelling = f" {escape(spelling)}" if spelling else ""
    if not papers:
        where = "more " if offset else ""
        text = f"No {where}stored papers match “{shown}”{filters_note(query)}."
        return text_message(text + " Try fewer words or drop a filter." + spelling)
    # Quoted, not bold: a `*` typed in the query would end the bold early.
    heading = f"Papers for “{shown}”{filters_note(query)} ({offset + 1}–{offset + len(papers)})"
    if query.shortened:
        heading += " (your query was cut to its first words)"
    blocks = [section(heading)]
    if spelling:
        blocks.append(context(spelling.strip()))
    for paper in papers:
        blocks.extend(paper_blocks(paper, search_buttons(paper)))
    next_value = json.dumps(
        {
            "q": query.text,
            "since": query.since,
            "cat": list(query.categories),
            "au": list(query.authors),
            "o": offset + len(papers),
        }
    )
    if has_more and len(next_value) <= MAX_BUTTON_VALUE:
        blocks.append(actions([button("Next 5", SEARCH_NEXT, next_value)]))
    return {"text": fit(f"Papers for {query.text}", MAX_FALLBACK), "blocks": blocks}


def filters_note(query: SearchQuery) -> str:
    parts = []
    if query.since:
        parts.append(f"since {query.since}")
    if query.categories:
        parts.append("in " + ", ".join(query.categories))
    if query.authors:
        parts.append("by " + ", ".join(query.authors))
    return fit(" (" + "; ".join(parts) + ")", 300) if parts else ""


def paper_blocks(paper: Paper, buttons: list[dict] | None = None, note: str = "") -> list[dict]:
    """Title link, byline, one-line summary, an optional note about the paper and optional
    buttons: 2 to 4 blocks."""
    byline = " · ".join(p for p in (short_authors(paper.authors), paper_date(paper)) if p)
    text = f"*{link(paper.url, paper.title)}*"
    if byline:
        text += "\n" + fit(byline, 500)
    summary = one_line(paper.abstract)
    blocks = [section(text)]
    if summary:
        blocks.append(context(fit(summary, MAX_SUMMARY_LINE)))
    if note:
        blocks.append(context(note))
    if buttons:
        blocks.append(actions(buttons))
    return blocks


def paper_value(paper: Paper, subscription_id: int | None = None) -> str | None:
    """The button value naming a paper (and the subscription it was sent for)."""
    value = json.dumps({"paper": paper.id, "sub": subscription_id})
    return value if len(value) <= MAX_BUTTON_VALUE else None


def search_buttons(paper: Paper) -> list[dict]:
    value = paper_value(paper)
    if value is None:
        return []
    return [
        button("Save", SAVE, value),
        button("More like this", MORE_LIKE_THIS, value),
        button("Subscribe to this topic", SUBSCRIBE_TO_PAPER, value),
    ]


def paper_date(paper: Paper) -> str:
    date = paper.published or paper.updated or ""
    return date[:10] if re.match(r"\d{4}-\d{2}-\d{2}", date) else date


def one_line(abstract: str) -> str:
    """The abstract's first sentence, as one line."""
    text = " ".join(abstract.split())
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text, maxsplit=1)[0]
    return truncate(sentence, MAX_SUMMARY_LINE)


def papers_message(
    title: str, papers: list[Paper], buttons=None, empty: str = "", note: str = ""
) -> dict:
    """A titled list of papers (saved papers, more like this), each with optional buttons,
    and a `note` under them (such as which page this is)."""
    if not papers:
        return text_message(empty or "Nothing to show.")
    blocks = [section(title)]
    for paper in papers[: (MAX_MESSAGE_BLOCKS - 2) // 3]:
        blocks.extend(paper_blocks(paper, buttons(paper) if buttons else None))
    if note:
        blocks.append(context(note))
    return {"text": title, "blocks": blocks}


def page_note(name: str, page: int, shown: int, size: int, total: int) -> str:
    """`Showing 21–40 of 60. `/papers list 3` shows the next 20.`; empty when all fit."""
    start = (page - 1) * size
    if page == 1 and shown == total:
        return ""
    note = f"Showing {start + 1}–{start + shown} of {total}."
    rest = total - start - shown
    if rest > 0:
        note += f" `/papers {name} {page + 1}` shows the next {min(rest, size)}."
    return note


def no_such_page(name: str, page: int, total: int, size: int) -> dict:
    pages = -(-total // size)
    return text_message(
        f"There is no page {page}: {total} fit on {pages} pages; try `/papers {name} {pages}`."
    )


def saved_buttons(paper: Paper) -> list[dict]:
    value = paper_value(paper)
    return [button("Remove", UNSAVE, value)] if value else []


def where(subscription: Subscription) -> str:
    """Where a subscription delivers: your DM, or a channel mention."""
    target = subscription.target
    if target == subscription.owner or target.startswith(("U", "W", "D")):
        return "your DM"
    return f"<#{target}>" if SLACK_ID.match(target) else fit(target, 80)


def describe(subscription: Subscription, threshold: float) -> str:
    """`#12 *topic* → your DM · daily · threshold 0.45 · category cs.CL · paused`."""
    parts = [
        f"#{subscription.id} {bold(fit(subscription.topic, MAX_TOPIC))} → {where(subscription)}",
        subscription.cadence,
        f"threshold {threshold:.2f}",
        *(fit(condition, 80) for condition in conditions(subscription)),
    ]
    if subscription.paused:
        parts.append("*paused*")
    return " · ".join(parts)


def subscription_buttons(subscription: Subscription) -> list[dict]:
    value = str(subscription.id)
    toggle = (
        button("Resume", SUB_RESUME, value)
        if subscription.paused
        else button("Pause", SUB_PAUSE, value)
    )
    remove = button("Remove", SUB_REMOVE, value, style="danger")
    remove["confirm"] = {
        "title": {"type": "plain_text", "text": "Remove subscription?"},
        "text": {"type": "plain_text", "text": f"Subscription #{subscription.id} stops for good."},
        "confirm": {"type": "plain_text", "text": "Remove"},
        "deny": {"type": "plain_text", "text": "Keep"},
    }
    return [toggle, remove]


def subscription_list(
    subscriptions: list[Subscription], threshold_of: ThresholdOf, page: int = 1
) -> dict:
    """`/papers list [page]`: each subscription with its settings and pause/remove buttons,
    LIST_PAGE at a time."""
    total = len(subscriptions)
    if not subscriptions:
        return text_message(
            "No subscriptions here yet. Start one with `/papers subscribe <topic>`."
        )
    start = (page - 1) * LIST_PAGE
    if start >= total:
        return no_such_page("list", page, total, LIST_PAGE)
    shown = subscriptions[start : start + LIST_PAGE]
    blocks = [section("*Subscriptions* (yours, and this channel's):")]
    for subscription in shown:
        blocks.append(section(describe(subscription, threshold_of(subscription))))
        blocks.append(actions(subscription_buttons(subscription)))
    note = page_note("list", page, len(shown), LIST_PAGE, total)
    if note:
        blocks.append(context(note))
    return {"text": f"{total} subscriptions", "blocks": blocks}


def subscribed_message(new: NewSubscription) -> dict:
    """The reply to a new subscription, with stored papers near its threshold to judge."""
    subscription = new.subscription
    blocks = [section("Subscribed: " + describe(subscription, new.threshold))]
    if read_as := matched_on(subscription):
        blocks.append(context(f"Papers are matched on {bold(fit(read_as, MAX_TOPIC))}."))
    if left_out := not_wanted_note(subscription.topic):
        blocks.append(context(escape(left_out)))
    if new.respelled:
        blocks.append(context(escape(read_as_note(new.respelled))))
    unsubscribe = "`/papers unsubscribe {}`".format
    if same := same_topic_note(new.same_topic, unsubscribe):
        blocks.append(context(escape(same)))
    if new.unknown_words:
        blocks.append(context(escape(unknown_words_note(new.unknown_words))))
    set_threshold = f"`/papers threshold {subscription.id} {{}}` sets it"
    if reach := reach_note(new.reach, is_personal(subscription), set_threshold.format):
        blocks.append(context(reach))
    if new.previews:
        blocks.append(
            context(
                "Would you want papers like these? They are stored papers near its threshold, "
                "each marked as one it would alert on or not: your answers set how picky it is, "
                "starting now."
            )
        )
        for shown in new.previews:
            paper = shown.paper
            side = (
                "It would alert on this one."
                if shown.would_alert
                else "It would not alert on this one."
            )
            blocks.extend(paper_blocks(paper, feedback_buttons(paper, subscription.id), side))
    else:
        blocks.append(
            context(
                "No paper is stored yet to show what it would match. If its first alerts "
                f"miss the mark, try `/papers threshold {subscription.id} stricter` or looser."
            )
        )
    buttons = actions(subscription_buttons(subscription))
    buttons["block_id"] = NEW_SUBSCRIPTION_BUTTONS
    blocks.append(buttons)
    return {"text": fit("Subscribed to " + subscription.topic, MAX_FALLBACK), "blocks": blocks}


def subscription_changed(subscription: Subscription, done: str) -> dict:
    """The answer to Pause, Resume or Remove (`done`: "Paused", ...) on a subscription."""
    text = f"{done} {bold(quote(subscription.topic))} (#{subscription.id})."
    if done == "Paused":
        text += f" `/papers resume {subscription.id}` turns it back on."
    return text_message(text)


def feedback_buttons(paper: Paper, subscription_id: int) -> list[dict]:
    """Relevant / Not relevant for a paper shown for a subscription, as on its alerts."""
    value = paper_value(paper, subscription_id)
    if value is None:
        return []
    return [
        button(FEEDBACK_LABELS[RELEVANT], RELEVANT, value),
        button(FEEDBACK_LABELS[NOT_RELEVANT], NOT_RELEVANT, value),
    ]


def feedback_noted(paper: Paper, relevant: bool, threshold_sentence: str) -> dict:
    """The answer to a judgment made on an ephemeral message, which cannot be marked;
    `threshold_sentence` is subscriptions.threshold_after_judgment()."""
    verdict = "relevant" if relevant else "not relevant"
    title = fit(paper.title, 200)
    return text_message(f"Noted: {title} is {verdict}. {threshold_sentence}")


def status_message(lines: list[str]) -> dict:
    """The status report; `lines` are mrkdwn with outside parts escaped by the caller."""
    text = truncate("\n".join(lines), MAX_SECTION)
    return {"text": "paperbot status", "blocks": [section(text)]}


def feedback_marked(
    blocks: list[dict], action_id: str, value: str, user: str, topic: str, threshold_sentence: str
) -> list[dict]:
    """A message's blocks after `user` pressed relevant / not relevant on the buttons that
    carry `value` (one paper's), for the subscription to `topic`: those buttons show the
    choice, with a note under them that names the subscription (an alert may have matched
    several) and where the judgment left its threshold (`threshold_sentence`:
    subscriptions.threshold_after_judgment()). A message of several papers (a new
    subscription's previews in a DM) keeps the other papers' buttons and notes as they were."""
    mention = f"<@{user}>" if SLACK_ID.match(user) else "Someone"
    verdict = "relevant" if action_id == RELEVANT else "not relevant"
    note = context(
        f"{mention} marked this {verdict} for {bold(fit(topic, MAX_TOPIC))}. {threshold_sentence}"
    )
    # Block ids must be unique in a message: each paper's note is named after its buttons.
    note["block_id"] = FEEDBACK_NOTE + hashlib.sha1(value.encode()).hexdigest()[:16]
    marked = []
    for block in blocks:
        # Alerts posted before notes were named per paper carry their one note as
        # "feedback_note".
        if block.get("block_id") in (note["block_id"], "feedback_note"):
            continue
        if block.get("type") == "actions" and any(
            e.get("value") == value and e.get("action_id") in FEEDBACK_LABELS
            for e in block["elements"]
        ):
            marked.append({**block, "elements": [_mark(e, action_id) for e in block["elements"]]})
            marked.append(note)
            continue
        marked.append(block)
    return marked


def _mark(element: dict, chosen: str) -> dict:
    """A feedback button labelled with a check when it is the chosen one."""
    action_id = element.get("action_id")
    if action_id not in FEEDBACK_LABELS:
        return element
    label = FEEDBACK_LABELS[action_id]
    marked = {**element, "text": {"type": "plain_text", "text": label}}
    marked.pop("style", None)
    if action_id == chosen:
        marked["text"]["text"] = "✓ " + label
        marked["style"] = "primary"
    return marked


def home_view(
    subscriptions: list[Subscription],
    saved: list[Paper],
    recent: list[Paper],
    threshold_of: ThresholdOf,
    saved_total: int = 0,
) -> dict:
    """The Home tab: subscriptions with controls, saved papers (`saved_total` of them in
    all), recent alerts. Longer lists say how many are not shown and where to see them."""
    blocks = [
        header("Your paper alerts"),
        actions([button("Add subscription", HOME_ADD, "add", style="primary")]),
        header("Subscriptions"),
    ]
    if not subscriptions:
        blocks.append(context("None yet: add one above, or type `/papers subscribe <topic>`."))
    for subscription in subscriptions[:HOME_SUBSCRIPTIONS]:
        blocks.append(section(describe(subscription, threshold_of(subscription))))
        blocks.append(actions(subscription_buttons(subscription)))
    if len(subscriptions) > HOME_SUBSCRIPTIONS:
        hidden = len(subscriptions) - HOME_SUBSCRIPTIONS
        blocks.append(context(f"and {hidden} more: `/papers list` shows every one, by pages."))
    blocks.append(header("Saved papers"))
    blocks.extend(_paper_lines(saved, "Nothing saved yet: press Save on an alert."))
    if saved_total > len(saved[:HOME_PAPERS]):
        hidden = saved_total - len(saved[:HOME_PAPERS])
        blocks.append(context(f"and {hidden} more: `/papers saved` shows every one, by pages."))
    blocks.append(header("Recent alerts"))
    blocks.extend(_paper_lines(recent, "No alerts sent to you yet."))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _paper_lines(papers: list[Paper], empty: str) -> list[dict]:
    if not papers:
        return [context(empty)]
    return [
        section(f"• {link(p.url, p.title)}" + (f" · {paper_date(p)}" if paper_date(p) else ""))
        for p in papers[:HOME_PAPERS]
    ]


def add_subscription_modal(channel: str | None = None) -> dict:
    """The modal behind "Add subscription": topic, DM or channel, cadence, strictness."""
    channel_select = {
        "type": "conversations_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": "Leave empty for a direct message"},
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel and SLACK_ID.match(channel) and channel.startswith(("C", "G")):
        channel_select["initial_conversation"] = channel
    return {
        "type": "modal",
        "callback_id": ADD_SUBSCRIPTION_MODAL,
        "title": {"type": "plain_text", "text": "Add subscription"},
        "submit": {"type": "plain_text", "text": "Subscribe"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "topic",
                "label": {"type": "plain_text", "text": "Topic"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 500,
                    "placeholder": {"type": "plain_text", "text": "diffusion models for video"},
                },
            },
            {
                "type": "input",
                "block_id": "channel",
                "optional": True,
                "label": {"type": "plain_text", "text": "Channel (empty: your DM)"},
                "element": channel_select,
            },
            _select("cadence", "How often", list(CADENCE_LABELS.items()), "instant"),
            _select("strictness", "Strictness", list(STRICTNESS), "normal"),
        ],
    }


def _select(block_id: str, label: str, choices: list[tuple[str, str]], initial: str) -> dict:
    options = [option(value, text) for value, text in choices]
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "static_select",
            "action_id": "value",
            "options": options,
            "initial_option": next(o for o in options if o["value"] == initial),
        },
    }


def option(value: str, text: str) -> dict:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


# -- building blocks --------------------------------------------------------------


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION)}}


def context(text: str) -> dict:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate(text, MAX_SECTION)}],
    }


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER)}}


def actions(elements: list[dict]) -> dict:
    return {"type": "actions", "elements": elements}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict:
    element = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": truncate(label, 75)},
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def apology(what_to_try: str = "") -> str:
    """What a user sees when something failed on our side; details are in the log."""
    hint = what_to_try or "Try again in a minute; if it keeps failing, tell whoever runs paperbot."
    return f"Sorry, something went wrong on my side. {hint}"


def quote(text: str) -> str:
    """Outside text shown inline in a reply."""
    return escape(" ".join(text.split()))
