"""Five judged previews through the command line, as issue 11 will check them.

The day's papers are split as bench/dev_day.py splits them (in id order, every other one).
The first half is ingested from feed files holding only its items; each topic is subscribed
(`subscribe --json`, one user each) and its five previews judged with `paperbot feedback`
from the day's grades (unjudged counts as not relevant); then the second half is ingested and
`cycle --dry-run --json` lists the alerts. Precision and recall are counted on the second
half alone, over judged pairs, as bench/dev_day.py's "five judged previews" row counts them:

    .venv/bin/python bench/previews_cli.py [.venv/bin/paperbot] [--day bench/second_day]

It runs every command as its own process, model loading included: about ten minutes a day.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import tempfile
from pathlib import Path

from dev_day import DEFAULT_DIR, alert_figures, load_papers

ITEM = re.compile(r"<item>.*?</item>", re.DOTALL)
ITEM_ID = re.compile(r"arxiv\.org/abs/(\S+?)(?:v\d+)?</link>")


def feed_halves(day: Path, first: set[str], work: Path) -> tuple[list[str], list[str]]:
    """The day's feed files written twice to `work`: once with only the items of the papers
    in `first`, once with only the others."""
    halves: tuple[list[str], list[str]] = ([], [])
    for path in sorted((day / "feeds").iterdir()):
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode()
        for half, wanted in enumerate((True, False)):

            def kept(item: re.Match, wanted=wanted) -> str:
                found = ITEM_ID.search(item.group())
                return item.group() if found and (found.group(1) in first) == wanted else ""

            out = work / f"half{half}-{path.name.removesuffix('.gz')}"
            out.write_text(ITEM.sub(kept, text))
            halves[half].append(str(out))
    return halves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paperbot", nargs="?", default=".venv/bin/paperbot")
    parser.add_argument("--day", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    ids = [paper.id for paper in load_papers(args.day)]
    first, second = set(ids[0::2]), set(ids[1::2])
    topics = json.loads((args.day / "judgments.json").read_text())["subscriptions"]
    # One user each, so a cycle's alerts are told apart by their target.
    subscribed = {f"U{topic['qid'].upper()}": topic for topic in topics}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def paperbot(*words: str) -> str:
            done = subprocess.run(
                [args.paperbot, "--db", str(work / "day.db"), *words],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise SystemExit(f"paperbot {words[0]} failed: {done.stderr.strip()}")
            return done.stdout

        first_feeds, second_feeds = feed_halves(args.day, first, work)
        paperbot("ingest", *first_feeds)
        judgments = 0
        for user, topic in subscribed.items():
            added = json.loads(paperbot("subscribe", topic["query"], "--user", user, "--json"))
            for preview in added["previews"]:
                relevant = topic["judged"].get(preview["id"], 0) >= 1
                verdict = "relevant" if relevant else "not-relevant"
                paperbot("feedback", str(added["id"]), preview["id"], verdict)
                judgments += 1
        paperbot("ingest", *second_feeds)
        cycle = json.loads(paperbot("cycle", "--dry-run", "--json"))
    # The cycle matches every paper not matched yet, the first half's too: only the second
    # half's alerts count.
    alerted: dict[str, set[str]] = {}
    for alert in cycle["alerts"] + cycle["over_cap"]:
        if alert["paper"]["id"] in second:
            alerted.setdefault(alert["target"], set()).add(alert["paper"]["id"])
    figures = alert_figures(subscribed, alerted, second)
    precision, recall, per_subscription, unjudged = figures["all"]
    print(
        f"{args.day.name}: {judgments} previews judged; on the second half, precision "
        f"{precision:.3f}, recall {recall:.3f}, {per_subscription:.1f} alerts per subscription, "
        f"{unjudged} unjudged"
    )


if __name__ == "__main__":
    main()
