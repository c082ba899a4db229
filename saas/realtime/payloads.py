"""The wire format: what socket events accept (validated) and what they send."""
from pydantic import BaseModel, ConfigDict, Field

from ..models import Conversation, Department, Message, User


# Ids and sequence numbers are SQL INTEGER columns: a larger number is bad input, and must be
# refused here rather than reach the database and come back as a storage error.
SQL_INT_MAX = 2**31 - 1


class _Payload(BaseModel):
    # Strict: "5" is not a conversation id, and unknown fields are an error, not silently dropped.
    model_config = ConfigDict(extra="forbid", strict=True)


class VisitorSend(_Payload):
    client_id: str = Field(max_length=64)
    body: str = Field(max_length=100_000)


class HistoryRequest(_Payload):
    after_seq: int = Field(default=0, ge=0, le=SQL_INT_MAX)


class AgentSend(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)
    client_id: str = Field(max_length=64)
    body: str = Field(max_length=100_000)


class ConversationRef(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)
    after_seq: int = Field(default=0, ge=0, le=SQL_INT_MAX)


class ReadUpTo(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)
    seq: int = Field(ge=0, le=SQL_INT_MAX)


class StartConversation(_Payload):
    department_id: int | None = Field(default=None, ge=1, le=SQL_INT_MAX)
    prechat: dict[str, str] = Field(default_factory=dict, max_length=3)


class Empty(_Payload):
    pass


class RateAnswer(_Payload):
    turn_id: int = Field(ge=1, le=SQL_INT_MAX)
    rating: str = Field(max_length=16)


class PresenceChange(_Payload):
    state: str = Field(max_length=16)


class Transfer(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)
    to_agent_id: int | None = Field(default=None, ge=1, le=SQL_INT_MAX)
    to_department_id: int | None = Field(default=None, ge=1, le=SQL_INT_MAX)
    note: str = Field(default="", max_length=2000)


def message_dict(message: Message) -> dict:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "sender": {"type": message.sender_type, "name": message.sender_name},
        "body": message.body,
        "extras": message.extras or {},
        "created_at": message.created_at.isoformat(),
    }


def conversation_dict(conversation: Conversation, last_message: Message | None = None,
                      unread: int | None = None) -> dict:
    visitor = conversation.visitor
    data = {
        "id": conversation.id,
        "status": conversation.status,
        "channel": conversation.channel,
        "visitor": {"nickname": visitor.nickname, "name": visitor.name, "email": visitor.email,
                    "phone": visitor.phone},
        "handler": conversation.handler,
        "department_id": conversation.department_id,
        "waiting_since": conversation.waiting_since.isoformat() if conversation.waiting_since else None,
        "assigned_agent_id": conversation.assigned_agent_id,
        "last_seq": conversation.last_seq,
        "visitor_read_seq": conversation.visitor_read_seq,
        "updated_at": conversation.updated_at.isoformat(),
        "last_message": message_dict(last_message) if last_message is not None else None,
    }
    if unread is not None:
        data["unread"] = unread
    return data


def department_dict(department: Department) -> dict:
    return {"id": department.id, "name": department.public_name, "description": department.description}


def agent_dict(agent: User, load: int, capacity: int, department_ids: list[int]) -> dict:
    return {"id": agent.id, "name": agent.display_name, "role": agent.role, "presence": agent.presence,
            "load": load, "capacity": capacity, "department_ids": department_ids}
