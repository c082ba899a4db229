"""Bot reports, from ``bot_turns``: conversations the bot resolved alone, the hand-off rate, how
its answers went, and the questions it could not answer.

A *bot conversation* started in the period and has at least one bot turn (a visitor question the
bot handled). It was *handed over* when it has a ``handed_over`` event, and *resolved by the bot
alone* when it is closed, was never handed over and no agent wrote in it. A channel filter keeps
that channel's conversations and their bot turns."""
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from ...models import BotTurn, Conversation, ConversationEvent, Message
from ...models.conversations import AGENT, CLOSED
from ...models.knowledge import ANSWERED, FALLBACK, HANDED_OVER, HELPFUL, NOT_HELPFUL, SUGGESTED
from ...models.reception import CHANNELS
from .period import Period

OUTCOMES = (ANSWERED, SUGGESTED, FALLBACK, HANDED_OVER)
UNANSWERED_LIMIT = 50


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _unanswered(turns) -> list[dict]:
    """Fallback questions grouped regardless of case and spacing, in Python so both databases group
    and spell them alike: the most asked first, each shown as it was last asked."""
    groups: dict[str, dict] = {}
    for question, asked_at in turns:  # oldest first: the last one seen is the latest phrasing
        group = groups.setdefault(" ".join(question.lower().split()), {"times": 0})
        group.update(question=question.strip(), times=group["times"] + 1, last_asked=asked_at)
    ranked = sorted(groups.values(), key=lambda g: (-g["times"], -g["last_asked"].timestamp()))
    return ranked[:UNANSWERED_LIMIT]


def _counts(total: int, handed: int, resolved: int) -> dict:
    return {"conversations": total, "resolved_alone": resolved, "resolved_rate": _rate(resolved, total),
            "handed_over": handed, "handoff_rate": _rate(handed, total)}


def report(session: Session, period: Period, channel: str | None = None) -> dict:
    """The period's figures; with ``channel``, of that channel's conversations only."""
    had_turn = exists().where(BotTurn.conversation_id == Conversation.id)
    handed_over = exists().where(ConversationEvent.conversation_id == Conversation.id,
                                 ConversationEvent.kind == "handed_over")
    agent_wrote = exists().where(Message.conversation_id == Conversation.id, Message.sender_type == AGENT)
    alone = and_(Conversation.status == CLOSED, ~handed_over, ~agent_wrote)
    counts = (func.count(Conversation.id), func.count(Conversation.id).filter(handed_over),
              func.count(Conversation.id).filter(alone))
    bot_conversations = [period.contains(Conversation.created_at), had_turn]
    in_period = period.contains(BotTurn.created_at)
    if channel is not None:
        bot_conversations.append(Conversation.channel == channel)
        in_period &= BotTurn.conversation_id.in_(select(Conversation.id).where(Conversation.channel == channel))
    bucket = period.bucket(Conversation.created_at).label("bucket")
    per_bucket = session.execute(select(bucket, *counts).where(*bot_conversations).group_by(bucket)).all()
    per_channel = {name: row for name, *row in session.execute(
        select(Conversation.channel, *counts).where(*bot_conversations).group_by(Conversation.channel))}
    by_label = {label: (total, over, solved) for label, total, over, solved in per_bucket}
    series = [{"bucket": label, "conversations": by_label.get(label, (0, 0, 0))[0],
               "handed_over": by_label.get(label, (0, 0, 0))[1], "resolved_alone": by_label.get(label, (0, 0, 0))[2]}
              for label in period.bucket_labels()]
    conversations = sum(row["conversations"] for row in series)
    handed = sum(row["handed_over"] for row in series)
    resolved = sum(row["resolved_alone"] for row in series)

    outcomes = dict(session.execute(select(BotTurn.outcome, func.count(BotTurn.id)).where(in_period)
                                    .group_by(BotTurn.outcome)).all())
    ratings = dict(session.execute(select(BotTurn.rating, func.count(BotTurn.id))
                                   .where(in_period, BotTurn.rating.is_not(None)).group_by(BotTurn.rating)).all())
    unanswered = _unanswered(session.execute(
        select(BotTurn.question, BotTurn.created_at).where(in_period, BotTurn.outcome == FALLBACK)
        .order_by(BotTurn.created_at, BotTurn.id)).all())
    return {
        **_counts(conversations, handed, resolved),
        "channels": [{"channel": name, **_counts(*per_channel[name])} for name in CHANNELS if name in per_channel],
        "series": series,
        "turns": sum(outcomes.values()),
        "outcomes": {outcome: outcomes.get(outcome, 0) for outcome in OUTCOMES},
        "ratings": {rating: ratings.get(rating, 0) for rating in (HELPFUL, NOT_HELPFUL)},
        "unanswered": unanswered,
    }
