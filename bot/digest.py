"""What goes into a target's digest, and the "N more matched today" offer.

Alerts of daily and weekly subscriptions are held in the outbox with status "digest"
(bot/pipeline.py); instant alerts over a target's daily cap are recorded as dropped with
OVER_CAP_REASON. The functions here turn those rows into messages; the deliverer posts
them and marks the rows with `Store.finish_delivery`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.blocks import DigestEntry, DigestGroup, render_digest, render_more_matches
from bot.match import OVER_CAP_REASON, Match, day_start
from bot.storage import Delivery, DigestRun, Store
from bot.summarize import Summarizer, summary_for


@dataclass
class Digest:
    """The messages of one digest (the first posted, the rest in its thread), and the
    outbox rows they carry."""

    messages: list[dict]
    delivery_ids: list[int]


def build_digest(
    store: Store,
    summarizer: Summarizer,
    target: str,
    now: datetime,
    cadence: str | None = None,
    *,
    digest_id: int | None = None,
    warnings: list[str] | tuple[str, ...] = (),
) -> Digest | None:
    """One digest for `target` of the rows held for it (only `cadence`'s, if given), or of
    the rows a started digest carries (`digest_id`), with the feed `warnings` on top.

    Papers are grouped by the subscription they matched best, groups ordered by their best
    paper, papers by score. None when there is neither a paper nor a warning.
    """
    if digest_id is not None:
        rows = store.digests.rows(digest_id)
    else:
        rows = store.alerts.held_for_digest(target)
    if cadence is not None and digest_id is None:
        wanted = set(store.alerts.held_digest_ids(target, cadence))
        rows = [row for row in rows if row.id in wanted]
    if not rows and not warnings:
        return None
    papers = store.papers.get_many([row.paper_id for row in rows])
    groups: dict[int, DigestGroup] = {}
    for row in sorted(rows, key=lambda r: -r.score):
        paper = papers.get(row.paper_id)
        if paper is None:
            continue
        matches = [Match(**m) for m in row.matches]
        best = matches[0] if matches else Match(row.subscription_id, "", row.score)
        group = groups.setdefault(best.subscription_id, DigestGroup(best.topic, []))
        summary = summary_for(store, summarizer, paper, best.topic)
        group.entries.append(DigestEntry(paper=paper, matches=matches, summary=summary))
    title = f"Your {cadence or 'paper'} digest, {now.date().isoformat()}"
    return Digest(
        messages=render_digest(title, list(groups.values()), warnings),
        delivery_ids=[row.id for row in rows],
    )


def digest_of_run(store: Store, summarizer: Summarizer, run: DigestRun) -> Digest:
    """The messages of a started digest; the same on every try, so a digest cut short by a
    failure goes on where it stopped."""
    day = datetime.fromisoformat(run.day)
    digest = build_digest(
        store, summarizer, run.target, day, run.cadence, digest_id=run.id, warnings=run.warnings
    )
    return digest or Digest(messages=[], delivery_ids=[])


# How many held-back alerts one press of "Show more" queues.
MORE_PER_PRESS = 10


def held_over_cap(store: Store, target: str, day: datetime) -> list[Delivery]:
    """The alerts for `target` that the daily cap held back on `day` (UTC), best first."""
    next_day = day_start(day + timedelta(days=1))
    return store.alerts.over_cap(target, day_start(day), next_day, OVER_CAP_REASON)


def more_matches_message(held: int, day: datetime, now: datetime) -> dict:
    """The "N more matched today" message of `day` for the `held` papers the cap still holds
    back, with a button that posts MORE_PER_PRESS of them, or, when none is held, that they
    are all on their way (and no button); an offer of an earlier day names it."""
    when = day.date().isoformat()
    said = "today" if when == now.date().isoformat() else f"on {when}"
    return render_more_matches(held, MORE_PER_PRESS, when, said)


def show_more(
    store: Store, target: str, day: datetime, limit: int = MORE_PER_PRESS
) -> tuple[int, int]:
    """Queue up to `limit` of the alerts held back on `day` for posting (the button's
    action); how many were queued, and how many are still held back."""
    held = held_over_cap(store, target, day)
    store.alerts.release([row.id for row in held[:limit]])
    return min(limit, len(held)), max(0, len(held) - limit)
