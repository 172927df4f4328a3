"""The /papers slash command."""

from __future__ import annotations

from slack_bolt import App

from bot.blocks import escape
from bot.services import Services

HELP = (
    "*/papers* commands:\n"
    "• `/papers search sparse attention long context`: the best stored papers\n"
    "• `/papers help`: this list"
)


def register(app: App, services: Services) -> None:
    def papers_command(ack, command, respond):
        ack()
        text = (command.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        if word.lower() == "search" and rest.strip():
            hits = services.search.search(rest, limit=5)
            lines = [f"• <{h.paper.url}|{escape(h.paper.title)}>" for h in hits]
            respond(text="\n".join(lines) or "No stored paper matches that query.")
        else:
            respond(text=HELP)

    app.command("/papers")(papers_command)
