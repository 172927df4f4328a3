"""`paperbot demo`: one offline cycle over the bundled sample feeds, shown in the terminal."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bot.blocks import render_for_terminal
from bot.deliver import DeliveryReport, compose_alert, matches_of
from bot.pipeline import CycleReport
from bot.progress import embedding_progress, spinner
from bot.scheduler import CycleLog
from bot.services import Services
from bot.settings import CONFIG_DIR, FeedSettings
from bot.storage import Store, made_by, shown
from bot.subscriptions import subscribe

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
DEMO_FILE = CONFIG_DIR / "demo.toml"
# The demo's own database, unless `paperbot --db PATH demo` names another.
DEMO_DB = "data/demo.db"
MADE_BY_DEMO = "paperbot demo"


class DemoError(Exception):
    """The demo will not run as asked; the message says why and what to do."""


def start_over(path: str) -> None:
    """Delete the demo database at `path` (`demo --fresh`), only if the demo made it."""
    if not Path(path).exists():
        return
    if made_by(path) != MADE_BY_DEMO:
        raise DemoError(
            f"{path} was not made by `paperbot demo`, so --fresh will not delete it. "
            f"Run `paperbot demo --fresh` for the demo's own {DEMO_DB}, or delete the file "
            "yourself if you mean to."
        )
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


def claim_database(store: Store) -> None:
    """Make an empty database the demo's own (so `demo --fresh` may delete it), and refuse
    one that holds someone's papers or subscriptions: the demo would show their pending
    alerts as its own, mark them sent, and add its sample subscriptions beside theirs."""
    if made_by(store.path) == MADE_BY_DEMO:
        return
    if store.papers.count() or store.subscriptions.all():
        raise DemoError(
            f"{shown(store.path)} holds papers or subscriptions that `paperbot demo` did not "
            "make, so the demo will not run on it: it would mark their pending alerts sent. "
            f"Run `paperbot demo` without --db for the demo's own {DEMO_DB}, or give --db a "
            "new file."
        )
    store.set_made_by(MADE_BY_DEMO)


def load_demo(path: Path = DEMO_FILE) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def demo_feeds(demo: dict) -> list[FeedSettings]:
    return [FeedSettings(url=str(SAMPLES_DIR / name), name=name) for name in demo["feeds"]]


def ensure_subscriptions(services: Services, demo: dict) -> None:
    """Create the sample subscriptions once; a second demo run reuses them."""
    existing = {(s.target, s.topic) for s in services.store.subscriptions.all()}
    for sample in demo["subscriptions"]:
        if (sample["target"], sample["topic"]) not in existing:
            subscribe(
                services.store,
                services.embedder,
                topic=sample["topic"],
                owner=sample["owner"],
                target=sample["target"],
            )


def run_demo(
    services: Services, echo: Callable[[str], None], console: Console | None = None
) -> CycleReport:
    """Run one cycle on the samples and show each queued alert as Slack would; on a
    `console`, a spinner while the model loads and a bar while papers are embedded.
    The database is one claim_database() accepted."""
    demo = load_demo()
    names = {s["target"]: s["target_name"] for s in demo["subscriptions"]}
    with spinner(console, "Loading the embedding model…"):
        services.embedder.load()
    ensure_subscriptions(services, demo)
    feeds = demo_feeds(demo)
    started = datetime.now(UTC)
    with embedding_progress(console) as on_progress:
        report = services.pipeline.run_cycle(feeds, on_progress=on_progress)
    for delivery in services.store.alerts.claim(limit=10_000):
        message = compose_alert(
            services.store, services.summarizer, delivery.paper_id, matches_of(delivery)
        )
        echo(f"── to {names.get(delivery.target, delivery.target)} " + "─" * 40)
        echo(render_for_terminal(message))
        echo("")
        services.store.alerts.finish(delivery.id, "sent", channel="terminal")
        report.sent += 1
    # Recorded like a service cycle, so `paperbot status` tells of this one.
    shown = DeliveryReport(sent=report.sent)
    services.store.cycles.record(CycleLog(started, feeds, report, shown, report.seconds).record())
    return report
