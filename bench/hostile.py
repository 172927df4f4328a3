"""`python bench/hostile.py`: time and peak memory of the hostile cases of issue 12.

Each case runs in a child process of its own, so its peak memory (ru_maxrss of that child)
is its own; everything stays on 127.0.0.1 and in a temporary folder.

- unsigned-300mb: four concurrent unsigned POSTs to /slack/events, each announcing and
  sending up to 300 MB, against the HTTP mode's server (waitress + bolt)
- slow-drip: a feed that sends one byte every 5 s, fetched with the default settings
- abstract-17mb: a feed whose one item has a 17.5 MB abstract, ingested and embedded
- abstract-one-word: the same, its abstract one unbroken 17.5 MB word
- items-140k: a 140,000-item RSS feed, ingested (capped) and embedded

`python bench/hostile.py CASE` runs one case.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import FeedSettings, load_settings  # noqa: E402

BODY_MB = 300
POSTS = 4
ABSTRACT_BYTES = 17_500_000
ITEMS = 140_000
DRIP_SECONDS = 5.0
# No case may run longer than this; the child is killed past it.
CASE_LIMIT_SECONDS = 600


def rss_feed(items: list[tuple[str, str, str]]) -> bytes:
    """A plain RSS 2.0 document of (link, title, abstract) items."""
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{link}</link>"
        f"<description>{escape(abstract)}</description></item>"
        for link, title, abstract in items
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
        f"<title>Hostile journal</title>{body}</channel></rss>"
    ).encode()


def settings_in(work: Path):
    return load_settings(db_path=str(work / "bench.db"), env={})


def unsigned_300mb(work: Path) -> str:
    from bot.app import HttpServer, build_bolt_app
    from bot.deliver import make_slack_client
    from bot.services import build_services
    from bot.settings import SlackSettings

    slack = SlackSettings(bot_token="xoxb-bench", signing_secret="bench-secret")
    settings = dataclasses.replace(settings_in(work), slack=slack)
    services = build_services(settings, slack=make_slack_client("xoxb-bench"))
    server = HttpServer(build_bolt_app(services), services, "127.0.0.1", 0)
    port = server.server.effective_port
    chunk = b"x" * (1024 * 1024)
    answers: list[str] = []

    def post() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("X-Slack-Request-Timestamp", str(int(time.time())))
        connection.putheader("X-Slack-Signature", "v0=forged")
        connection.putheader("Content-Length", str(BODY_MB * 1024 * 1024))
        connection.endheaders()
        sent = 0
        try:
            for _ in range(BODY_MB):
                connection.send(chunk)
                sent += 1
        except OSError:
            pass  # the server closed the connection: the body was refused
        try:
            status = connection.getresponse().status
        except OSError as error:
            status = type(error).__name__
        answers.append(f"{status} after {sent} MB sent")
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=post) for _ in range(POSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    seconds = time.monotonic() - started
    server.stop()
    return f"{POSTS} posts answered in {seconds:.2f} s: {'; '.join(sorted(answers))}"


class DripServer:
    """Serves one feed whose body comes one byte every DRIP_SECONDS."""

    def __init__(self, body: bytes):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(DRIP_SECONDS)
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/feed"


def slow_drip(work: Path) -> str:
    from bot.services import build_services

    services = build_services(settings_in(work))
    server = DripServer(rss_feed([("https://j.example/1", "A paper", "An abstract.")]))
    started = time.monotonic()
    report = services.pipeline.ingest_feed(FeedSettings(url=server.url, name="drip"))
    seconds = time.monotonic() - started
    return (
        f"fetch ended after {seconds:.1f} s (fetch.total_timeout "
        f"{services.settings.fetch.total_timeout:.0f} s): {report.status}, {report.error}"
    )


def ingest_and_embed(work: Path, feed: bytes) -> str:
    from bot.services import build_services

    path = work / "feed.xml"
    path.write_bytes(feed)
    services = build_services(settings_in(work))
    services.embedder.load()
    started = time.monotonic()
    report = services.pipeline.ingest_feed(FeedSettings(url=str(path), name="hostile"))
    ingested = time.monotonic()
    embedded = services.pipeline.embed_missing()
    done = time.monotonic()
    return (
        f"{len(feed) / 1e6:.1f} MB feed: {report.status}, {report.items} items, "
        f"{report.new} stored in {ingested - started:.1f} s; {embedded} embedded in "
        f"{done - ingested:.1f} s"
    )


def abstract_17mb(work: Path) -> str:
    words = "attention " * (ABSTRACT_BYTES // 10)
    return ingest_and_embed(work, rss_feed([("https://j.example/big", "A huge paper", words)]))


def abstract_one_word(work: Path) -> str:
    word = "x" * ABSTRACT_BYTES
    return ingest_and_embed(work, rss_feed([("https://j.example/word", "A huge word", word)]))


def items_140k(work: Path) -> str:
    items = [(f"https://j.example/{n}", f"Paper {n}", f"Abstract {n}.") for n in range(ITEMS)]
    return ingest_and_embed(work, rss_feed(items))


CASES = {
    "unsigned-300mb": unsigned_300mb,
    "slow-drip": slow_drip,
    "abstract-17mb": abstract_17mb,
    "abstract-one-word": abstract_one_word,
    "items-140k": items_140k,
}


def run_case(name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        print(CASES[name](Path(folder)), flush=True)


def main() -> None:
    names = sys.argv[1:] or list(CASES)
    if len(names) == 1 and os.environ.get("HOSTILE_CHILD"):
        run_case(names[0])
        return
    for name in names:
        env = {**os.environ, "HOSTILE_CHILD": "1"}
        child = subprocess.Popen(
            [sys.executable, __file__, name], env=env, stdout=subprocess.PIPE, text=True
        )
        timer = threading.Timer(CASE_LIMIT_SECONDS, child.kill)
        timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        timer.cancel()
        output = child.stdout.read().strip()
        peak_mb = usage.ru_maxrss / 1024
        print(f"{name}: peak RSS {peak_mb:.0f} MB; {output or f'exit status {status}'}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
