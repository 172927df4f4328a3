"""What the service is doing: the last cycle, the outbox, paused subscriptions.

`status_report` gives the data (for `paperbot status --json` and `/papers status`);
`status_text` renders it as plain lines for a terminal.
"""

from __future__ import annotations

import json

from bot.match import OVER_CAP_REASON
from bot.storage import Store

# Statuses shown in the outbox counts, in the order a row moves through them.
OUTBOX_STATUSES = ("pending", "sending", "digest", "sent", "failed", "dropped")
# The stages of a cycle whose seconds are recorded (`fetch_seconds`...), in flow order.
STAGES = ("fetch", "embed", "match", "deliver")


def status_report(store: Store, limit: int = 20) -> dict:
    """The last cycle, outbox counts, the pending and failed rows, paused subscriptions, and
    notices to owners not delivered (yet)."""
    cycle = store.cycles.last()
    if cycle:
        cycle = {
            **cycle,
            "durations": json.loads(cycle.get("durations") or "{}"),
            "errors": json.loads(cycle.get("errors") or "[]"),
        }
    counts = store.alerts.counts()
    paused = [
        {
            "id": sub.id,
            "owner": sub.owner,
            "target": sub.target,
            "topic": sub.topic,
            "reason": sub.paused_reason or "paused by its owner",
        }
        for sub in store.subscriptions.all()
        if sub.paused
    ]
    return {
        "last_cycle": cycle,
        "deliveries": {status: counts.get(status, 0) for status in OUTBOX_STATUSES},
        "pending": store.alerts.by_status("pending", limit),
        "failed": store.alerts.by_status("failed", limit),
        "paused_subscriptions": paused,
        "undelivered_notices": [
            {
                "id": notice.id,
                "user": notice.user,
                "status": notice.status,
                "attempts": notice.attempts,
                "last_error": notice.last_error,
            }
            for status in ("pending", "failed")
            for notice in store.notices.all(status)[-limit:]
        ],
    }


def _next_try(row: dict) -> str:
    """When a pending alert is tried next, and why the last try did not post it."""
    when = "next try " + (row["next_attempt_at"] or "now")
    return f"{when} (last try: {row['last_error']})" if row["last_error"] else when


def status_text(report: dict) -> str:
    """The report as lines for a terminal."""
    lines = [_cycle_line(report["last_cycle"])]
    counts = report["deliveries"]
    lines.append("Alerts: " + ", ".join(f"{counts[s]} {s}" for s in OUTBOX_STATUSES))
    if counts["digest"]:
        lines.append(f"  {counts['digest']} digest: held for daily or weekly digests.")
    if counts["dropped"]:
        lines.append(
            f"  {counts['dropped']} dropped: {OVER_CAP_REASON} (each target was offered them "
            'once as "N more matched today", and Show more sends them), or judged before '
            "they were posted, or their subscription was removed."
        )
    if report["pending"]:
        lines.append("Pending:")
        lines += [_row_line(row, _next_try(row)) for row in report["pending"]]
    if report["failed"]:
        lines.append("Failed:")
        lines += [
            _row_line(row, row["last_error"] or "no reason recorded") for row in report["failed"]
        ]
    paused = report["paused_subscriptions"]
    lines.append("Paused subscriptions:" if paused else "Paused subscriptions: none")
    lines += [
        f"  #{s['id']} {s['topic']!r} to {s['target']} (owner {s['owner']}): {s['reason']}"
        for s in paused
    ]
    notices = report["undelivered_notices"]
    if notices:
        lines.append("Notices to owners not delivered:")
        lines += [
            f"  {n['user']} [{n['status']}, {n['attempts']} tries]: "
            f"{n['last_error'] or 'not tried yet'}"
            for n in notices
        ]
    return "\n".join(lines)


def stages_line(durations: dict) -> str:
    """The stage seconds found in `durations` (`fetch_seconds`...) as one short line,
    `fetch 1.2s, embed 3.4s, match 0.1s, deliver 2.0s`; empty if none is recorded."""
    return ", ".join(
        f"{stage} {durations[stage + '_seconds']:.1f}s"
        for stage in STAGES
        if durations.get(stage + "_seconds") is not None
    )


def feeds_read(cycle: dict) -> str:
    """`3 of 3 feeds read`, or that no feed was due: a cycle between two polls only
    delivers (Show more, retries), and "0 of 0 feeds read" read as if the feeds were gone."""
    if not cycle["feeds"]:
        return "no feed due"
    return f"{cycle.get('feeds_ok') or 0} of {cycle['feeds']} feeds read"


def _cycle_line(cycle: dict | None) -> str:
    if not cycle:
        return "Last cycle: none yet."
    line = (
        f"Last cycle: {cycle['started']}, {feeds_read(cycle)}, "
        f"{cycle['papers_new']} papers new, {cycle['matches']} matches, {cycle['sent']} sent, "
        f"{cycle['failed']} failed, {cycle['retrying']} to retry, in {cycle['seconds']:.1f}s"
    )
    stages = stages_line(cycle)
    if stages:
        line += f" ({stages})"
    for error in cycle["errors"]:
        line += f"\n  feed {error['feed']}: {error['status']} ({error['error']})"
    return line


def _row_line(row: dict, detail: str) -> str:
    title = row["title"] or row["paper_id"]
    return f"  {row['target']}  {row['paper_id']}  {title[:60]}  [{row['attempts']} tries] {detail}"
