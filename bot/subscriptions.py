"""Creating, listing and changing subscriptions; the topic is embedded once, when stored."""

from __future__ import annotations

import logging
import math
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import acronyms
from bot.commands import MAX_TOPIC, topic_too_long
from bot.embed import Embedder
from bot.fetch import Fetcher
from bot.match import (
    STRICTNESS_LEVELS,
    Matcher,
    contains_keyword,
    daily_cap,
    evidence,
    followed_author,
    has_filters,
    logit,
    passes_filters,
    threshold_for,
)
from bot.papers import Paper, arxiv_id
from bot.relevance import logistic
from bot.search import (
    names_a_subject,
    no_paper_contains,
    not_wanted,
    query_facets,
    respelled,
    respellings,
    subject,
    words_not_stored,
)
from bot.sources import parse_feed
from bot.storage import Store, Subscription, fulltext
from bot.storage.subscriptions import verdicts_of

log = logging.getLogger(__name__)

CADENCES = ("instant", "daily", "weekly")


class SubscriptionError(ValueError):
    """A subscription request that cannot be honoured; the message says why."""


def embedded_text(store: Store, topic: str) -> str:
    """What a topic is embedded from: its subject, with the acronyms the stored papers
    define spelled out (bot/acronyms.py)."""
    text = subject(topic)
    return acronyms.spelled_out(text, acronyms.defined(store, text))


def embedded_from(subscription: Subscription) -> str:
    """The text a subscription's topic was embedded from: `embedded_as`, or for one stored
    without it, its subject as embedded_text() read it before acronyms."""
    return subscription.embedded_as or subject(subscription.topic)


def matched_on(subscription: Subscription) -> str | None:
    """What a subscription is matched on, when that is not its topic as typed: the subject
    of a request ("papers about X" is X), its acronyms spelled out."""
    text = embedded_from(subscription)
    return text if text != subscription.topic else None


def respell_topics(store: Store, embedder: Embedder) -> int:
    """Embed again the active subscriptions whose text to embed (embedded_text) is not what
    they were embedded from: the stored papers now spell out their acronyms otherwise (a
    topic typed before any paper defined its "RAG"), or this version reads more of the
    request around their subject ("Show me X"); how many. One with seed papers is left as
    it is: one made from a paper (like()) has the paper's embedding. A learned profile keeps
    the vector it was learned from until the next judgment."""
    topics = [s for s in store.subscriptions.all(active_only=True) if not s.seed_papers]
    # The long forms of all their acronyms at once: two queries or three an acronym,
    # however many topics.
    defined = acronyms.defined(store, "\n".join(subject(s.topic) for s in topics))
    respelled = 0
    for subscription in topics:
        text = acronyms.spelled_out(subject(subscription.topic), defined)
        if text != embedded_from(subscription):
            store.subscriptions.set_embedding(subscription.id, embedder.encode_one(text), text)
            respelled += 1
    return respelled


def subscribe(
    store: Store,
    embedder: Embedder,
    *,
    topic: str,
    owner: str,
    target: str | None = None,
    threshold: float | None = None,
    cadence: str = "instant",
    strictness: str = "normal",
    seed_papers: list[str] = (),
    required: list[str] = (),
    excluded: list[str] = (),
    authors: list[str] = (),
    categories: list[str] = (),
) -> Subscription:
    """Subscribe `target` (default: the owner's DM) to papers about `topic`.

    `seed_papers` are stored paper ids the subscription is "like"; `required` and
    `excluded` keywords must all / must not appear; a paper by one of `authors` always
    alerts; `categories` limit alerts to those categories (see bot/match.py).
    """
    topic = " ".join(topic.split())
    target = target or owner
    if not names_a_subject(topic):
        raise SubscriptionError(
            "That topic names no subject to find papers on: give the words of a topic, e.g. "
            "'diffusion models for video'."
            if topic
            else "A subscription needs a topic, e.g. 'diffusion models for video'."
        )
    if len(topic) > MAX_TOPIC:
        raise SubscriptionError(topic_too_long(topic))
    if paper := paper_named(topic):
        raise SubscriptionError(
            f"That topic is a paper, {paper}, not the words of a topic: subscribe with the "
            f"words of its subject (in Slack, `/papers like {paper}` follows papers like it)."
        )
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise SubscriptionError(f"The threshold must be between 0 and 1, not {threshold}.")
    if cadence not in CADENCES:
        raise SubscriptionError(f"The cadence must be one of {', '.join(CADENCES)}.")
    if strictness not in STRICTNESS_LEVELS:
        raise SubscriptionError(f"The strictness must be one of {', '.join(STRICTNESS_LEVELS)}.")
    _check_keywords(topic, required, excluded)
    if any(not name.strip() for name in [*authors, *categories]):
        raise SubscriptionError(
            "An author or category is empty: give a name, such as 'Yann LeCun' or cs.CL, "
            "or drop it."
        )
    seeds = {text: stored_paper(store, text) for text in seed_papers}
    missing = sorted(text for text, paper in seeds.items() if paper is None)
    if missing:
        raise SubscriptionError(
            f"No stored paper has the id {missing[0]!r}: give the id of a stored paper, as "
            "search results show them, or its arXiv id or URL."
        )
    seed_papers = list(dict.fromkeys(paper.id for paper in seeds.values()))
    topic = respelled(topic, respellings(store, topic))
    wanted = _compared(
        topic, threshold, cadence, strictness, seed_papers, required, excluded, authors, categories
    )
    _refuse_duplicate(store, owner, target, lambda e: _compared_of(e) == wanted)
    text = embedded_text(store, topic)
    return store.subscriptions.add(
        owner=owner,
        target=target,
        topic=topic,
        embedding=embedder.encode_one(text),
        embedded_as=text,
        threshold=threshold,
        cadence=cadence,
        strictness=strictness,
        seed_papers=seed_papers,
        required=required,
        excluded=excluded,
        authors=authors,
        categories=categories,
    )


def paper_named(topic: str) -> str | None:
    """The arXiv id of a topic that is only a paper's arXiv id or link ("2608.19942v2",
    "arXiv:2608.19942", "https://arxiv.org/abs/2608.19942"); None for any other topic, one
    with such an id inside a word or another address among them."""
    token = topic.strip("<>").split("|")[0]
    if " " in token or (found := arxiv_id(token)) is None:
        return None
    bare = token.lower().removeprefix("arxiv:")
    return found[0] if "arxiv.org/" in bare or bare.startswith(found[0].lower()) else None


def _refuse_duplicate(
    store: Store, owner: str, target: str, same: Callable[[Subscription], bool]
) -> None:
    """Raise when `target` already has a subscription of `owner` that is the `same`."""
    for e in _delivering_to(store, owner, target):
        if same(e):
            raise SubscriptionError(
                f"Subscription #{e.id} already delivers this topic, typed there as "
                f"{e.topic!r}, with these settings; nothing was added."
            )


def _delivering_to(store: Store, owner: str, target: str) -> list[Subscription]:
    """The subscriptions of `owner` that deliver to `target`."""
    return [
        e for e in store.subscriptions.for_owner(owner=owner, channel=target) if e.target == target
    ]


def _compared_of(e: Subscription) -> tuple:
    """_compared() of a stored subscription."""
    return _compared(
        e.topic,
        e.threshold,
        e.cadence,
        e.strictness,
        e.seed_papers,
        e.required,
        e.excluded,
        e.authors,
        e.categories,
    )


def _check_keywords(topic: str, required: list[str], excluded: list[str]) -> None:
    if any(not word.strip() for word in [*required, *excluded]):
        raise SubscriptionError("A required or excluded keyword is empty: give a word or drop it.")
    both = {w.strip().lower() for w in required} & {w.strip().lower() for w in excluded}
    if both:
        raise SubscriptionError(
            f"'{sorted(both)[0]}' is both required and excluded, so no paper could match: "
            "keep it in one of the two."
        )
    named = [word for word in excluded if contains_keyword(subject(topic), word)]
    if named:
        raise SubscriptionError(
            f"The topic itself names '{named[0].strip()}', so excluding it would hold back the "
            "papers it is about: exclude another word, or change the topic."
        )


def _compared(topic, threshold, cadence, strictness, *lists) -> tuple:
    """What two subscriptions are compared on to find an exact duplicate: their topic's
    parts (_topic_parts()); keywords, authors and categories in any case."""
    lists = (sorted(item.lower() for item in items) for items in lists)
    return (_topic_parts(topic), threshold, cadence, strictness, *lists)


def _topic_parts(topic: str) -> list[tuple[str, ...]]:
    """The parts of the topic it is matched on (search.query_facets), in any order and each
    as the terms its words are indexed as, in any order, so "papers about X" has the parts
    of "X", "speech/audio" those of "audio and speech", and "structure prediction of
    proteins" those of "protein structure prediction"."""
    return sorted(tuple(sorted(fulltext.terms_of(part))) for part in query_facets(subject(topic)))


def same_topic(store: Store, subscription: Subscription) -> list[Subscription]:
    """The other subscriptions delivering the same topic (_topic_parts()) where this one
    delivers, with other settings: subscribe() refuses one with the same settings."""
    parts = _topic_parts(subscription.topic)
    return [
        e
        for e in _delivering_to(store, subscription.owner, subscription.target)
        if e.id != subscription.id and _topic_parts(e.topic) == parts
    ]


def same_topic_note(others: list[Subscription], unsubscribe: Callable[[int], str]) -> str:
    """What to tell a new subscription of same_topic()'s; `unsubscribe(id)` says how to
    remove one ("" for none)."""
    if not others:
        return ""
    first = others[0]
    return (
        f"Subscription #{first.id} already delivers this topic here, typed there as "
        f"{first.topic!r}, with other settings: if one is enough, {unsubscribe(first.id)} "
        "removes it."
    )


def conditions(subscription: Subscription) -> list[str]:
    """What a subscription asks beyond its topic, in words: "strict", "like 2608.19199",
    "requires 'video'", "excludes 'survey'", "author Yann LeCun", "category cs.CL"."""
    return [
        *([subscription.strictness] if subscription.strictness != "normal" else []),
        *(f"like {paper_id}" for paper_id in subscription.seed_papers),
        *(f"requires {word!r}" for word in subscription.required),
        *(f"excludes {word!r}" for word in subscription.excluded),
        *(f"author {name}" for name in subscription.authors),
        *(f"category {category}" for category in subscription.categories),
    ]


def not_wanted_note(topic: str) -> str:
    """What to tell a subscriber whose topic says what it does not want (search.not_wanted):
    it is left out of what is matched, which holds back no paper ("" if nothing)."""
    left = not_wanted(topic)
    return (
        f"'{left}' is left out of the topic, but papers that mention it can still alert."
        if left
        else ""
    )


def unknown_words_note(words: list[str]) -> str:
    """What to tell a subscriber about search.words_not_stored()."""
    pronoun = "it counts" if len(words) == 1 else "they count"
    return (
        f"{no_paper_contains(words)} yet, so {pronoun} for nothing until one does. "
        "If that is a misspelling, or not English, remove this subscription and subscribe again "
        "with the words the papers use."
    )


def reach_note(reach: Reach, personal: bool, set_threshold: Callable[[str], str]) -> str:
    """How many of the latest day's papers a new subscription would have alerted on, and when
    that is more than its target is posted at once, what becomes of the rest and the
    threshold that would have kept within it (`set_threshold(value)` says how to set it); ""
    before any paper is stored."""
    if not reach.papers:
        return ""
    of = f"Of the {reach.papers:,} papers stored on the latest day, it would have alerted on"
    if not reach.alerts:
        return (
            f"{of} none: it waits for papers closer to its topic. If papers like its previews "
            "are what you want, judging them relevant makes it ask less."
        )
    note = f"{of} {reach.alerts:,}."
    if not reach.over_cap:
        return note
    who = "you" if personal else "the channel"
    if reach.cycle_cap < reach.daily_cap:
        posted = f"At most {reach.cycle_cap} alerts a cycle, {reach.daily_cap} a day, are posted"
    else:
        posted = f"At most {reach.daily_cap} alerts a day are posted"
    note += f' {posted} to {who}; the rest are offered in one "N more matched today" message.'
    if reach.fewer is None:
        return note
    threshold, alerts = reach.fewer
    return (
        f"{note} With a threshold of {threshold:.2f} it would have alerted on {alerts:,}: "
        f"{set_threshold(f'{threshold:.2f}')}."
    )


def categories_not_stored(store: Store, categories: list[str]) -> list[str]:
    """Those of `categories` no stored paper is in (in any case), once papers are stored:
    a misspelt one would keep its subscription silent."""
    if not categories or store.papers.count() == 0:
        return []
    return [c for c in categories if not store.papers.filtered_ids(categories=[c])]


# -- managing subscriptions from Slack -----------------------------------------
#
# Who may do what: a personal subscription (delivered to a DM) is its owner's alone;
# nobody else can see, change or remove it, whatever id they type. A channel subscription
# can be seen and changed by the members of that channel. `is_member(user, channel)` is
# passed in so the rule is tested without Slack (see slack_membership for the real one).

# Why a removed subscription's alerts not posted yet are dropped (Alerts.withdraw).
REMOVED_REASON = "its subscription was removed"
# How far `threshold <id> stricter|looser` moves a subscription's threshold.
THRESHOLD_STEP = 0.05
PREVIEW_SIZE = 5
# The papers nearest the threshold that previews are picked from, those that pass the
# subscription's filters.
PREVIEW_POOL = 500

# The share of the stored papers a subscription to papers like one paper would have alerted
# on, which sets its threshold (like_threshold()): as many as a topic of medium breadth
# alerts on, 13 a day of dev_day's 1,132 papers (score_cli.py).
LIKE_SHARE = 0.01

MembershipCheck = Callable[[str, str], bool]


def is_personal(subscription: Subscription) -> bool:
    """True for a subscription delivered to a person (their user id or a DM channel)."""
    return subscription.target == subscription.owner or subscription.target.startswith(
        ("U", "W", "D")
    )


def may_manage(subscription: Subscription, user: str, is_member: MembershipCheck) -> bool:
    """Whether `user` may see and change `subscription`."""
    if is_personal(subscription):
        return subscription.owner == user
    return is_member(user, subscription.target)


def not_found(subscription_id: int) -> SubscriptionError:
    # The same words whether the id does not exist or belongs to someone else, so that
    # typing ids reveals nothing about other people's subscriptions.
    return SubscriptionError(
        f"You have no subscription #{subscription_id} (nor does a channel you are in). "
        "`/papers list` shows yours with their ids."
    )


def subscription_for(
    store: Store, user: str, subscription_id: int, is_member: MembershipCheck
) -> Subscription:
    """The subscription `user` asked for by id, if they may manage it; else SubscriptionError."""
    subscription = store.subscriptions.get(subscription_id)
    if subscription is None or not may_manage(subscription, user, is_member):
        raise not_found(subscription_id)
    return subscription


def visible_subscriptions(
    store: Store, user: str, channel: str | None, is_member: MembershipCheck
) -> list[Subscription]:
    """The user's own subscriptions and those of `channel`, that the user may manage."""
    found = store.subscriptions.for_owner(owner=user, channel=channel)
    return [s for s in found if may_manage(s, user, is_member)]


def pause(
    store: Store, user: str, subscription_id: int, is_member: MembershipCheck, reason: str = ""
) -> Subscription:
    subscription_for(store, user, subscription_id, is_member)
    return store.subscriptions.update(
        subscription_id, paused=1, paused_reason=reason or f"paused by {user}"
    )


def resume(store: Store, user: str, subscription_id: int, is_member: MembershipCheck):
    subscription_for(store, user, subscription_id, is_member)
    return store.subscriptions.update(subscription_id, paused=0, paused_reason=None)


def unsubscribe(
    store: Store, user: str, subscription_id: int, is_member: MembershipCheck
) -> Subscription:
    """Remove a subscription the user may manage; returns what was removed."""
    subscription = subscription_for(store, user, subscription_id, is_member)
    remove(store, subscription)
    return subscription


def remove(store: Store, subscription: Subscription) -> None:
    """Delete a subscription, and its alerts not posted yet (those no other subscription
    of their target matched too)."""
    store.alerts.withdraw(subscription.target, subscription.id, REMOVED_REASON)
    store.subscriptions.remove(subscription.id)


def unsubscribe_topic(
    store: Store, user: str, channel: str | None, topic: str, is_member: MembershipCheck
) -> Subscription:
    """Remove the one visible subscription whose topic is `topic` (any case and spacing)."""
    wanted = " ".join(topic.split()).lower()
    found = [
        s
        for s in visible_subscriptions(store, user, channel, is_member)
        if s.topic.lower() == wanted
    ]
    if not found:
        raise SubscriptionError(
            "None of your subscriptions (or this channel's) has that topic. "
            "`/papers list` shows them; `/papers unsubscribe <id>` removes one."
        )
    if len(found) > 1:
        ids = ", ".join(f"#{s.id}" for s in found)
        raise SubscriptionError(f"Several subscriptions have that topic ({ids}): give the id.")
    return unsubscribe(store, user, found[0].id, is_member)


def set_threshold(
    store: Store,
    user: str,
    subscription_id: int,
    value: str,
    is_member: MembershipCheck,
    matcher: Matcher,
) -> Subscription:
    """`stricter` / `looser` move the threshold by a step; a number from 0 to 1 sets it."""
    subscription = subscription_for(store, user, subscription_id, is_member)
    current = threshold_of(matcher, subscription)
    if value == "stricter":
        new = current + THRESHOLD_STEP
    elif value == "looser":
        new = current - THRESHOLD_STEP
    else:
        try:
            new = float(value)
        except ValueError:
            raise SubscriptionError(
                "Say `stricter`, `looser` or a number from 0 to 1, "
                f"e.g. `/papers threshold {subscription_id} 0.45`."
            ) from None
        if not 0.0 <= new <= 1.0:
            # Not echoed: the value can be thousands of characters long.
            raise SubscriptionError(
                "The threshold must be a number between 0 and 1, "
                f"e.g. `/papers threshold {subscription_id} 0.45`."
            )
    new = round(min(1.0, max(0.0, new)), 4)
    return store.subscriptions.update(subscription_id, threshold=new)


def set_cadence(
    store: Store, user: str, subscription_id: int, cadence: str, is_member: MembershipCheck
) -> Subscription:
    """Deliver as papers arrive (instant), or in a daily or weekly digest."""
    if cadence not in CADENCES:
        raise SubscriptionError(
            f"Choose one of {', '.join(CADENCES)}, e.g. `/papers digest {subscription_id} daily`."
        )
    subscription_for(store, user, subscription_id, is_member)
    return store.subscriptions.update(subscription_id, cadence=cadence)


def threshold_of(matcher: Matcher, subscription: Subscription) -> float:
    """The threshold matching applies to this subscription (its own, or its strictness's)."""
    return threshold_for(subscription, matcher.config)


@dataclass(frozen=True)
class Preview:
    """A stored paper shown to a new subscription to judge, whether it would alert on it, and
    its score (the probability matching gives it)."""

    paper: Paper
    would_alert: bool
    score: float


@dataclass
class NewSubscription:
    """What the reply to a new subscription shows."""

    subscription: Subscription
    threshold: float
    # Stored papers to judge (preview()).
    previews: list[Preview]
    # Its words that no stored paper contains (words_not_stored()).
    unknown_words: list[str]
    # Words of the topic as typed that were misspelt, and what subscribe() read them as.
    respelled: dict[str, str]
    # How many of the stored papers it would have alerted on (reach()).
    reach: Reach
    # Other subscriptions delivering its topic where it delivers (same_topic()).
    same_topic: list[Subscription]


@dataclass(frozen=True)
class Reach:
    """How many of the latest day's papers (store.papers.latest_day_ids) a subscription would
    have alerted on, against how many alerts its target is posted at most: a day's feeds are
    what one day's alerts come from, while a store of several weeks holds weeks of them."""

    alerts: int
    papers: int
    cycle_cap: int
    daily_cap: int
    # Whether its alerts count against those caps: instant ones do, a digest carries them all.
    capped: bool
    # When that is more than one cycle posts to its target: the threshold, in hundredths,
    # that would have kept within it, and how many it would then have alerted on (None when
    # within, or when no threshold would do: the papers of authors it follows alert anyway).
    fewer: tuple[float, int] | None

    @property
    def over_cap(self) -> bool:
        return self.capped and self.alerts > min(self.cycle_cap, self.daily_cap)


def introduce(matcher: Matcher, subscription: Subscription, typed: str = "") -> NewSubscription:
    """A new subscription with what its reply shows; `typed` is its topic as typed, before
    subscribe() corrected its spelling ("" for none). The corrections are the words that
    differ: respelled() replaces a word by a word, so the two texts' words line up."""
    pairs = zip(fulltext.words(typed), fulltext.words(subscription.topic), strict=False)
    scored = stored_scores(matcher, subscription)
    return NewSubscription(
        subscription=subscription,
        threshold=threshold_of(matcher, subscription),
        previews=preview(matcher.store, subscription, scored),
        unknown_words=words_not_stored(matcher.store, subscription.topic),
        respelled={typo: word for typo, word in pairs if typo != word},
        reach=reach(matcher, subscription, scored),
        same_topic=same_topic(matcher.store, subscription),
    )


def threshold_after_judgment(
    matcher: Matcher,
    before: Subscription,
    after: Subscription,
    paper_id: str,
    relevant: bool,
    was: float | None,
) -> str:
    """Where a judgment of `paper_id` left the subscription's threshold (`before` and `after`
    it), as a sentence: judgments move the threshold of a strictness level, never one set by
    hand or for papers like one paper (like()). When the threshold stays, it says why the
    paper lands where the verdict puts it: its score before the judgment (`was`,
    stored_score() taken before the judgment was stored) was on that side already, or what
    the judgment taught (bot/feedback.py) moved it there, or why it does not: a channel's
    members' votes on it now tie or still count the other way, a relevant vote cannot lower
    the threshold (past the first PREVIEW_SIZE judgments, or at the "broad" level), or the
    judgments before it hold the threshold where it was."""
    threshold = threshold_of(matcher, after)
    if after.threshold is not None:
        return (
            f"Its threshold stays at {threshold:.2f}, where it was set; "
            "judgments still teach it what you like."
        )
    # Compared as shown: a move below 0.005 is no move to the reader.
    earlier = threshold_of(matcher, before)
    if f"{threshold:.2f}" != f"{earlier:.2f}":
        # Judgments calibrate the threshold (feedback.threshold_shift), so a verdict on a paper
        # below it can raise it too: the reply says why, or it reads as a mistake.
        moved, often = ("up", "less") if threshold > earlier else ("down", "more")
        return (
            f"Its threshold is now {threshold:.2f}, {moved} from {earlier:.2f}: your judgments "
            f"say papers scored near it are relevant {often} often than it assumed."
        )
    stays = f"Its threshold stays at {threshold:.2f}."
    if was is None:
        return stays
    if (was >= earlier) == relevant:
        would = "would alert on it already" if relevant else "would not alert on it anyway"
        line, score = apart(threshold, was)
        return f"Its threshold stays at {line}: it scores this paper {score}, so it {would}."
    votes = matcher.store.subscriptions.votes(after.id)
    summed = votes.get(paper_id)
    if summed == 0:
        return (
            f"Its threshold stays at {threshold:.2f}: this paper now has as many relevant votes "
            "as not relevant ones, so the paper counts neither way."
        )
    if summed is not None and (summed > 0) != relevant:
        more, fewer = ("relevant", "not relevant") if summed > 0 else ("not relevant", "relevant")
        return (
            f"Its threshold stays at {threshold:.2f}: this paper still has more {more} votes "
            f"than {fewer} ones, so it counts as {more}."
        )
    now = stored_score(matcher, after, paper_id)
    if now is not None and (now >= threshold) == relevant:
        would = "would now alert on it" if relevant else "would no longer alert on it"
        line, score, learned = apart(threshold, was, now)
        return (
            f"Its threshold stays at {line}: what it learned from your judgment moves this paper "
            f"from {score} to {learned}, so it {would}."
        )
    if relevant and past_calibration(votes):
        return (
            f"Its threshold stays at {threshold:.2f}: after its first {PREVIEW_SIZE} "
            "judgments, a relevant one does not lower it."
        )
    if relevant and math.isclose(threshold, matcher.config.thresholds["broad"], abs_tol=1e-4):
        return (
            f"Its threshold stays at {threshold:.2f}: judgments never lower it below the "
            '"broad" level, though one set by hand can be lower.'
        )
    if now is not None and len(verdicts_of(votes)) > 1:
        would = "still would not alert on it" if relevant else "would still alert on it"
        line, score = apart(threshold, now)
        return (
            f"Its threshold stays at {line}: the judgments before this one hold it there. It "
            f"scores this paper {score}, so it {would}."
        )
    return stays


def past_calibration(votes: dict[str, int]) -> bool:
    """Whether a subscription's judgments (store.subscriptions.votes) go past the first
    PREVIEW_SIZE, which calibrate it: after them, votes only make it stricter (bot/feedback.py)."""
    return len(votes) > PREVIEW_SIZE


def apart(threshold: float, *scores: float) -> list[str]:
    """The threshold and scores as shown, with two decimals, or more where a score would
    print as the threshold from the other side of it ("stays at 0.44: it scores this paper
    0.44, so it would not alert on it" reads as a mistake)."""
    for places in (2, 3, 4):
        shown = [f"{value:.{places}f}" for value in (threshold, *scores)]
        if shown[0] not in shown[1:]:
            break
    return shown


def stored_score(matcher: Matcher, subscription: Subscription, paper_id: str) -> float | None:
    """The probability matching gives the stored paper `paper_id` for the subscription (None
    when the paper has no embedding yet)."""
    scored = stored_scores(matcher, subscription)
    return scored.score_of(paper_id) if scored and paper_id in scored.index else None


@dataclass(frozen=True)
class StoredScores:
    """A subscription's log-odds for every stored paper, in the order of `ids`, and the
    log-odds of its threshold, above which it alerts."""

    ids: list[str]
    index: dict[str, int]
    raw: np.ndarray
    line: float

    def score_of(self, paper_id: str) -> float:
        """The probability matching gives the paper."""
        return float(logistic(self.raw[self.index[paper_id]]))


def stored_scores(matcher: Matcher, subscription: Subscription) -> StoredScores | None:
    """How the subscription scores every stored paper (None when no paper is embedded yet, or
    the subscription has no embedding)."""
    corpus = matcher.corpus()
    if not corpus.ids or subscription.embedding is None:
        return None
    return StoredScores(
        ids=corpus.ids,
        index=corpus.index,
        raw=evidence(matcher.store, subscription, corpus).raw,
        line=logit(threshold_of(matcher, subscription)),
    )


def alerting(
    store: Store, subscription: Subscription, scored: StoredScores | None, among: set[str]
) -> dict[str, float]:
    """The papers `among` the stored ones that the subscription would alert on, with their
    scores, as matching decides: those that score at least its threshold and that its
    keyword and category filters let through, and those by an author it follows (scored 1:
    they alert whatever their score), its seed papers aside."""
    if scored is None:
        return {}
    above = np.flatnonzero(scored.raw >= scored.line)
    found = {scored.ids[row]: row for row in above if scored.ids[row] in among}
    if has_filters(subscription):
        papers = store.papers.get_many(list(found))
        found = {p: found[p] for p, paper in papers.items() if passes_filters(paper, subscription)}
    scores = {p: float(logistic(scored.raw[row])) for p, row in found.items()}
    if subscription.authors:
        papers = store.papers.get_many(sorted(among & scored.index.keys()))
        scores |= {
            p: 1.0 for p, paper in papers.items() if followed_author(paper, subscription.authors)
        }
    for seed in subscription.seed_papers:
        scores.pop(seed, None)
    return scores


def reach(matcher: Matcher, subscription: Subscription, scored: StoredScores | None) -> Reach:
    """How many of the latest day's papers the subscription would have alerted on, and, when
    that is more instant alerts than one cycle posts to its target, the lowest threshold in
    hundredths that would have kept within it."""
    latest = matcher.store.papers.latest_day_ids() & set(scored.ids if scored else ())
    scores = sorted(alerting(matcher.store, subscription, scored, latest).values(), reverse=True)
    cycle_cap = matcher.config.cycle_cap
    cap = daily_cap(subscription.target, matcher.config)
    fits = min(cycle_cap, cap)
    capped = subscription.cadence == "instant"
    fewer = None
    if capped and len(scores) > fits:
        # The lowest hundredth above the score of the first paper that would not fit.
        threshold = math.floor(scores[fits] * 100 + 1) / 100
        if threshold <= 1:
            fewer = (threshold, sum(score >= threshold for score in scores))
    return Reach(
        alerts=len(scores),
        papers=len(latest),
        cycle_cap=cycle_cap,
        daily_cap=cap,
        capped=capped,
        fewer=fewer,
    )


def preview(
    store: Store,
    subscription: Subscription,
    scored: StoredScores | None,
    limit: int = PREVIEW_SIZE,
) -> list[Preview]:
    """Stored papers for a new subscription to judge, chosen to tell its threshold apart,
    each marked as one it would alert on or not.

    The papers scored nearest the threshold (in log-odds) that it could alert on (its
    keyword and category filters hold), its seed papers aside: the
    best-scored papers are relevant to almost any topic, so their verdicts say little about
    where this topic's threshold belongs, while a verdict on a borderline paper moves it
    (bot/feedback.py). Best-scored first.
    """
    if scored is None:
        return []
    raw, line = scored.raw, scored.line
    distance = np.abs(raw - line)
    # Its seed papers (`like`) are known to be relevant: no need to ask.
    seeds = [scored.index[p] for p in subscription.seed_papers if p in scored.index]
    distance[seeds] = np.inf
    # Only a subscription with filters needs more papers read than it shows.
    pool = PREVIEW_POOL if has_filters(subscription) else limit
    nearest = [r for r in np.argsort(distance, kind="stable")[:pool] if distance[r] < np.inf]
    papers = store.papers.get_many([scored.ids[row] for row in nearest])
    # Only papers it could alert on: its keyword and category filters hold for them.
    chosen = [r for r in nearest if passes_filters(papers[scored.ids[r]], subscription)][:limit]
    return [
        Preview(
            papers[scored.ids[row]],
            would_alert=bool(raw[row] >= line),
            score=float(logistic(raw[row])),
        )
        for row in sorted(chosen, key=lambda row: -raw[row])
    ]


# -- `like <arXiv id or URL>`: a subscription seeded by one paper -------------------


def stored_paper(store: Store, text: str) -> Paper | None:
    """The stored paper `text` names: its id as search shows it, or an arXiv id or URL in
    any of the forms `like` takes ("arXiv:2608.19199v2", "https://arxiv.org/abs/2608.19199")."""
    paper = store.papers.get(text.strip())
    found = arxiv_id(text) if paper is None else None
    return store.papers.get(found[0]) if found else paper


def find_arxiv_paper(store: Store, fetcher: Fetcher, api_url: str, text: str) -> Paper:
    """The paper that `text` (an arXiv id or URL) names: stored, or fetched from the arXiv API."""
    found = arxiv_id(text)
    if found is None:
        raise SubscriptionError(
            "I can't find an arXiv id in that. Try `/papers like 2608.19199` "
            "or `/papers like https://arxiv.org/abs/2608.19199`."
        )
    paper_id = found[0]
    paper = store.papers.get(paper_id)
    if paper is not None:
        return paper
    url = f"{api_url}?{urllib.parse.urlencode({'id_list': paper_id})}"
    result = fetcher.fetch(url)
    if result.status != "ok" or not result.content:
        log.warning("arXiv API lookup of %s failed: %s", paper_id, result.error or result.status)
        raise SubscriptionError(
            f"arXiv did not answer for {paper_id} just now; try again in a minute."
        )
    feed = parse_feed(result.content, url, kind="arxiv_api")
    papers = [p for p in feed.papers if p.id == paper_id]
    if not papers:
        raise SubscriptionError(f"arXiv has no paper {paper_id}; check the id.")
    # Fetched for this one request, it may be years old: never alerted as new.
    store.papers.upsert(papers, matched=True)
    return papers[0]


def like(
    store: Store,
    embedder: Embedder,
    matcher: Matcher,
    paper: Paper,
    *,
    owner: str,
    target: str | None = None,
) -> Subscription:
    """Subscribe to papers like `paper`: the topic vector is the paper's own embedding, and
    its threshold is set at once (like_threshold())."""
    topic = ("like " + " ".join(paper.title.split()))[:300]
    target = target or owner
    _refuse_duplicate(
        store, owner, target, lambda e: e.seed_papers == [paper.id] and e.topic == topic
    )
    added = store.subscriptions.add(
        owner=owner,
        target=target,
        topic=topic,
        embedding=embedder.encode_one(paper.text_for_embedding),
        seed_papers=[paper.id],
    )
    threshold = like_threshold(matcher, added)
    if threshold is None:
        return added
    return store.subscriptions.update(added.id, threshold=threshold)


def like_threshold(matcher: Matcher, subscription: Subscription) -> float | None:
    """The threshold of a subscription to papers like one paper: where it would have alerted
    on LIKE_SHARE of the stored papers (at least one); None when no other paper is stored.

    Its topic is the paper's title, and the relevance model, fitted on topics of a few
    words, finds few papers that hold most of a title's words: at the default threshold it
    alerted on none of the third judged day's 1,098 papers for each of three papers liked,
    though its best-scored papers were on their topics (the best other paper for a survey of
    retrieval-augmented generation, a RAG paper, scored 0.21)."""
    scored = stored_scores(matcher, subscription)
    if scored is None:
        return None
    seeds = [scored.index[p] for p in subscription.seed_papers if p in scored.index]
    others = np.sort(np.delete(scored.raw, seeds))[::-1]
    if not len(others):
        return None
    wanted = max(1, round(LIKE_SHARE * len(scored.ids)))
    return float(logistic(others[min(wanted, len(others)) - 1]))


def slack_membership(client: WebClient) -> MembershipCheck:
    """A membership check asking Slack (conversations.members, every page)."""

    def is_member(user: str, channel: str) -> bool:
        cursor = None
        while True:
            try:
                page = client.conversations_members(channel=channel, cursor=cursor, limit=1000)
            except SlackApiError as error:
                # A private channel the bot is not in, or a deleted one: nobody can be
                # shown to be a member, so nobody may change its subscriptions from here.
                log.warning("membership of %s unknown: %s", channel, error.response.get("error"))
                return False
            if user in page.get("members", []):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False

    return is_member
