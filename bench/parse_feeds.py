"""Parse every fixture feed: papers and status per file, and the parsing time.

    .venv/bin/python bench/parse_feeds.py [--repeat N] [--dump papers.json]

--dump writes every paper's fields, so two versions of the parser can be compared.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from bot.sources import parse_feed

FEEDS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "feeds"


def fixture_files() -> list[Path]:
    return sorted(
        p
        for p in FEEDS.rglob("*")
        if p.suffix in (".xml", ".json") and not p.name.endswith(".recorded.json")
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    files = [(p.relative_to(FEEDS).as_posix(), p.read_bytes()) for p in fixture_files()]
    dump = {}
    for name, content in files:
        result = parse_feed(content, url=name)
        print(f"{name}: {result.status}, {len(result.papers)} papers; {result.error or ''}")
        dump[name] = {
            "status": result.status,
            "error": result.error,
            "papers": [dataclasses.asdict(p) for p in result.papers],
        }
    started = time.perf_counter()
    for _ in range(args.repeat):
        for name, content in files:
            parse_feed(content, url=name)
    seconds = (time.perf_counter() - started) / args.repeat
    total = sum(len(d["papers"]) for d in dump.values())
    mean = f"{seconds * 1000:.1f} ms a pass (mean of {args.repeat})"
    print(f"{len(files)} files, {total} papers: {mean}")
    if args.dump:
        args.dump.write_text(json.dumps(dump, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
