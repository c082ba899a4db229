"""The reception bot's turn: answer from the knowledge base, suggest, or fall back and offer a
person. Every question it handles is recorded as a BotTurn (metrics and the learning loop)."""
import functools
import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ..models import BotTurn, Conversation
from ..models.knowledge import ANSWERED, FALLBACK, HANDED_OVER, HELPFUL, NOT_HELPFUL, SUGGESTED
from . import knowledge_base, languages, reception
from .errors import Invalid, NotFound

BOT_NAME = "Assistant"
# A tenant's own greeting, fallback and hand-off keywords are in its reception settings; these
# are the defaults a new tenant starts with (migration 0004).
GREETING = "Hi! I'm the virtual assistant. Ask me anything, or type \"human\" to talk to a person."
FALLBACK_TEXT = "Sorry, I don't have an answer to that yet."
HANDOFF_KEYWORDS = "human, person, agent, operator, real person"
DID_YOU_MEAN = "Did you mean one of these?"
HANDING_OVER = "Let me connect you with a person. Please hold on."
NO_HUMANS = "Only the virtual assistant is available here, sorry."
WAITING_WITH_BOT = "Nobody is free right now. I'll keep you company and connect you as soon as someone is."
TALK_TO_A_HUMAN = {"label": "Talk to a human", "action": "human"}


@functools.lru_cache(maxsize=256)
def _human_request(keywords: str) -> re.Pattern:
    """A pattern for the tenant's hand-off keywords: whole words, except in scripts (Chinese…)
    that do not separate words with spaces."""
    words = [w.strip() for w in keywords.split(",") if w.strip()]
    parts = [re.escape(w) if not w.isascii() else rf"\b{re.escape(w)}\b" for w in words]
    return re.compile("|".join(parts) or r"(?!)", re.IGNORECASE)


@dataclass(frozen=True)
class BotReply:
    text: str
    outcome: str  # answered, suggested, fallback, handed_over
    extras: dict = field(default_factory=dict)  # quick replies, suggestions, the answer's HTML
    entry_id: int | None = None
    suggested_ids: tuple[int, ...] = ()
    score: float | None = None

    @property
    def wants_human(self) -> bool:
        return self.outcome == HANDED_OVER

    @property
    def answered(self) -> bool:
        return self.outcome in (ANSWERED, HANDED_OVER)


def greeting(session: Session, language: str | None = None) -> tuple[str, dict]:
    top = knowledge_base.top_questions(session)
    return (languages.localized(session, "bot_greeting", language, reception.settings(session).bot_greeting),
            {"quick_replies": [{"label": e.question, "value": e.question} for e in top]})


def respond(session: Session, text: str, language: str | None = None) -> BotReply:
    settings = reception.settings(session)
    if _human_request(settings.bot_handoff_keywords).search(text):
        return BotReply(HANDING_OVER, HANDED_OVER)
    decision = knowledge_base.matcher(session).decide(text)
    if decision.kind == "answer":
        html = decision.entry.answer
        return BotReply(knowledge_base.answer_text(html), ANSWERED, {"answer_html": html}, int(decision.entry.id),
                        score=decision.score)
    if decision.kind == "suggest":
        suggestions = [{"entry_id": int(e.id), "label": e.question, "value": e.question} for e in decision.suggestions]
        return BotReply(DID_YOU_MEAN, SUGGESTED, {"suggestions": suggestions},
                        suggested_ids=tuple(s["entry_id"] for s in suggestions), score=decision.score)
    fallback = languages.localized(session, "bot_fallback", language, settings.bot_fallback)
    return BotReply(fallback, FALLBACK, {"quick_replies": [TALK_TO_A_HUMAN]}, score=decision.score or None)


def record_turn(session: Session, conversation: Conversation, question: str, reply: BotReply) -> BotTurn:
    turn = BotTurn(conversation_id=conversation.id, question=question[:2000], outcome=reply.outcome,
                   entry_id=reply.entry_id, suggested_ids=list(reply.suggested_ids), score=reply.score)
    session.add(turn)
    session.flush()
    return turn


def rate(session: Session, conversation: Conversation, turn_id, rating) -> BotTurn:
    """A visitor's helpful / not helpful on one of the bot's answers in their conversation."""
    if rating not in (HELPFUL, NOT_HELPFUL):
        raise Invalid("invalid_rating", "A rating is helpful or not_helpful.")
    turn = session.get(BotTurn, turn_id) if isinstance(turn_id, int) else None
    if turn is None or turn.conversation_id != conversation.id or turn.outcome != ANSWERED:
        raise NotFound("turn_not_found", "No such answer to rate.")
    turn.rating = rating
    session.commit()
    return turn
