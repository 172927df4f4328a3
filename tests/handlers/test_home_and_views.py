"""The Home tab on app_home_opened, and the Add-subscription modal end to end."""

import json

from bot.subscriptions import subscribe
from tests.handlers.conftest import response_text


def test_home_tab_published_on_open(slack_app):
    services = slack_app.services
    subscribe(services.store, services.embedder, topic="<!channel> & friends", owner="U1")
    subscribe(services.store, services.embedder, topic="not for U1's eyes", owner="U2")
    answer = slack_app.event(
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    )
    assert answer.status == 200
    [call] = slack_app.wait_for_call("views.publish")
    view = json.dumps(call["view"])
    assert call["user_id"] == "U1" and call["view"]["type"] == "home"
    assert "&lt;!channel&gt; &amp; friends" in view and "<!channel>" not in view
    assert "not for U1" not in view
    assert "home_add_subscription" in view
    assert len(call["view"]["blocks"]) <= 100


def test_messages_tab_publishes_nothing(slack_app):
    slack_app.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages"})
    slack_app.command("help")
    slack_app.next_response()
    assert slack_app.fake.calls_to("views.publish") == []


def test_add_subscription_button_opens_the_modal(slack_app):
    slack_app.click("home_add_subscription", "add", view={"type": "home", "id": "V1"})
    [call] = slack_app.wait_for_call("views.open")
    assert call["view"]["callback_id"] == "add_subscription"


def modal(topic, channel=None, cadence="daily", strictness="strict"):
    return {
        "id": "V2",
        "type": "modal",
        "callback_id": "add_subscription",
        "state": {
            "values": {
                "topic": {"value": {"type": "plain_text_input", "value": topic}},
                "channel": {
                    "value": {"type": "conversations_select", "selected_conversation": channel}
                },
                "cadence": {
                    "value": {"type": "static_select", "selected_option": {"value": cadence}}
                },
                "strictness": {
                    "value": {"type": "static_select", "selected_option": {"value": strictness}}
                },
            }
        },
    }


def test_modal_submission_subscribes_dms_papers_to_judge_and_refreshes_home(slack_app):
    assert slack_app.submit_view(modal("graph neural networks")).status == 200
    home = slack_app.wait_for_call("views.publish")[-1]
    assert "graph neural networks" in json.dumps(home["view"])
    [dm] = slack_app.wait_for_call("chat.postMessage")
    assert dm["channel"] == "U1" and "Subscribed" in dm["text"]
    actions = [
        e["action_id"] for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions.count("paper_relevant") == 5 == actions.count("paper_not_relevant")
    assert "papers stored on the latest day, it would have alerted on" in response_text(dm)
    [subscription] = slack_app.services.store.subscriptions.for_owner(owner="U1")
    assert (subscription.target, subscription.cadence, subscription.strictness) == (
        "U1",
        "daily",
        "strict",
    )


def test_judging_previews_in_the_dm_marks_each_judged_paper_alone(slack_app):
    slack_app.submit_view(modal("graph neural networks"))
    slack_app.wait_for_call("chat.postMessage")

    def preview_buttons(message):
        return [
            b for b in message["blocks"] if b["type"] == "actions" and "paper_relevant" in str(b)
        ]

    for clicks, (action_id, n) in enumerate((("paper_relevant", 1), ("paper_not_relevant", 3)), 1):
        [message] = slack_app.fake.messages_in("DU1")
        value = preview_buttons(message)[n]["elements"][0]["value"]
        slack_app.click(action_id, value, channel="DU1", message=message)
        slack_app.wait_for_call("chat.update", count=clicks)
    [message] = slack_app.fake.messages_in("DU1")
    labels = [[e["text"]["text"] for e in b["elements"][:2]] for b in preview_buttons(message)]
    unjudged = ["Relevant", "Not relevant"]
    assert labels == [
        unjudged,
        ["✓ Relevant", "Not relevant"],
        unjudged,
        ["Relevant", "✓ Not relevant"],
        unjudged,
    ]
    assert response_text(message).count("<@U1> marked this") == 2


def test_modal_empty_topic_is_an_error_in_the_modal(slack_app):
    answer = slack_app.submit_view(modal("   "))
    assert answer.status == 200
    assert json.loads(answer.body)["errors"]["topic"]
    assert slack_app.services.store.subscriptions.for_owner(owner="U1") == []


def test_modal_topic_that_names_no_subject_is_an_error_in_the_modal(slack_app):
    answer = slack_app.submit_view(modal("papers about the"))
    assert answer.status == 200
    assert json.loads(answer.body)["errors"]["topic"].startswith("Name a subject")
    assert slack_app.services.store.subscriptions.for_owner(owner="U1") == []


def test_modal_channel_needs_membership(slack_app):
    slack_app.fake.members["C5"] = ["U2"]
    slack_app.submit_view(modal("robotics", channel="C5"))
    [dm] = slack_app.wait_for_call("chat.postMessage")
    assert dm["channel"] == "U1" and "Only members" in dm["text"]
    assert slack_app.services.store.subscriptions.for_owner(owner="U1") == []
