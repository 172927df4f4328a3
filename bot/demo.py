"""`paperbot demo`: one offline cycle over the bundled sample feeds, shown in the terminal."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

from bot.blocks import render_for_terminal
from bot.deliver import compose_alert, matches_of
from bot.pipeline import CycleReport
from bot.services import Services
from bot.settings import CONFIG_DIR, FeedSettings
from bot.subscriptions import subscribe

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
DEMO_FILE = CONFIG_DIR / "demo.toml"


def load_demo(path: Path = DEMO_FILE) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def demo_feeds(demo: dict) -> list[FeedSettings]:
    return [FeedSettings(url=str(SAMPLES_DIR / name), name=name) for name in demo["feeds"]]


def ensure_subscriptions(services: Services, demo: dict) -> None:
    """Create the sample subscriptions once; a second demo run reuses them."""
    existing = {(s.target, s.topic) for s in services.store.list_subscriptions()}
    for sample in demo["subscriptions"]:
        if (sample["target"], sample["topic"]) not in existing:
            subscribe(
                services.store,
                services.embedder,
                topic=sample["topic"],
                owner=sample["owner"],
                target=sample["target"],
            )


def run_demo(services: Services, echo: Callable[[str], None]) -> CycleReport:
    """Run one cycle on the samples and show each queued alert as Slack would."""
    demo = load_demo()
    names = {s["target"]: s["target_name"] for s in demo["subscriptions"]}
    ensure_subscriptions(services, demo)
    report = services.pipeline.run_cycle(demo_feeds(demo))
    for delivery in services.store.claim_pending_deliveries(limit=10_000):
        message = compose_alert(
            services.store, services.summarizer, delivery.paper_id, matches_of(delivery)
        )
        echo(f"── to {names.get(delivery.target, delivery.target)} " + "─" * 40)
        echo(render_for_terminal(message))
        echo("")
        services.store.finish_delivery(delivery.id, "sent", channel="terminal")
        report.sent += 1
    return report
