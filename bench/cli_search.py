"""How long `paperbot search` takes from the shell, start to answer (issue 14: under 3 s on
an idle 2-core machine), next to the same search through the service's full model stack
(sentence-transformers), which the command used before.

    .venv/bin/python bench/cli_search.py [ROUNDS]

Stores the bundled cs.CL sample feed in a temporary database first, then runs both, in
alternating rounds, in fresh processes; prints each run and the medians, with the load
average, since a busy machine makes both slower.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAPERBOT = [sys.executable, "-c", "from bot.cli import main; main()"]
QUERY = "KV cache compression for long-context inference"
# The service's way: build_services, its Embedder (sentence-transformers), its Search.
SERVICE_SEARCH = f"""
import sys
from bot.services import build_services
from bot.settings import load_settings
services = build_services(load_settings(db_path=sys.argv[1]))
for hit in services.search.search({QUERY!r}):
    print(hit.paper.title)
"""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    sample = REPO / "bot" / "samples" / "arxiv_rss2_cs.CL_2026-08-21.xml"
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "bench.db")
        subprocess.run([*PAPERBOT, "--db", db, "ingest", str(sample)], cwd=REPO, check=True)
        cli, service = [], []
        for _ in range(rounds):
            cli.append(timed([*PAPERBOT, "--db", db, "search", QUERY]))
            service.append(timed([sys.executable, "-c", SERVICE_SEARCH, db]))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before the last run: {load} ({os.cpu_count()} cores)")
    print("paperbot search:          " + " ".join(f"{t:.2f}" for t in cli))
    print("service stack, same query:" + " ".join(f" {t:.2f}" for t in service))
    print(
        f"median: paperbot search {statistics.median(cli):.2f} s, "
        f"service stack {statistics.median(service):.2f} s (target: paperbot search < 3 s)"
    )


if __name__ == "__main__":
    main()
