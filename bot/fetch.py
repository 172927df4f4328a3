"""Polite HTTP for feeds: conditional GET, timeouts, per-host spacing, retries with backoff.

`Fetcher.fetch` never raises for network or HTTP problems; it returns a `FetchResult`
that says what happened, so one broken feed cannot stop a polling cycle.

Retry policy: 429, 502, 503, 504, connection errors and timeouts are retried, up to
`max_attempts` requests in all. The wait is the server's `Retry-After` when it sends one,
otherwise exponential backoff with full jitter. A `Retry-After` longer than
`max_retry_after` is not waited out: the fetch stops and reports it in `retry_after`,
so the scheduler can come back later instead of holding a worker for an hour.
500 and every other 4xx/5xx are reported at once: a 500 from a feed server is usually
a fault that repeats on the spot, and the next polling cycle is the retry.

Each fetch ends within `total_timeout` seconds, whatever the server does (a body dripped
a byte at a time, Retry-After): waiting for the host, retries and reading included.
Requests to a host that asks for spacing (arXiv) go one at a time; another host never
waits for them.

Redirects are followed by hand, a few at most, and one to a loopback, link-local or
private address is refused unless `allow_private_addresses`: a feed must not make the
bot read its own network (169.254.169.254, 127.0.0.1).
"""

from __future__ import annotations

import email.utils
import ipaddress
import random
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

# arXiv asks for one request every 3 seconds; subdomains share one budget because
# export.arxiv.org and rss.arxiv.org are the same service.
DEFAULT_MIN_INTERVAL_BY_HOST = {"arxiv.org": 3.0}

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_REDIRECTS = 5
GZIP_MAGIC = b"\x1f\x8b"

_TIMEOUT_REASONS = {
    httpx.ConnectTimeout: "timed out connecting",
    httpx.ReadTimeout: "timed out reading",
    httpx.WriteTimeout: "timed out sending",
    httpx.PoolTimeout: "timed out waiting for a connection",
}


@dataclass
class FetchResult:
    """What one fetch of one URL ended with.

    status is "ok" (2xx, content present), "not_modified" (304), "http_error" (content
    kept: the arXiv API explains a 400 in its body), "network_error" (also an unreadable
    local file) or "too_large".
    """

    url: str
    status: str
    http_status: int | None
    content: bytes | None
    etag: str | None
    last_modified: str | None
    error: str | None
    attempts: int
    # Seconds the server asked us to wait (Retry-After), when it asked.
    retry_after: float | None = None


class _PastDeadline(Exception):
    """The fetch ran out of its total time while reading."""


@dataclass
class _Attempt:
    """One request's outcome and whether another request may help."""

    result: FetchResult
    retryable: bool = False


class Fetcher:
    """Fetches feed URLs and local feed files politely: one request at a time to a host
    that asks for spacing."""

    def __init__(
        self,
        *,
        user_agent: str,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_bytes: int = 20_000_000,
        max_attempts: int = 4,
        backoff_base: float = 2.0,
        min_interval_by_host: dict[str, float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        max_retry_after: float = 120.0,
        rng: random.Random | None = None,
        total_timeout: float = 60.0,
        allow_private_addresses: bool = False,
    ) -> None:
        """Build a fetcher.

        min_interval_by_host maps a host suffix ("arxiv.org" also covers
        "export.arxiv.org") to the least number of seconds between two requests to it;
        None means DEFAULT_MIN_INTERVAL_BY_HOST. `sleep`, `clock` and `rng` are injectable
        so tests need not wait.
        """
        if not user_agent.strip():
            raise ValueError("user_agent must name the bot and a contact")
        self.max_bytes = max_bytes
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.max_retry_after = max_retry_after
        self.total_timeout = total_timeout
        self.allow_private_addresses = allow_private_addresses
        if min_interval_by_host is None:
            min_interval_by_host = DEFAULT_MIN_INTERVAL_BY_HOST
        self._intervals = {host.lower(): float(s) for host, s in min_interval_by_host.items()}
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._locks_guard = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._last_request_end: dict[str, float] = {}
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        self._client = httpx.Client(
            headers={"User-Agent": user_agent},
            transport=transport,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch url (http, https, file:// or a plain path); conditional when given validators."""
        path = local_path(url)
        if path is not None:
            return self._read_file(url, path)
        deadline = self._clock() + self.total_timeout
        host_key, interval = self._spacing_for(urlsplit(url).hostname or "")
        if interval <= 0:
            return self._fetch_http(url, etag, last_modified, host_key, interval, deadline)
        # The lock spans the waits too: spacing is only meaningful if nobody jumps the queue.
        lock = self._host_lock(host_key)
        if not lock.acquire(timeout=self.total_timeout):
            return _network_error(url, f"timed out waiting for another request to {host_key}")
        try:
            return self._fetch_http(url, etag, last_modified, host_key, interval, deadline)
        finally:
            lock.release()

    def _host_lock(self, host_key: str) -> threading.Lock:
        with self._locks_guard:
            return self._host_locks.setdefault(host_key, threading.Lock())

    def _fetch_http(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        host_key: str,
        interval: float,
        deadline: float,
    ) -> FetchResult:
        """Request url until it succeeds, fails for good, attempts or time run out."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempts = 0
        while True:
            attempts += 1
            self._wait_for_host(host_key, interval)
            attempt = self._request(url, headers, etag, last_modified, deadline)
            self._last_request_end[host_key] = self._clock()
            result = attempt.result
            result.attempts = attempts
            if not attempt.retryable or attempts >= self.max_attempts:
                break
            delay = result.retry_after
            if delay is None:
                delay = self._backoff(attempts)
            elif delay > self.max_retry_after:
                result.error += f"; server asked to wait {delay:.0f} s"
                return result
            if self._clock() + delay > deadline:
                result.error += f"; no time left to retry within {self.total_timeout:.0f} s"
                break
            self._sleep(delay)
        if attempts > 1 and result.error:
            result.error += f" after {attempts} attempts"
        return result

    def _request(
        self,
        url: str,
        headers: dict[str, str],
        etag: str | None,
        last_modified: str | None,
        deadline: float,
    ) -> _Attempt:
        """Make one request, following a few redirects, and classify what came back."""
        try:
            # No single wait (to connect, for the next bytes) may go past the deadline.
            left = max(deadline - self._clock(), 0.001)
            timeout = httpx.Timeout(
                connect=min(self._timeout.connect, left),
                read=min(self._timeout.read, left),
                write=min(self._timeout.write, left),
                pool=min(self._timeout.pool, left),
            )
            request = self._client.build_request("GET", url, headers=headers, timeout=timeout)
            for _ in range(MAX_REDIRECTS + 1):
                response = self._client.send(request, stream=True)
                try:
                    if response.next_request is None:
                        return self._read_response(url, response, etag, last_modified, deadline)
                    request = response.next_request
                finally:
                    response.close()
                refused = self._refused_redirect(request.url.host)
                if refused:
                    return _Attempt(_network_error(url, refused))
            return _Attempt(_network_error(url, "request failed: too many redirects"))
        except httpx.TimeoutException as exc:
            return _Attempt(_network_error(url, _TIMEOUT_REASONS.get(type(exc), "timed out")), True)
        except _PastDeadline:
            return _Attempt(_network_error(url, f"timed out: over {self.total_timeout:.0f} s"))
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            return _Attempt(_network_error(url, f"connection failed: {_describe(exc)}"), True)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # Bad scheme, undecodable body: asking again will not help.
            return _Attempt(_network_error(url, f"request failed: {_describe(exc)}"))

    def _refused_redirect(self, host: str) -> str | None:
        """Why a redirect to `host` is not followed, or None when it may be."""
        if self.allow_private_addresses:
            return None
        address = private_address(host)
        if address is None:
            return None
        return f"refused a redirect to {host}: a private address ({address})"

    def _read_response(
        self,
        url: str,
        response: httpx.Response,
        etag: str | None,
        last_modified: str | None,
        deadline: float,
    ) -> _Attempt:
        """Turn a response into a result, reading at most max_bytes of its body."""
        status = response.status_code
        new_etag = response.headers.get("ETag")
        new_last_modified = response.headers.get("Last-Modified")
        if status == 304:
            # A 304 need not repeat the validators; the ones we sent are still current.
            etag, last_modified = new_etag or etag, new_last_modified or last_modified
            return _Attempt(
                FetchResult(url, "not_modified", 304, None, etag, last_modified, None, 0)
            )
        ok = 200 <= status < 300
        body = self._read_body(response, deadline)
        if body is not None and ok:
            body = gunzipped(body, self.max_bytes)
        if body is None and ok:
            error = f"body larger than {self.max_bytes} bytes"
            return _Attempt(FetchResult(url, "too_large", status, None, None, None, error, 0))
        if ok:
            return _Attempt(
                FetchResult(url, "ok", status, body, new_etag, new_last_modified, None, 0)
            )
        result = FetchResult(
            url,
            "http_error",
            status,
            body,
            etag,
            last_modified,
            f"HTTP {status} {response.reason_phrase}".strip(),
            0,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
        return _Attempt(result, retryable=status in RETRY_STATUSES)

    def _read_body(self, response: httpx.Response, deadline: float) -> bytes | None:
        """Return the body, or None once it passes max_bytes; _PastDeadline when reading
        goes on past `deadline`.

        Counting decoded bytes also stops a small gzip body that inflates to gigabytes.
        """
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return None
        chunks = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self.max_bytes:
                return None
            if self._clock() > deadline:
                raise _PastDeadline
            chunks.append(chunk)
        return b"".join(chunks)

    def _read_file(self, url: str, path: Path) -> FetchResult:
        """Read a local feed file, with the same size limit as a download."""
        try:
            with path.open("rb") as f:
                content = f.read(self.max_bytes + 1)
        except OSError as exc:
            return _network_error(url, f"cannot read {path}: {exc.strerror or exc}", attempts=1)
        content = gunzipped(content, self.max_bytes) if len(content) <= self.max_bytes else None
        if content is None:
            error = f"file larger than {self.max_bytes} bytes"
            return FetchResult(url, "too_large", None, None, None, None, error, 1)
        return FetchResult(url, "ok", None, content, None, None, None, 1)

    def _spacing_for(self, host: str) -> tuple[str, float]:
        """Return the key requests to host are spaced under, and the interval.

        The longest matching suffix wins, so a specific host can override its domain.
        """
        host = host.lower()
        matches = [s for s in self._intervals if host == s or host.endswith("." + s)]
        if not matches:
            return host, 0.0
        suffix = max(matches, key=len)
        return suffix, self._intervals[suffix]

    def _wait_for_host(self, key: str, interval: float) -> None:
        """Sleep until interval seconds have passed since the last request under key ended."""
        last = self._last_request_end.get(key)
        if last is None or interval <= 0:
            return
        remaining = interval - (self._clock() - last)
        if remaining > 0:
            self._sleep(remaining)

    def _backoff(self, failed_attempts: int) -> float:
        """Full-jitter exponential backoff, so many clients do not retry in step."""
        ceiling = self.backoff_base * 2 ** (failed_attempts - 1)
        return self._rng.uniform(0, min(ceiling, self.max_retry_after))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def private_address(host: str) -> str | None:
    """The loopback, link-local, private or otherwise non-public address `host` resolves
    to, if any; None for a public host or one that does not resolve."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not address.is_global:
            return str(address)
    return None


def gunzipped(content: bytes, limit: int) -> bytes | None:
    """`content` inflated when it is gzip data, else as it is; None when it inflates past
    `limit` bytes.

    A saved capture (`2026-08-13-cs-cl.xml.gz`), or a server sending a .gz file as its body
    rather than as Content-Encoding (which httpx decodes itself), is still a feed; feedparser
    reads neither. Data that only starts like gzip is left for the parser to reject.
    """
    if not content.startswith(GZIP_MAGIC):
        return content
    try:
        inflated = zlib.decompressobj(wbits=31).decompress(content, limit + 1)
    except zlib.error:
        return content
    return inflated if len(inflated) <= limit else None


def local_path(url: str) -> Path | None:
    """Return the file a file:// URL or plain path names, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(url2pathname(parts.path))
    # One letter is a Windows drive ("C:\\feeds\\x.xml"), not a scheme.
    if parts.scheme == "" or len(parts.scheme) == 1:
        return Path(url)
    return None


def _network_error(url: str, reason: str, attempts: int = 0) -> FetchResult:
    return FetchResult(url, "network_error", None, None, None, None, reason, attempts)


def _describe(exc: Exception) -> str:
    """A short reason; some httpx errors have an empty message."""
    return str(exc) or type(exc).__name__
