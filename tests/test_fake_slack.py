"""The fake Slack server answers a real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import socket

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.fake_slack import FakeSlack

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}]


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake):
    return WebClient(token="xoxb-test", base_url=fake.base_url, timeout=5)


def test_post_message_records_blocks_and_token(fake, client):
    response = client.chat_postMessage(channel="C1", text="hello", blocks=BLOCKS)

    assert response["ok"] and response["channel"] == "C1"
    assert response["message"]["blocks"] == BLOCKS
    [call] = fake.calls
    assert call.method == "chat.postMessage" and call.token == "xoxb-test"
    assert fake.calls_to("chat.postMessage") == [
        {"channel": "C1", "text": "hello", "blocks": BLOCKS}
    ]


def test_form_body_json_fields_are_decoded(fake, client):
    # api_call with params sends a form body, where blocks travel as JSON text.
    client.api_call("chat.postMessage", params={"channel": "C1", "blocks": '[{"type": "divider"}]'})

    assert fake.calls_to("chat.postMessage")[0]["blocks"] == [{"type": "divider"}]


def test_ts_increase(client):
    first = client.chat_postMessage(channel="C1", text="a")["ts"]
    second = client.chat_postMessage(channel="C1", text="b")["ts"]

    assert float(second) > float(first)


def test_rate_limited_then_retried_posts_once(fake):
    client = WebClient(
        token="xoxb-test",
        base_url=fake.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail_next("chat.postMessage", retry_after=0)

    client.chat_postMessage(channel="C1", text="hello")

    attempts = fake.calls_to("chat.postMessage", include_failed=True)
    assert len(attempts) == 2 and fake.calls[0].failed
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(fake.messages_in("C1")) == 1


def test_rate_limit_without_retry_handler_raises_with_retry_after(fake, client):
    fake.fail_next("chat.postMessage", retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hello")

    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert raised.value.response.headers["Retry-After"] == "7"


def test_api_error_is_raised_with_its_error(fake, client):
    fake.fail_next("chat.postMessage", error="channel_not_found")

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C404", text="hello")

    assert raised.value.response["error"] == "channel_not_found"
    assert fake.messages_in("C404") == []
    client.chat_postMessage(channel="C404", text="hello")  # only the next call failed


def test_server_error_times(fake, client):
    fake.fail_next("auth.test", status=500, times=2)

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.auth_test()
        assert raised.value.response.status_code == 500
    assert client.auth_test()["team_id"] == "T0001"


def test_delay_makes_the_client_time_out_but_the_post_lands(fake):
    client = WebClient(token="xoxb-test", base_url=fake.base_url, timeout=0.2)
    fake.fail_next("chat.postMessage", delay=1)

    with pytest.raises((TimeoutError, socket.timeout, OSError)):
        client.chat_postMessage(channel="C1", text="slow")

    # Like Slack, the message may exist although the client never saw the answer.
    fake_client = WebClient(token="xoxb-test", base_url=fake.base_url)
    history = fake_client.conversations_history(channel="C1")
    assert [m["text"] for m in history["messages"]] == ["slow"]


def test_history_is_newest_first_with_metadata_on_request(client):
    metadata = {"event_type": "paper_alert", "event_payload": {"paper": "2608.19199"}}
    client.chat_postMessage(channel="C1", text="old")
    client.chat_postMessage(channel="C1", text="new", metadata=metadata)

    plain = client.conversations_history(channel="C1")["messages"]
    full = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]

    assert [m["text"] for m in plain] == ["new", "old"]
    assert "metadata" not in plain[0]
    assert full[0]["metadata"] == metadata


def test_replies_are_the_parent_then_its_thread_with_metadata_on_request(client):
    metadata = {"event_type": "paperbot_digest", "event_payload": {"digest_id": 1, "part": 1}}
    parent = client.chat_postMessage(channel="C1", text="parent")["ts"]
    client.chat_postMessage(channel="C1", text="elsewhere")
    client.chat_postMessage(channel="C1", text="reply", thread_ts=parent, metadata=metadata)

    plain = client.conversations_replies(channel="C1", ts=parent)["messages"]
    full = client.conversations_replies(channel="C1", ts=parent, include_all_metadata=True)

    assert [m["text"] for m in plain] == ["parent", "reply"]
    assert "metadata" not in plain[1]
    assert full["messages"][1]["metadata"] == metadata
    # Replies are not top-level messages: history leaves them out.
    history = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in history] == ["elsewhere", "parent"]
    with pytest.raises(SlackApiError) as raised:
        client.conversations_replies(channel="C1", ts="1.000001")
    assert raised.value.response["error"] == "thread_not_found"


def test_channel_list_pages_and_types(fake, client):
    fake.max_page_size = 2
    fake.add_channel("C1", "general")
    fake.add_channel("C2", "random")
    fake.add_channel("G3", "secret", is_private=True)
    fake.add_channel("C4", "old", is_archived=True)
    fake.add_channel("C5", "vision")

    # slack_sdk follows next_cursor when the response is iterated, reusing one object.
    pages = [
        [c["name"] for c in page["channels"]]
        for page in client.conversations_list(exclude_archived=True, limit=1000)
    ]
    all_types = client.conversations_list(types="public_channel,private_channel", limit=1000)

    assert pages == [
        ["general", "random"],
        ["vision"],
    ]
    assert [c["id"] for c in all_types["channels"]] == ["C1", "C2"]
    assert all_types["response_metadata"]["next_cursor"]


def test_chat_update_edits_the_stored_message(fake, client):
    ts = client.chat_postMessage(channel="C1", text="draft")["ts"]

    client.chat_update(channel="C1", ts=ts, text="final")

    assert [m["text"] for m in fake.messages_in("C1")] == ["final"]
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert raised.value.response["error"] == "message_not_found"


def test_dm_open_users_members_and_views(fake, client):
    fake.users["U2"] = {"tz": "Europe/Berlin"}
    fake.members["C1"] = ["U1", "U2"]

    assert client.conversations_open(users="U1")["channel"]["id"] == "DU1"
    assert client.users_info(user="U1")["user"]["tz"] == "America/New_York"
    assert client.users_info(user="U2")["user"]["tz"] == "Europe/Berlin"
    assert client.conversations_members(channel="C1")["members"] == ["U1", "U2"]
    home = {"type": "home", "blocks": BLOCKS}
    assert client.views_publish(user_id="U1", view=home)["view"]["type"] == "home"
    assert client.views_open(trigger_id="t1", view={"type": "modal"})["view"]["id"]
    assert fake.calls_to("views.publish")[0]["view"] == home


def test_unknown_method_and_missing_token(fake, client):
    assert client.api_call("reactions.add", params={"name": "tada"})["ok"]

    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=fake.base_url).auth_test()
    assert raised.value.response["error"] == "not_authed"


def test_section_over_slack_limit_is_refused(client):
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="t", blocks=long_section)

    assert raised.value.response["error"] == "invalid_blocks"


def test_response_url_posts_are_recorded(fake):
    response = WebhookClient(fake.response_url("cmd1")).send(
        text="only you", replace_original=False
    )

    assert response.status_code == 200
    assert fake.responses == [{"text": "only you", "replace_original": False}]


def test_response_url_failure(fake):
    fake.fail_next("respond", status=404, error="expired_url")

    response = WebhookClient(fake.response_url()).send(text="late")

    assert response.status_code == 404
    assert fake.responses == []
