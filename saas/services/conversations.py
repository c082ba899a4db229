"""Conversations and messages: where a message is validated, sequenced, deduplicated and stored."""
import functools
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..models import Conversation, Message, ReadMarker, User, Visitor, utcnow
from ..models.conversations import AGENT, BOT, OPEN, SYSTEM, VISITOR
from . import rich_text
from .errors import Invalid, NotFound

CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
HISTORY_LIMIT = 1000
SYSTEM_NAME = "Switchboard"  # the sender name of automatic replies
INBOX_LIMIT = 200


@dataclass(frozen=True)
class Posted:
    conversation: Conversation
    message: Message
    # False when the client id was already stored: the caller acknowledges, but does not broadcast.
    is_new: bool


def clean_body(body, max_length: int) -> str:
    if not isinstance(body, str):
        raise Invalid("invalid_body", "A message is text.")
    text = body.strip()
    if not text:
        raise Invalid("empty_message", "A message cannot be empty.")
    if "\x00" in text:  # PostgreSQL text cannot hold it; refuse it everywhere alike
        raise Invalid("invalid_characters", "A message cannot contain NUL characters.")
    if len(text) > max_length:
        raise Invalid("message_too_long", "A message is at most %(limit)s characters.", limit=max_length)
    return text


def clean_client_id(client_id) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
        raise Invalid("invalid_client_id", "Each message needs a client id of 8-64 letters, digits or -_.:")
    return client_id


def valid_id(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**31 - 1:
        raise Invalid("invalid_id", "An id is a positive whole number.")
    return value


def _no_such_conversation() -> NotFound:
    return NotFound("conversation_not_found", "No such conversation.")


def get_conversation(session: Session, conversation_id) -> Conversation:
    conversation = session.get(Conversation, valid_id(conversation_id))
    if conversation is None:
        raise _no_such_conversation()
    return conversation


@functools.cache
def _with_resent(also):
    """Built once per ``also``: every agent reply runs it (see _NEXT_SEQ)."""
    return (select(Conversation, Message, also)
            .outerjoin(Message, and_(Message.conversation_id == Conversation.id,
                                     Message.client_id == bindparam("client_id")))
            .where(Conversation.id == bindparam("conversation_id")))


def get_with_resent(session: Session, conversation_id, client_id: str,
                    also) -> tuple[Conversation, "Posted | None", object]:
    """``get_conversation`` and ``resent`` in one query: the conversation, the stored message when
    ``client_id`` was already sent into it, and the value of ``also``, a scalar subquery the
    caller reads along (a settings version)."""
    row = session.execute(_with_resent(also), {"conversation_id": valid_id(conversation_id),
                                               "client_id": client_id}).one_or_none()
    if row is None:
        raise _no_such_conversation()
    conversation, stored, value = row
    return conversation, Posted(conversation, stored, is_new=False) if stored is not None else None, value


def latest_for_visitor(session: Session, visitor: Visitor) -> Conversation | None:
    return session.scalar(
        select(Conversation)
        .where(Conversation.visitor_id == visitor.id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


def _stored_message(session: Session, conversation_id: int, client_id: str) -> Message | None:
    return session.scalar(
        select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
    )


# The hot path's statements are built once, with bind parameters: building a statement costs
# more CPU than SQLAlchemy's compiled cache then saves on it (issue 9).
_NEXT_SEQ = (update(Conversation)
             .where(Conversation.id == bindparam("new_conversation_id"))
             .values(last_seq=Conversation.last_seq + 1, updated_at=bindparam("new_created_at"))
             .returning(Conversation.last_seq))
_MESSAGE_VALUES = ("conversation_id", "client_id", "sender_type", "sender_id", "sender_name", "body", "extras",
                   "created_at")


def _insert_sequenced():
    sequenced, table = _NEXT_SEQ.cte("next_seq"), Message.__table__
    return (insert(table)
            .from_select(["seq", *_MESSAGE_VALUES],
                         select(sequenced.c.last_seq, *(bindparam(f"new_{name}", type_=table.c[name].type)
                                                        for name in _MESSAGE_VALUES)))
            .returning(table.c.id, table.c.seq))


_INSERT_SEQUENCED = _insert_sequenced()


def _insert_with_next_seq(session: Session, values: dict) -> Message:
    """Store the message under its conversation's next sequence number, handed out by one atomic
    ``UPDATE … RETURNING`` so concurrent senders (other greenlets, other processes) never get the
    same one. On PostgreSQL the UPDATE feeds the INSERT in one statement (a round trip less on the
    hot path, issue 9); SQLite has no data-modifying CTE: there they are two."""
    # Bind names may not be column names in an INSERT or UPDATE.
    parameters = {f"new_{name}": value for name, value in values.items()}
    if session.get_bind().dialect.name != "postgresql":
        message = Message(seq=session.execute(_NEXT_SEQ, parameters, execution_options={"synchronize_session": False})
                          .scalar_one(), **values)
        session.add(message)
        return message
    stored = session.execute(_INSERT_SEQUENCED, parameters).one()
    # Already written: the session takes it as a loaded row, not as one to insert.
    message = Message(id=stored.id, seq=stored.seq, **values)
    make_transient_to_detached(message)
    session.add(message)
    return message


def _store(session: Session, conversation: Conversation, *, sender_type: str, sender_id: int | None,
           sender_name: str, client_id: str, body: str, extras: dict | None = None, resend_checked: bool = False,
           then=None) -> Posted:
    """``resend_checked``: the caller looked the client id up in this conversation already (a race
    with a concurrent resend still ends in the IntegrityError branch). ``then(session)`` stages
    what belongs to a new message (timer bookkeeping) in the same transaction: one commit."""
    if not resend_checked:
        stored = _stored_message(session, conversation.id, client_id)
        if stored is not None:
            return Posted(conversation, stored, is_new=False)
    now = utcnow()
    values = dict(conversation_id=conversation.id, client_id=client_id, sender_type=sender_type,
                  sender_id=sender_id, sender_name=sender_name, body=body, extras=extras or None, created_at=now)
    try:
        message = _insert_with_next_seq(session, values)
        if then is not None:
            then(session)  # may flush: inside the try, as the commit
        session.commit()
    except IntegrityError:
        # The same client id raced in from another connection and won: answer with its row.
        session.rollback()
        stored = _stored_message(session, conversation.id, client_id)
        if stored is None:
            raise
        session.refresh(conversation)
        return Posted(conversation, stored, is_new=False)
    # Known, not changed: a plain assignment would mark the row dirty, and the next commit of this
    # session would write this (by then maybe stale) last_seq back over later senders' increments.
    set_committed_value(conversation, "last_seq", message.seq)
    set_committed_value(conversation, "updated_at", now)
    return Posted(conversation, message, is_new=True)


def resent(session: Session, conversation: Conversation, client_id: str) -> Posted | None:
    """The stored message when ``client_id`` was already sent into this conversation."""
    stored = _stored_message(session, conversation.id, client_id)
    return Posted(conversation, stored, is_new=False) if stored is not None else None


def content_extras(body: str, attachment: dict | None) -> dict | None:
    """What a person's message carries besides its text: a file (the body is then its name, shown
    as typed), or the text's formatting as sanitised HTML (plain text needs none)."""
    if attachment is not None:
        return {"attachment": attachment}
    html = rich_text.formatted_html(body)
    return {"html": html} if html else None


def post_visitor_message(session: Session, visitor: Visitor, conversation: Conversation, *, client_id: str,
                         body: str, attachment: dict | None = None, resend_checked: bool = False,
                         then=None) -> Posted:
    return _store(session, conversation, sender_type=VISITOR, sender_id=visitor.id,
                  sender_name=visitor.nickname, client_id=client_id, body=body,
                  extras=content_extras(body, attachment), resend_checked=resend_checked, then=then)


def post_agent_message(session: Session, agent: User, conversation: Conversation, *, client_id: str,
                       body: str, attachment: dict | None = None, resend_checked: bool = False,
                       then=None) -> Posted:
    return _store(session, conversation, sender_type=AGENT, sender_id=agent.id,
                  sender_name=agent.display_name, client_id=client_id, body=body,
                  extras=content_extras(body, attachment), resend_checked=resend_checked, then=then)


def post_bot_message(session: Session, conversation: Conversation, body: str, bot_name: str,
                     extras: dict | None = None) -> Posted:
    return _store(session, conversation, sender_type=BOT, sender_id=None, sender_name=bot_name,
                  client_id=f"bot-{uuid.uuid4().hex}", body=body, extras=extras)


def post_system_message(session: Session, conversation: Conversation, body: str, client_id: str,
                        extras: dict | None = None) -> Posted:
    """An automatic reply; a fixed ``client_id`` (a timer's) stores it at most once."""
    return _store(session, conversation, sender_type=SYSTEM, sender_id=None, sender_name=SYSTEM_NAME,
                  client_id=client_id, body=body, extras=extras)


def messages_after(session: Session, conversation: Conversation, after_seq: int = 0,
                   limit: int = HISTORY_LIMIT) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.seq > after_seq)
            .order_by(Message.seq)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    last_message: Message | None
    unread: int


def inbox(session: Session, agent: User) -> list[InboxRow]:
    """Open conversations, most recently active first, with this agent's unread counts."""
    read_up_to = (
        select(ReadMarker.last_read_seq)
        .where(ReadMarker.conversation_id == Conversation.id, ReadMarker.user_id == agent.id)
        .scalar_subquery()
    )
    counted = aliased(Message)  # not the outer join's Message, or the subquery correlates to it
    unread = (
        select(func.count(counted.id))
        .where(
            counted.conversation_id == Conversation.id,
            counted.sender_type == VISITOR,
            counted.seq > func.coalesce(read_up_to, 0),
        )
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Conversation, Message, unread)
        .outerjoin(Message, and_(Message.conversation_id == Conversation.id, Message.seq == Conversation.last_seq))
        .where(Conversation.status == OPEN)
        .order_by(Conversation.updated_at.desc())
        .limit(INBOX_LIMIT)
    )
    return [InboxRow(conversation, last, count) for conversation, last, count in rows]


def mark_read(session: Session, agent: User, conversation: Conversation, seq) -> int:
    """Move the agent's read marker forward (never back, never past the last message)."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise Invalid("invalid_seq", "A sequence number is a whole number from 0.")
    seq = min(seq, conversation.last_seq)
    marker = session.get(ReadMarker, (conversation.id, agent.id))
    if marker is None:
        marker = ReadMarker(conversation_id=conversation.id, user_id=agent.id, last_read_seq=0)
        session.add(marker)
    marker.last_read_seq = max(marker.last_read_seq, seq)
    session.commit()
    return marker.last_read_seq
