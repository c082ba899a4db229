"""The reception bot's turn in a conversation.

Until the knowledge base exists it knows no answers: it greets, recognises a request for a
human, and otherwise falls back, which counts as an unanswered question for the hand-over rule.
"""
import re
from dataclasses import dataclass

BOT_NAME = "Assistant"
GREETING = "Hi! I'm the virtual assistant. Ask me anything, or type \"human\" to talk to a person."
FALLBACK = "Sorry, I don't have an answer to that yet."
HANDING_OVER = "Let me connect you with a person. Please hold on."
NO_HUMANS = "Only the virtual assistant is available here, sorry."
WAITING_WITH_BOT = "Nobody is free right now. I'll keep you company and connect you as soon as someone is."
_HUMAN_REQUEST = re.compile(r"\b(human|person|agent|operator|someone real|real person)\b", re.IGNORECASE)


@dataclass(frozen=True)
class BotTurn:
    text: str
    answered: bool
    wants_human: bool


def respond(text: str) -> BotTurn:
    if _HUMAN_REQUEST.search(text):
        return BotTurn(HANDING_OVER, answered=True, wants_human=True)
    return BotTurn(FALLBACK, answered=False, wants_human=False)
