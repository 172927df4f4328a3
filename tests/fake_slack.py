"""A local fake of the Slack Web API for tests.

slack_sdk and bolt speak urllib, which mocking libraries cannot intercept, so
tests point a real WebClient (or SLACK_API_BASE_URL) at this server instead:

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert fake.calls_to("chat.postMessage")[0]["text"] == "hi"

It answers the methods paperbot uses with the shapes Slack returns, keeps the
messages it was sent so `conversations.history` and `conversations.replies` can
show them again, lists the channels a test adds (`add_channel`) through
`conversations.list`, and can be told to fail the next calls of a method (rate
limits, 5xx, API errors, slow answers).
"""

from __future__ import annotations

import collections
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TEAM_ID = "T0001"
BOT_USER_ID = "UBOT"
BOT_ID = "B0001"
APP_ID = "A0001"

# Fields Slack accepts as JSON text inside form bodies; decoded so tests can
# inspect them the same way whichever encoding the client chose.
JSON_FIELDS = ("blocks", "attachments", "metadata", "view")

# Limits Slack enforces on messages; checked so a test fails the way Slack would.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_VALUE = 2000
MAX_MESSAGE_TEXT = 40000
# The most items Slack returns on one page of a paginated method, whatever `limit` asks.
MAX_PAGE_SIZE = 1000


@dataclass
class Call:
    """One request the fake received."""

    method: str
    body: dict
    headers: dict
    failed: bool = False

    @property
    def token(self) -> str | None:
        """The token from the Authorization header, or from the body as Slack also allows."""
        for name, value in self.headers.items():
            if name.lower() == "authorization" and value.startswith("Bearer "):
                return value.removeprefix("Bearer ")
        return self.body.get("token")


@dataclass
class _Fault:
    """How to answer the next `times` calls of a method instead of normally."""

    status: int | None
    error: str | None
    retry_after: int | None
    delay: float
    times: int


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict = field(default_factory=dict)


class FakeSlack:
    """A Slack Web API on 127.0.0.1, in a daemon thread, recording every call."""

    def __init__(self, require_token: bool = True):
        self.require_token = require_token
        self.calls: list[Call] = []
        self.responses: list[dict] = []
        self.users: dict[str, dict] = {}
        self.members: dict[str, list[str]] = {}
        self.channels: list[dict] = []
        # Slack may return fewer items than `limit` asks for; a test lowers this to make
        # a client walk several pages of conversations.list.
        self.max_page_size = MAX_PAGE_SIZE
        self._messages: dict[str, list[dict]] = collections.defaultdict(list)
        self._faults: dict[str, collections.deque[_Fault]] = collections.defaultdict(
            collections.deque
        )
        self._lock = threading.Lock()
        self._last_us = 0
        self._view_seq = 0
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeSlack:
        """Bind a free port and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._stopping.clear()
        # A short poll interval keeps stop(), and so every test's teardown, fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes any handler sleeping in an injected delay."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack is not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What WebClient(base_url=...) and SLACK_API_BASE_URL take (ends with a slash)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url, as in a slash command or action payload, that records into .responses."""
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    # -- inspection --------------------------------------------------------

    def calls_to(self, method: str, include_failed: bool = False) -> list[dict]:
        """Bodies of the calls to `method`; by default only those the fake answered normally."""
        with self._lock:
            return [
                c.body
                for c in self.calls
                if c.method == method and (include_failed or not c.failed)
            ]

    def messages_in(self, channel: str) -> list[dict]:
        """Messages posted to `channel` (after chat.update edits), oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages.get(channel, [])]

    # -- workspace contents ------------------------------------------------

    def add_channel(
        self, channel_id: str, name: str, is_private: bool = False, is_archived: bool = False
    ) -> None:
        """A channel conversations.list shows (members are set in .members)."""
        with self._lock:
            self.channels.append(
                {
                    "id": channel_id,
                    "name": name,
                    "is_channel": not is_private,
                    "is_group": is_private,
                    "is_private": is_private,
                    "is_archived": is_archived,
                    "is_member": True,
                }
            )

    # -- fault injection ---------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with a failure instead.

        - no error and no status: rate limited (HTTP 429, Retry-After 1, error "ratelimited");
        - status=429: the same, with your retry_after;
        - status>=400: that HTTP status with {"ok": false, "error": error or "internal_error"};
        - error only: HTTP 200 with {"ok": false, "error": error}, like channel_not_found;
        - delay only: do the call, then wait `delay` seconds before answering, as when
          Slack posts a message but the client gives up waiting for the answer;
        - delay with a failure: wait, then fail.
        `method` "respond" applies to response_url posts.
        """
        if delay and error is None and status is None:
            fault = _Fault(None, None, None, delay, times)
        else:
            if status is None:
                status = 429 if error in (None, "ratelimited") else 200
            if status == 429:
                error = error or "ratelimited"
                retry_after = 1 if retry_after is None else retry_after
            elif status >= 400:
                error = error or "internal_error"
            fault = _Fault(status, error, retry_after, delay, times)
        with self._lock:
            self._faults[method].append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.popleft()
            return fault

    # -- request handling --------------------------------------------------

    def _handle(self, method: str, body: dict, headers: dict) -> _Answer:
        """Answer one API call, applying any injected fault, and record it."""
        fault = self._take_fault(method)
        if fault and fault.status is not None:
            self._stopping.wait(fault.delay)
            self._record(Call(method, body, headers, failed=True))
            return _fault_answer(fault)
        call = Call(method, body, headers)
        answer = self._answer(call)
        call.failed = not (answer.status == 200 and answer.body.get("ok"))
        self._record(call)
        if fault:
            # The call has taken effect; only the answer is late, so a client that
            # times out must find out from Slack (history) whether it landed.
            self._stopping.wait(fault.delay)
        return answer

    def _handle_respond(self, name: str, body: dict, headers: dict) -> _Answer:
        """Record a post to a response_url, as bolt's respond() makes."""
        fault = self._take_fault("respond")
        if fault and fault.delay:
            self._stopping.wait(fault.delay)
        if fault and fault.status is not None:
            self._record(Call("respond", body, headers, failed=True))
            return _Answer(fault.status, fault.error or "")
        self._record(Call("respond", body, headers))
        with self._lock:
            self.responses.append(body)
        return _Answer(200, "ok")

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _answer(self, call: Call) -> _Answer:
        if self.require_token and not call.token:
            return _error("not_authed")
        answer_method = getattr(self, "_api_" + call.method.replace(".", "_"), None)
        body = answer_method(call.body) if answer_method else {"ok": True}
        return _Answer(200, body)

    def _next_ts(self) -> str:
        """A Slack-style ts ("seconds.micros") that always increases."""
        with self._lock:
            self._last_us = max(self._last_us + 1, int(time.time() * 1_000_000))
            us = self._last_us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    # -- the API methods ---------------------------------------------------

    def _api_auth_test(self, body: dict) -> dict:
        return {
            "ok": True,
            "url": "https://paperbot-test.slack.com/",
            "team": "Paperbot Test",
            "user": "paperbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _api_chat_postMessage(self, body: dict) -> dict:
        channel = _dm_channel(body.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        problem = _check_message(body)
        if problem:
            return {"ok": False, "error": problem}
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": body.get("text", ""),
            "ts": self._next_ts(),
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if key in body:
                message[key] = body[key]
        with self._lock:
            self._messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": dict(message)}

    def _api_chat_update(self, body: dict) -> dict:
        channel = _dm_channel(body.get("channel", ""))
        problem = _check_message(body)
        if problem:
            return {"ok": False, "error": problem}
        with self._lock:
            found = [m for m in self._messages.get(channel, []) if m["ts"] == body.get("ts")]
            if not found:
                return {"ok": False, "error": "message_not_found"}
            message = found[0]
            for key in ("text", "blocks", "attachments", "metadata"):
                if key in body:
                    message[key] = body[key]
            message["edited"] = {"user": BOT_USER_ID, "ts": body["ts"]}
            result = dict(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": result["ts"],
            "text": result["text"],
            "message": result,
        }

    def _api_chat_postEphemeral(self, body: dict) -> dict:
        if not body.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not body.get("user"):
            return {"ok": False, "error": "user_not_found"}
        problem = _check_message(body)
        if problem:
            return {"ok": False, "error": problem}
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_conversations_open(self, body: dict) -> dict:
        users = [u for u in str(body.get("users", "")).split(",") if u]
        if body.get("channel"):
            return {"ok": True, "channel": {"id": body["channel"]}}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) == 1:
            channel_id = "D" + users[0]
        else:
            channel_id = "G" + "".join(users)
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _api_views_publish(self, body: dict) -> dict:
        if not body.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view(body.get("view") or {})}

    def _api_views_open(self, body: dict) -> dict:
        if not body.get("trigger_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view(body.get("view") or {})}

    def _view(self, view: dict) -> dict:
        """The view as Slack echoes it back, with an id and empty state."""
        with self._lock:
            self._view_seq += 1
            seq = self._view_seq
        return {
            "id": f"V{seq:07d}",
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "private_metadata": "",
            "callback_id": "",
            "hash": f"{seq}.fakehash",
            "state": {"values": {}},
            **view,
        }

    def _api_users_info(self, body: dict) -> dict:
        user_id = body.get("user", "")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": user_id == BOT_USER_ID,
            "tz": "America/New_York",
            "tz_label": "Eastern Standard Time",
            "tz_offset": -18000,
            "profile": {"display_name": user_id.lower(), "real_name": f"User {user_id}"},
        }
        with self._lock:
            user.update(self.users.get(user_id, {}))
        return {"ok": True, "user": user}

    def _api_conversations_members(self, body: dict) -> dict:
        with self._lock:
            members = list(self.members.get(body.get("channel", ""), []))
        page, cursor = _paginate(members, body, self.max_page_size)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _api_conversations_list(self, body: dict) -> dict:
        """The channels added with add_channel, of the asked `types`, a page at a time."""
        types = str(body.get("types") or "public_channel").split(",")
        exclude_archived = _truthy(body.get("exclude_archived"))
        with self._lock:
            channels = [dict(c) for c in self.channels]
        selected = [
            channel
            for channel in channels
            if ("private_channel" if channel["is_private"] else "public_channel") in types
            and not (exclude_archived and channel["is_archived"])
        ]
        page, cursor = _paginate(selected, body, self.max_page_size)
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}

    def _api_conversations_history(self, body: dict) -> dict:
        """Top-level messages of a channel, newest first, like Slack's history."""
        channel = body.get("channel", "")
        oldest = float(body.get("oldest") or 0)
        latest = float(body.get("latest") or "inf")
        inclusive = _truthy(body.get("inclusive"))
        with_metadata = _truthy(body.get("include_all_metadata"))
        with self._lock:
            messages = [dict(m) for m in reversed(self._messages.get(channel, []))]
        selected = []
        for message in messages:
            ts = float(message["ts"])
            in_range = oldest <= ts <= latest if inclusive else oldest < ts < latest
            is_reply = message.get("thread_ts", message["ts"]) != message["ts"]
            if in_range and not is_reply:
                if not with_metadata:
                    message.pop("metadata", None)
                selected.append(message)
        return _message_page(selected, body, self.max_page_size)

    def _api_conversations_replies(self, body: dict) -> dict:
        """A thread, oldest first: its parent message, then the replies in the time range.

        As in Slack, the parent comes first on the first page whatever `oldest` says, and
        metadata is only shown with include_all_metadata.
        """
        channel = body.get("channel", "")
        thread_ts = body.get("ts", "")
        oldest = float(body.get("oldest") or 0)
        latest = float(body.get("latest") or "inf")
        inclusive = _truthy(body.get("inclusive"))
        with_metadata = _truthy(body.get("include_all_metadata"))
        with self._lock:
            messages = [dict(m) for m in self._messages.get(channel, [])]
        parents = [m for m in messages if m["ts"] == thread_ts]
        if not parents:
            return {"ok": False, "error": "thread_not_found"}
        selected = parents[:1]
        for message in messages:
            ts = float(message["ts"])
            in_range = oldest <= ts <= latest if inclusive else oldest < ts < latest
            if message.get("thread_ts") == thread_ts and message["ts"] != thread_ts and in_range:
                selected.append(message)
        if not with_metadata:
            for message in selected:
                message.pop("metadata", None)
        return _message_page(selected, body, self.max_page_size)


class _Handler(BaseHTTPRequestHandler):
    """Routes /api/<method> and /respond/<name> to the FakeSlack that owns the server."""

    fake: FakeSlack
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._route()

    def do_GET(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        body = _decode_body(self._read_body(), self.headers.get("Content-Type", ""))
        for key, values in parse_qs(url.query, keep_blank_values=True).items():
            body.setdefault(key, values[-1])
        body = _decode_json_fields(body)
        headers = dict(self.headers.items())
        if url.path.startswith("/api/"):
            answer = self.fake._handle(url.path.removeprefix("/api/"), body, headers)
        elif url.path.startswith("/respond/"):
            answer = self.fake._handle_respond(url.path.removeprefix("/respond/"), body, headers)
        else:
            answer = _Answer(404, "not found")
        self._send(answer)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, answer: _Answer) -> None:
        if isinstance(answer.body, str):
            payload, content_type = answer.body.encode(), "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(answer.body).encode(), "application/json"
            content_type += "; charset=utf-8"
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); nothing is left to answer.
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def _decode_body(raw: bytes, content_type: str) -> dict:
    """Form or JSON body to a dict of single values."""
    if not raw:
        return {}
    text = raw.decode("utf-8")
    if "json" in content_type:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return {"_raw": text}
        return data if isinstance(data, dict) else {"_json": data}
    if "x-www-form-urlencoded" in content_type:
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    return {"_raw": text}


def _decode_json_fields(body: dict) -> dict:
    """Decode `blocks`, `metadata` and the like when they came as JSON text."""
    decoded = dict(body)
    for key in JSON_FIELDS:
        value = decoded.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                decoded[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as sent; Slack would answer invalid_blocks, tests will see why
    return decoded


def _check_message(body: dict) -> str | None:
    """The error Slack gives for a message it refuses, or None."""
    blocks = body.get("blocks")
    text = body.get("text")
    if not text and not blocks and not body.get("attachments"):
        return "no_text"
    if text and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        if not _block_ok(block):
            return "invalid_blocks"
    return None


def _block_ok(block: dict) -> bool:
    """Checks the size limits paperbot can run into, not Block Kit's whole schema."""
    kind = block.get("type")
    text = (block.get("text") or {}).get("text", "")
    if kind == "section" and len(text) > MAX_SECTION_TEXT:
        return False
    if kind == "header" and len(text) > MAX_HEADER_TEXT:
        return False
    for element in block.get("elements", []):
        if element.get("type") == "button" and len(element.get("value", "")) > MAX_BUTTON_VALUE:
            return False
    return True


def _fault_answer(fault: _Fault) -> _Answer:
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    return _Answer(fault.status, {"ok": False, "error": fault.error}, headers)


def _error(error: str) -> _Answer:
    return _Answer(200, {"ok": False, "error": error})


def _dm_channel(channel: str) -> str:
    """Posting to a user id lands in the DM with that user, as in Slack."""
    if channel.startswith(("U", "W")):
        return "D" + channel
    return channel


def _truthy(value: Any) -> bool:
    """Form bodies carry booleans as "1"/"true"; JSON bodies as true."""
    return value in (True, 1, "1", "true", "True")


def _message_page(messages: list, body: dict, max_page_size: int) -> dict:
    """A conversations.history or conversations.replies answer: one page of `messages`."""
    page, cursor = _paginate(messages, body, max_page_size)
    return {
        "ok": True,
        "messages": page,
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def _paginate(items: list, body: dict, max_page_size: int) -> tuple[list, str]:
    """A page of `items` after the cursor, and the next cursor ("" at the end); a page
    holds `limit` items (100 when not given), never more than `max_page_size`."""
    limit = min(int(body.get("limit") or 100), max_page_size)
    start = int(body.get("cursor") or 0)
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else "")
