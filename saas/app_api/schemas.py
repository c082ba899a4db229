"""What the app API accepts (validated strictly: unknown keys and wrong types are refused) and
what it answers. The OpenAPI document is generated from these models, so it says what the code does."""
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..realtime.payloads import SQL_INT_MAX, _Payload
from ..services.identity import MAX_USER_ID


class SessionStart(_Payload):
    """The app's signed-in user: ``user_hash`` is hex(HMAC-SHA256(identity secret, user_id)),
    computed on the tenant's server, never in the app."""

    user_id: str = Field(min_length=1, max_length=MAX_USER_ID)
    user_hash: str = Field(min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$")
    name: str | None = Field(default=None, max_length=80)
    email: str | None = Field(default=None, max_length=254)


class SendMessage(_Payload):
    """``client_id``: made by the app, 8-64 of A-Z a-z 0-9 _ . : -; a resend with the same id is
    answered with the stored message and never stored twice."""

    client_id: str = Field(min_length=8, max_length=64, pattern="^[A-Za-z0-9_.:-]+$")
    body: str = Field(min_length=1, max_length=100_000)


class MarkRead(_Payload):
    seq: int = Field(ge=0, le=SQL_INT_MAX)


class MessagesQuery(BaseModel):
    # Query strings are text: "5" is read as 5 here, but unknown parameters are still refused.
    model_config = ConfigDict(extra="forbid")

    after_seq: int = Field(default=0, ge=0, le=SQL_INT_MAX)


# --- answers ------------------------------------------------------------------------------

class _Answer(BaseModel):
    # Answers may gain fields in later versions: clients ignore what they do not know.
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Answer):
    code: str
    message: str


class ErrorAnswer(_Answer):
    ok: Literal[False]
    error: ErrorDetail


class Sender(_Answer):
    type: Literal["visitor", "agent", "bot", "system"]
    name: str


class MessageOut(_Answer):
    id: int
    conversation_id: int
    seq: int
    client_id: str
    sender: Sender
    body: str
    extras: dict
    created_at: datetime


class ConversationOut(_Answer):
    id: int
    status: Literal["open", "closed"]
    channel: str
    handler: Literal["bot", "queue", "agent"]
    last_seq: int
    visitor_read_seq: int
    updated_at: datetime


class State(_Answer):
    conversation_id: int
    status: Literal["open", "closed"]
    handler: Literal["bot", "queue", "agent"]
    agent_name: str | None
    position: int | None
    estimated_wait_seconds: int | None


class SocketAuth(_Answer):
    key: str
    token: str


class SocketDetails(_Answer):
    """Connect a Socket.IO client to ``url`` + ``namespace`` with ``auth``: live messages."""

    namespace: Literal["/visitor"]
    auth: SocketAuth


class SessionOut(_Answer):
    ok: Literal[True]
    token: str = Field(description="The visitor token: send it as `Authorization: Bearer <token>`.")
    nickname: str
    user_id: str
    socket: SocketDetails


class MessagesOut(_Answer):
    ok: Literal[True]
    conversation: ConversationOut | None
    messages: list[MessageOut]
    state: State | None


class SentOut(_Answer):
    ok: Literal[True]
    message: MessageOut
    duplicate: bool


class ReadOut(_Answer):
    ok: Literal[True]
    conversation_id: int | None
    visitor_read_seq: int
    agents_read_seq: int
