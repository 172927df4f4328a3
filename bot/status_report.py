"""`/papers status`: feed health, the last and next cycle, papers stored, the caller's alerts."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta

from bot.blocks import fit
from bot.scheduler import digest_zone, next_digest_time
from bot.settings import ScheduleSettings
from bot.status import feeds_read
from bot.storage import Store


def status_lines(
    store: Store,
    poll_minutes: int,
    user: str,
    schedule: ScheduleSettings | None = None,
    now: datetime | None = None,
) -> list[str]:
    """The status report as mrkdwn lines, outside text escaped; with `schedule`, when the
    caller's next digests go out (after `now`, default the current time)."""
    feeds = store.feeds.all()
    lines = [f"*Papers stored:* {store.papers.count()}"]
    cycle = store.cycles.last()
    if cycle and cycle.get("started"):
        lines.append(f"*Last cycle:* {cycle_line(cycle)}")
        lines.append(f"*Next cycle:* about {next_cycle(cycle['started'], poll_minutes)}")
    else:
        lines.append(f"*Last cycle:* none yet; cycles run every {poll_minutes} minutes")
    lines.append("*Feeds:*" if feeds else "*Feeds:* none configured")
    lines.extend(feed_line(feed) for feed in feeds[:20])
    lines.append(your_alerts(store, user))
    if schedule is not None:
        lines.extend(next_digests(store, user, schedule, now or datetime.now(UTC)))
    return lines


def cycle_line(cycle: dict) -> str:
    """`2026-08-21T04:00:00+00:00: 3 of 3 feeds read, 12 new papers, 4 alerts sent`."""
    parts = [cycle["started"]]
    if cycle.get("feeds") is not None:
        parts.append(feeds_read(cycle))
    if cycle.get("papers_new") is not None:
        parts.append(f"{cycle['papers_new']} new papers")
    if cycle.get("sent") is not None:
        parts.append(f"{cycle['sent']} alerts sent")
    return fit(", ".join(parts), 300)


def next_cycle(last_checked: str, poll_minutes: int) -> str:
    try:
        last = datetime.fromisoformat(last_checked)
    except ValueError:
        return "unknown"
    return (last + timedelta(minutes=poll_minutes)).isoformat(timespec="minutes")


def feed_line(feed: dict) -> str:
    """`• ✅ arXiv cs.CL: ok, last good 2026-08-21T04:00`, or `http_error, 3 failures in a
    row`. Any member may read this: the feed's address (a local path, perhaps) and its
    error text stay for `paperbot feeds` on the server."""
    name = fit(feed_name(feed), 120)
    errors = feed.get("consecutive_errors") or 0
    mark = "✅" if not errors else "⚠️"
    text = f"• {mark} {name}: {fit(feed.get('last_status') or 'not polled yet', 60)}"
    if feed.get("last_ok"):
        text += f", last good {feed['last_ok']}"
    if errors:
        text += f", {errors} failures in a row"
    return text


def feed_name(feed: dict) -> str:
    """The feed's name, else its web host, else "a local feed file"; never a path."""
    name = feed.get("name") or ""
    if name and name != feed["url"]:
        return name
    return urllib.parse.urlsplit(feed["url"]).hostname or "a local feed file"


def your_alerts(store: Store, user: str) -> str:
    """How the caller's own subscriptions deliver; digests go out with their schedule."""
    every = store.subscriptions.for_owner(owner=user)
    counts: dict[str, int] = {}
    for subscription in every:
        if not subscription.paused:
            counts[subscription.cadence] = counts.get(subscription.cadence, 0) + 1
    active = ", ".join(f"{n} {cadence}" for cadence, n in sorted(counts.items())) or "none"
    paused = sum(s.paused for s in every)
    return f"*Your subscriptions:* active: {active}" + (f"; paused: {paused}" if paused else "")


def next_digests(store: Store, user: str, schedule: ScheduleSettings, now: datetime) -> list[str]:
    """`*Next daily digest* in your DM: Tue 2026-08-25 08:00 (Asia/Tokyo)`, one line per
    digest the caller's active daily and weekly subscriptions feed."""
    wanted = sorted(
        {
            (s.target, s.cadence)
            for s in store.subscriptions.for_owner(owner=user)
            if not s.paused and s.owner == user and s.cadence in ("daily", "weekly")
        }
    )
    lines = []
    for target, cadence in wanted:
        zone = digest_zone(target, store.subscriptions.target_timezone(target), schedule)
        when = next_digest_time(cadence, zone, schedule, now)
        where = "your DM" if target == user else f"<#{target}>"
        lines.append(
            f"*Next {cadence} digest* in {where}: {when.strftime('%a %Y-%m-%d %H:%M')} ({zone})"
        )
    return lines
