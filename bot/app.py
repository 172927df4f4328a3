"""Builds the bolt App and the services, and serves them in Socket Mode or over HTTP."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier
from waitress import wasyncore

import handlers
from bot.deliver import make_slack_client, unreachable
from bot.instance import take_over
from bot.scheduler import build_scheduler, stop_scheduler
from bot.services import Services, build_services
from bot.settings import Settings

log = logging.getLogger(__name__)

# Slack's requests are a few kilobytes (an alert's button click carries the alert: ~40 KB
# at most). waitress refuses a larger body with 413 from its Content-Length, unread.
MAX_BODY_BYTES = 512 * 1024
# Threads answering commands, buttons and events after their ack.
WORK_THREADS = 8


class ServeError(Exception):
    """`paperbot run` cannot start; the message says what to change."""


class StopSignal:
    """SIGTERM or SIGINT, awaited by the main thread; a second one kills at once.

    Python runs a signal's handler in the main thread, and only once that thread runs
    again; a main thread asleep in threading.Event.wait() may never be woken (CPython
    issue 85300). `paperbot run` ignored SIGTERM that way in 2 of 100 starts, the
    handler never run (faulthandler's stacks). Here the signal itself wakes the thread:
    signal.set_wakeup_fd makes the interpreter write the signal's number to a pipe
    the moment it arrives, whichever thread receives it, and wait() reads that pipe.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._previous_wakeup = signal.set_wakeup_fd(self._write)
        for signum in self.SIGNALS:
            # A handler of Python's own, so the interpreter catches the signal (and writes
            # to the pipe) instead of the default action ending the process.
            signal.signal(signum, self._on_signal)

    @staticmethod
    def _on_signal(signum, frame) -> None:
        """Nothing: wait() learns of the signal from the pipe."""

    def wait(self) -> signal.Signals:
        """Block until the first signal; which one it was."""
        received = os.read(self._read, 1)[0]
        for signum in self.SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_wakeup)
        os.close(self._read)
        os.close(self._write)
        return signal.Signals(received)


def _not_token_skipped(record: logging.LogRecord) -> bool:
    """bolt reads SLACK_BOT_TOKEN itself and warns that the client passed in wins over it:
    the client carries that same token, so the warning says nothing."""
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


def build_bolt_app(services: Services) -> App:
    """The bolt App with every paperbot listener registered on it; the listeners' work
    after their ack runs on a pool of its own (see handlers/__init__.py)."""
    slack = services.settings.slack
    logging.getLogger("slack_bolt.App").addFilter(_not_token_skipped)
    app = App(
        client=services.slack,
        signing_secret=slack.signing_secret or None,
        token_verification_enabled=False,
    )
    work = ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="slack-work")
    handlers.register(app, services, work)
    app.error(log_listener_error)
    return app


def log_listener_error(error: Exception, body: dict) -> None:
    """Errors no listener caught: the details go to the log (never the request's tokens)."""
    kind = body.get("type") or body.get("command") or "request"
    log.error("unhandled error in a Slack listener for %s", kind, exc_info=error)


def health(services: Services) -> dict:
    return {"ok": True, "papers": services.store.papers.count()}


def wsgi_app(app: App, signing_secret: str, status: Callable[[], dict]):
    """Slack's requests on POST /slack/events, and GET /healthz for load balancers.

    A request to /slack/events whose signature does not check out is answered 401 here,
    before bolt sees it: bolt answers 500 to a timestamp that is not a number, and logs
    the whole body of a refused request.
    """
    slack_handler = SlackRequestHandler(app, path="/slack/events")
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps(status()).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("REQUEST_METHOD") == "POST" and verifier is not None:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            if not signed_by_slack(verifier, body, environ):
                log.info("refused a request with a bad signature (%d bytes)", len(body))
                start_response("401 Unauthorized", [("Content-Type", "application/json")])
                return [b'{"error": "invalid request"}']
            environ["wsgi.input"] = io.BytesIO(body)
        return slack_handler(environ, start_response)

    return application


def signed_by_slack(verifier: SignatureVerifier, body: bytes, environ: dict) -> bool:
    """Whether the request carries Slack's signature of `body`, made in the last 5 minutes."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    try:
        return verifier.is_valid(body, timestamp, environ.get("HTTP_X_SLACK_SIGNATURE", ""))
    except ValueError:  # a timestamp that is not a number
        return False


class HttpServer:
    """paperbot's HTTP endpoint: waitress, running in a thread of its own until stop().

    waitress has no way to stop a server from another thread: server.close() there closes
    sockets the loop is polling, and the loop dies on EBADF (Pylons/waitress#468; its
    maintainers point to webtest's StopableWSGIServer instead). Here the loop runs in short
    rounds and, once asked to stop, closes every socket itself between two rounds.
    """

    ROUND_SECONDS = 0.1

    def __init__(self, app: App, services: Services, host: str, port: int, **options):
        """Listen on host:port at once (OSError if it cannot); `options` are waitress's."""
        self._sockets: dict = {}
        self.server = waitress.create_server(
            wsgi_app(app, services.settings.slack.signing_secret, lambda: health(services)),
            map=self._sockets,
            host=host,
            port=port,
            max_request_body_size=MAX_BODY_BYTES,
            **options,
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            wasyncore.loop(
                timeout=self.ROUND_SECONDS,
                map=self._sockets,
                use_poll=self.server.adj.asyncore_use_poll,
                count=1,
            )
        wasyncore.close_all(self._sockets)

    def stop(self) -> None:
        """Close every connection and the port, and end the threads answering requests."""
        self._stopping.set()
        self._thread.join()
        self.server.task_dispatcher.shutdown()


def serve(settings: Settings, echo: Callable[[str], None], port: int | None = None) -> None:
    """Run paperbot until SIGTERM or SIGINT: the model loads first, then the Slack
    connection (`echo` says where paperbot listens), then the scheduler.

    On the signal: no job starts any more, the alert being posted is finished and the
    rest of its batch goes back to the queue, the running job ends, the scheduler and
    the Slack connection stop, and serve() returns (the process exits 0). A second
    signal kills the process at once.
    """
    slack = make_slack_client(settings.slack.bot_token, settings.slack.api_base_url)
    services = build_services(settings, slack=slack)
    lock = take_over(settings.database.path, services.pipeline.deliverer)
    services.embedder.load()
    app = build_bolt_app(services)
    scheduler, ticker = build_scheduler(services)
    close_slack, where = _connect_slack(app, services, settings, port)
    stop_signal = StopSignal()
    scheduler.start()
    # Said once everything runs, and a signal stops paperbot cleanly.
    echo(f"paperbot is {where}. Ctrl-C stops it.")
    log.info("%s received: shutting down", stop_signal.wait().name)
    scheduler.pause()
    if services.pipeline.deliverer is not None:
        services.pipeline.deliverer.request_stop()
    ticker.stop()
    stop_scheduler(scheduler)
    close_slack()
    if lock is not None:
        lock.release()
    log.info("stopped")


def _connect_slack(
    app: App, services: Services, settings: Settings, port: int | None
) -> tuple[Callable[[], None], str]:
    """Start taking Slack's requests in the background; returns what stops it, and where
    the requests come from, for the user."""
    if settings.slack.app_token:
        handler = SocketModeHandler(app, settings.slack.app_token)
        try:
            handler.connect()
        except SlackApiError as error:
            raise ServeError(
                f"Slack refused the Socket Mode connection ({error.response.get('error')}): "
                "check SLACK_APP_TOKEN, an app-level token (xapp-...) with connections:write."
            ) from None
        except (SlackClientError, OSError) as error:
            raise ServeError(f"paperbot {unreachable(app.client.base_url, error)}.") from None
        return handler.close, "connected to Slack in Socket Mode"
    port = port or settings.server.port
    host = settings.server.host
    try:
        server = HttpServer(app, services, host, port)
    except OSError as error:
        raise ServeError(
            f"paperbot cannot listen on {host}:{port} ({error.strerror}): stop the program "
            "using that port, or choose another with `paperbot run --port N` "
            "(or [server] port in your settings)."
        ) from None
    return server.stop, f"listening on http://{host}:{port}/slack/events (health check: /healthz)"
