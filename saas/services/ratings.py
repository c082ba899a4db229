"""Satisfaction ratings: the tenant's scale and tags per level, who may rate which conversation
and when, and one stored rating per conversation (rating again updates it)."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..i18n import N_, Label, translate
from ..models import Conversation, ConversationRating, RatingSettings, User, Visitor, utcnow
from ..models.conversations import AGENT_HANDLER, CLOSED, OPEN
from ..models.engagement import LEVELS3, RATING_SCALES, STARS5
from . import conversations, languages
from .errors import Forbidden, Invalid

# Score -> level name, per scale. The English level name is stored and what reports group by;
# visitors see it in their language.
LEVELS = {
    STARS5: {1: N_("1 star"), 2: N_("2 stars"), 3: N_("3 stars"), 4: N_("4 stars"), 5: N_("5 stars")},
    LEVELS3: {1: N_("unsatisfied"), 2: N_("neutral"), 3: N_("satisfied")},
}
SCALE_LABELS = {STARS5: "1 to 5 stars", LEVELS3: "3 levels (unsatisfied, neutral, satisfied)"}
COMMENT_MAX, TAG_MAX, TAGS_PER_LEVEL = 1000, 40, 10


def settings(session: Session) -> RatingSettings:
    return session.get(RatingSettings, 1)


def tags_for(stored: RatingSettings, scale: str, score: int) -> list[str]:
    return list((stored.tags or {}).get(scale, {}).get(str(score), []))


def clean_tags(text_by_score: dict[int, str]) -> dict[str, list[str]]:
    """Admin input (one comma-separated line per level) as stored tags, refusing what cannot be shown."""
    cleaned = {}
    for score, line in text_by_score.items():
        tags = list(dict.fromkeys(tag.strip() for tag in (line or "").split(",") if tag.strip()))
        if len(tags) > TAGS_PER_LEVEL:
            raise Invalid("too_many_tags", "At most %(limit)s tags per level.", limit=TAGS_PER_LEVEL)
        if any(len(tag) > TAG_MAX for tag in tags):
            raise Invalid("tag_too_long", "A tag is at most %(limit)s characters.", limit=TAG_MAX)
        cleaned[str(score)] = tags
    return cleaned


def update_settings(session: Session, *, enabled: bool, scale: str, tags: dict[str, dict[int, str]]) -> RatingSettings:
    if scale not in RATING_SCALES:
        raise Invalid("invalid_scale", "Choose 1 to 5 stars or 3 levels.")
    stored = settings(session)
    stored.enabled, stored.scale = bool(enabled), scale
    stored.tags = {name: clean_tags({score: tags.get(name, {}).get(score, "") for score in LEVELS[name]})
                   for name in RATING_SCALES}
    session.commit()
    return stored


def rating_for(session: Session, conversation: Conversation) -> ConversationRating | None:
    return session.scalar(select(ConversationRating).where(ConversationRating.conversation_id == conversation.id))


def may_rate(conversation: Conversation) -> bool:
    """After the conversation closed, or while open once an agent invited a rating."""
    return conversation.status == CLOSED or conversation.rating_invited_at is not None


def form(session: Session, conversation: Conversation | None, language: str | None = None) -> dict:
    """What the widget shows: the scale, each level's tags, and the visitor's rating so far. The
    visitor answers with the stored ``tags`` (as the admin wrote them); ``label`` and ``tag_labels``
    are what they see, in their language."""
    stored = settings(session)
    levels = []
    for score, level in LEVELS[stored.scale].items():
        tags = tags_for(stored, stored.scale, score)
        levels.append({"score": score, "level": level, "label": translate(language, level), "tags": tags,
                       "tag_labels": {tag: languages.rating_tag(session, tag, language) for tag in tags}})
    existing = rating_for(session, conversation) if conversation is not None else None
    return {
        "enabled": stored.enabled,
        "conversation_id": conversation.id if conversation is not None else None,
        "may_rate": bool(stored.enabled and conversation is not None and may_rate(conversation)),
        "scale": stored.scale,
        "levels": levels,
        "rating": rating_dict(existing) if existing is not None else None,
    }


def invite(session: Session, agent: User, conversation_id) -> Conversation:
    """An agent asks the visitor to rate now, before closing."""
    conversation = conversations.get_conversation(session, conversation_id)
    if not settings(session).enabled:
        raise Invalid("ratings_off", "Satisfaction ratings are switched off for this workspace.")
    if conversation.status != OPEN:
        raise Invalid("conversation_closed", "The visitor is already asked to rate a closed conversation.")
    if conversation.assigned_agent_id not in (None, agent.id) and not agent.is_admin:
        raise Forbidden("not_your_conversation", "This conversation is assigned to someone else.")
    conversation.rating_invited_at = utcnow()
    session.commit()
    return conversation


def rate(session: Session, visitor: Visitor, conversation_id, *, score, tags, comment) -> ConversationRating:
    """The visitor rates (or re-rates) their own conversation. Nothing is stored on any refusal."""
    conversation = conversations.get_conversation(session, conversation_id)
    if conversation.visitor_id != visitor.id:
        raise Forbidden("not_your_conversation", "You can only rate your own conversation.")
    stored = settings(session)
    if not stored.enabled:
        raise Invalid("ratings_off", N_("Ratings are switched off."))
    if not may_rate(conversation):
        raise Invalid("conversation_open", N_("You can rate this conversation once it has ended."))
    levels = LEVELS[stored.scale]
    if not isinstance(score, int) or isinstance(score, bool) or score not in levels:
        raise Invalid("invalid_score", "Choose a rating from 1 to %(highest)s.", highest=len(levels))
    offered = tags_for(stored, stored.scale, score)
    if not isinstance(tags, list) or any(not isinstance(tag, str) or tag not in offered for tag in tags):
        raise Invalid("invalid_tags", "Choose tags from those offered for %(level)s.", level=Label(levels[score]))
    if not isinstance(comment, str) or len(comment.strip()) > COMMENT_MAX or "\x00" in comment:
        raise Invalid("invalid_comment", "A comment is at most %(limit)s characters.", limit=COMMENT_MAX)
    values = {
        "agent_id": conversation.assigned_agent_id if conversation.handler == AGENT_HANDLER else None,
        "department_id": conversation.department_id, "scale": stored.scale, "score": score,
        "level": levels[score], "tags": list(dict.fromkeys(tags)), "comment": comment.strip(),
        "updated_at": utcnow(),
    }
    return _upsert(session, conversation, values)


def _upsert(session: Session, conversation: Conversation, values: dict) -> ConversationRating:
    rating = rating_for(session, conversation)
    if rating is None:
        rating = ConversationRating(conversation_id=conversation.id, created_at=values["updated_at"])
        session.add(rating)
    for name, value in values.items():
        setattr(rating, name, value)
    try:
        session.commit()
    except IntegrityError:  # another tab stored the first rating at the same moment: update that one
        session.rollback()
        rating = rating_for(session, conversation)
        for name, value in values.items():
            setattr(rating, name, value)
        session.commit()
    return rating


def rating_dict(rating: ConversationRating) -> dict:
    return {
        "conversation_id": rating.conversation_id, "scale": rating.scale, "score": rating.score,
        "level": rating.level, "tags": rating.tags or [], "comment": rating.comment,
        "agent_id": rating.agent_id, "department_id": rating.department_id,
        "created_at": rating.created_at.isoformat(), "updated_at": rating.updated_at.isoformat(),
    }
