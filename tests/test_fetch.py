"""Fetcher against a real local HTTP server with scripted responses."""

from __future__ import annotations

import gzip
import random
import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from bot.fetch import Fetcher, parse_retry_after
from tests.feed_server import FeedServer, Reply

UA = "paperbot-test/0.1 (+https://example.org/paperbot; ops@example.org)"


@pytest.fixture
def server():
    srv = FeedServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


def make_fetcher(clock: FakeClock, **kwargs) -> Fetcher:
    kwargs.setdefault("min_interval_by_host", {})
    return Fetcher(user_agent=UA, sleep=clock.sleep, clock=clock, rng=random.Random(1), **kwargs)


def test_etag_then_not_modified(server, clock):
    def feed(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(304)
        return Reply(
            200, b"<rss/>", {"ETag": '"v1"', "Last-Modified": "Mon, 01 Sep 2025 00:00:00 GMT"}
        )

    server.routes["/feed"] = feed
    with make_fetcher(clock) as fetcher:
        first = fetcher.fetch(server.url("/feed"))
        second = fetcher.fetch(
            server.url("/feed"), etag=first.etag, last_modified=first.last_modified
        )

    assert (first.status, first.http_status, first.content) == ("ok", 200, b"<rss/>")
    assert first.etag == '"v1"' and first.attempts == 1
    assert (second.status, second.http_status, second.content) == ("not_modified", 304, None)
    assert second.etag == '"v1"'
    assert second.last_modified == "Mon, 01 Sep 2025 00:00:00 GMT"
    sent = server.requests[1][1]
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 01 Sep 2025 00:00:00 GMT"
    assert "if-none-match" not in server.requests[0][1]


def test_user_agent_is_sent(server, clock):
    server.routes["/feed"] = [Reply(200, b"x")]
    with make_fetcher(clock) as fetcher:
        fetcher.fetch(server.url("/feed"))
    assert server.requests[0][1]["user-agent"] == UA


def test_429_honours_retry_after(server, clock):
    server.routes["/feed"] = [Reply(429, b"slow down", {"Retry-After": "7"}), Reply(200, b"ok")]
    with make_fetcher(clock) as fetcher:
        result = fetcher.fetch(server.url("/feed"))
    assert (result.status, result.content, result.attempts) == ("ok", b"ok", 2)
    assert clock.sleeps == [7.0]


def test_retry_after_beyond_cap_is_not_waited_out(server, clock):
    server.routes["/feed"] = [Reply(429, b"", {"Retry-After": "3600"}), Reply(200, b"ok")]
    with make_fetcher(clock, max_retry_after=120) as fetcher:
        result = fetcher.fetch(server.url("/feed"))
    assert (result.status, result.http_status, result.attempts) == ("http_error", 429, 1)
    assert result.retry_after == 3600.0
    assert "3600" in result.error
    assert clock.sleeps == []


def test_503_is_retried_with_jittered_backoff(server, clock):
    server.routes["/feed"] = [Reply(503), Reply(503), Reply(200, b"ok")]
    with make_fetcher(clock, backoff_base=2.0) as fetcher:
        result = fetcher.fetch(server.url("/feed"))
    assert (result.status, result.attempts) == ("ok", 3)
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 2.0 and 0 <= clock.sleeps[1] <= 4.0


def test_503_gives_up_after_max_attempts(server, clock):
    server.routes["/feed"] = [Reply(503, b"busy")]
    with make_fetcher(clock, max_attempts=3) as fetcher:
        result = fetcher.fetch(server.url("/feed"))
    assert (result.status, result.http_status, result.attempts) == ("http_error", 503, 3)
    assert result.error == "HTTP 503 Service Unavailable after 3 attempts"
    assert result.content == b"busy"
    assert len(server.requests) == 3


def test_500_is_not_retried(server, clock):
    server.routes["/feed"] = [Reply(500, b"boom"), Reply(200, b"ok")]
    with make_fetcher(clock) as fetcher:
        result = fetcher.fetch(server.url("/feed"))
    assert (result.status, result.http_status, result.attempts) == ("http_error", 500, 1)
    assert result.error == "HTTP 500 Internal Server Error"
    assert len(server.requests) == 1 and clock.sleeps == []


def test_400_keeps_the_error_document(server, clock):
    doc = b"<feed><entry><summary>incorrect id format</summary></entry></feed>"
    server.routes["/api"] = [Reply(400, doc)]
    with make_fetcher(clock) as fetcher:
        result = fetcher.fetch(server.url("/api"))
    assert (result.status, result.http_status, result.content) == ("http_error", 400, doc)


def test_read_timeout_is_a_network_error(server, clock):
    server.routes["/slow"] = [Reply(200, b"late", delay=1.0)]
    with make_fetcher(clock, read_timeout=0.3, max_attempts=2) as fetcher:
        result = fetcher.fetch(server.url("/slow"))
    assert result.status == "network_error"
    assert "timed out" in result.error
    assert result.attempts == 2 and len(clock.sleeps) == 1


def test_connection_refused_is_retried_then_reported(clock):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with make_fetcher(clock, max_attempts=3) as fetcher:
        result = fetcher.fetch(f"http://127.0.0.1:{port}/feed")
    assert (result.status, result.attempts) == ("network_error", 3)
    assert result.error.startswith("connection failed")
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("content_length", [True, False])
def test_oversized_body_is_too_large(server, clock, content_length):
    server.routes["/big"] = [Reply(200, b"x" * 5000, content_length=content_length)]
    with make_fetcher(clock, max_bytes=1000) as fetcher:
        result = fetcher.fetch(server.url("/big"))
    assert (result.status, result.content, result.attempts) == ("too_large", None, 1)


def test_requests_to_one_host_are_spaced(server, clock):
    server.routes["/a"] = [Reply(200, b"a")]
    server.routes["/b"] = [Reply(200, b"b")]
    with make_fetcher(clock, min_interval_by_host={"127.0.0.1": 3.0}) as fetcher:
        fetcher.fetch(server.url("/a"))
        fetcher.fetch(server.url("/b"))
        clock.now += 1.0  # time passes between polls; only the rest is waited
        fetcher.fetch(server.url("/a"))
    assert clock.sleeps == [pytest.approx(3.0), pytest.approx(2.0)]


def test_default_spacing_covers_arxiv_subdomains(clock):
    fetcher = Fetcher(user_agent=UA, sleep=clock.sleep, clock=clock)
    try:
        assert fetcher._spacing_for("export.arxiv.org") == ("arxiv.org", 3.0)
        assert fetcher._spacing_for("rss.arxiv.org") == ("arxiv.org", 3.0)
        assert fetcher._spacing_for("notarxiv.org")[1] == 0.0
    finally:
        fetcher.close()


def test_one_request_at_a_time_to_a_spaced_host(server):
    server.routes["/feed"] = [Reply(200, b"ok", delay=0.2)]
    with Fetcher(user_agent=UA, min_interval_by_host={"127.0.0.1": 0.01}) as fetcher:
        threads = [
            threading.Thread(target=fetcher.fetch, args=(server.url("/feed"),)) for _ in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(server.requests) == 3 and server.max_in_flight == 1


def test_local_files_are_read(tmp_path, clock):
    feed = tmp_path / "arxiv cs.CL.xml"
    feed.write_bytes(b"<rss>local</rss>")
    with make_fetcher(clock) as fetcher:
        by_path = fetcher.fetch(str(feed))
        by_url = fetcher.fetch(feed.as_uri())
        missing = fetcher.fetch(str(tmp_path / "missing.xml"))
    assert (by_path.status, by_path.content) == ("ok", b"<rss>local</rss>")
    assert (by_url.status, by_url.content) == ("ok", b"<rss>local</rss>")
    assert missing.status == "network_error" and "missing.xml" in missing.error


def test_gzip_data_is_inflated_within_the_size_limit(server, clock, tmp_path):
    feed = b"<rss>" + b" " * 500 + b"</rss>"
    server.routes["/feed.xml.gz"] = [Reply(200, gzip.compress(feed))]
    server.routes["/bomb.gz"] = [Reply(200, gzip.compress(b" " * 100_000))]
    capture = tmp_path / "feed.xml.gz"
    capture.write_bytes(gzip.compress(feed))
    with make_fetcher(clock, max_bytes=1000) as fetcher:
        served = fetcher.fetch(server.url("/feed.xml.gz"))
        saved = fetcher.fetch(str(capture))
        bomb = fetcher.fetch(server.url("/bomb.gz"))
    assert (served.status, served.content) == ("ok", feed)
    assert (saved.status, saved.content) == ("ok", feed)
    assert (bomb.status, bomb.content, bomb.error) == (
        "too_large",
        None,
        "body larger than 1000 bytes",
    )


def test_parse_retry_after():
    now = datetime(2025, 9, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Mon, 01 Sep 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Sep 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_body_dripped_a_byte_at_a_time_is_cut_off_at_the_total_timeout(server):
    server.routes["/drip"] = [Reply(200, b"<rss>" + b" " * 100 + b"</rss>", drip=0.05)]
    with Fetcher(user_agent=UA, min_interval_by_host={}, total_timeout=0.5) as fetcher:
        result = fetcher.fetch(server.url("/drip"))
    assert (result.status, result.content) == ("network_error", None)
    assert result.error.startswith("timed out: over")


def test_a_retry_after_past_the_total_timeout_is_not_waited_out(server, clock):
    server.routes["/busy"] = [Reply(429, b"later", {"Retry-After": "100"})]
    with make_fetcher(clock, total_timeout=60) as fetcher:
        result = fetcher.fetch(server.url("/busy"))
    assert clock.sleeps == [] and len(server.requests) == 1
    assert result.status == "http_error" and result.retry_after == 100


def test_a_slow_host_does_not_hold_up_another(server):
    """127.0.0.1 and localhost are two hosts to the fetcher (the same server here)."""
    server.routes["/slow"] = [Reply(200, b"slow", delay=1.0)]
    server.routes["/fast"] = [Reply(200, b"fast")]
    spaced = {"127.0.0.1": 0.01, "localhost": 0.01}
    with Fetcher(user_agent=UA, min_interval_by_host=spaced) as fetcher:
        slow = threading.Thread(target=fetcher.fetch, args=(server.url("/slow"),))
        slow.start()
        while server.in_flight == 0:
            time.sleep(0.01)
        fast = fetcher.fetch(server.url("/fast").replace("127.0.0.1", "localhost"))
        slow.join()
    assert fast.status == "ok" and server.max_in_flight == 2


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "/inside"])
def test_a_redirect_to_a_private_address_is_refused(server, clock, target):
    location = target if target.startswith("http") else server.url(target)
    server.routes["/feed"] = [Reply(302, b"", {"Location": location})]
    server.routes["/inside"] = [Reply(200, b"<rss>secret</rss>")]
    with make_fetcher(clock) as fetcher:
        result = fetcher.fetch(server.url("/feed"))
    assert result.status == "network_error" and result.content is None
    assert "refused a redirect" in result.error and "private address" in result.error
    assert [path for path, _ in server.requests] == ["/feed"]


def test_a_redirect_is_followed_where_the_settings_allow_private_addresses(server, clock):
    server.routes["/feed"] = [Reply(301, b"", {"Location": "/inside"})]
    server.routes["/inside"] = [Reply(200, b"<rss>ok</rss>")]
    with make_fetcher(clock, allow_private_addresses=True) as fetcher:
        result = fetcher.fetch(server.url("/feed"))
    assert (result.status, result.content) == ("ok", b"<rss>ok</rss>")


def test_a_server_slow_to_answer_is_cut_off_at_the_total_timeout(server):
    server.routes["/late"] = [Reply(200, b"<rss/>", delay=3.0)]
    with Fetcher(user_agent=UA, min_interval_by_host={}, total_timeout=0.5) as fetcher:
        result = fetcher.fetch(server.url("/late"))
    assert (result.status, result.content) == ("network_error", None)
    assert result.error.startswith("timed out reading")
