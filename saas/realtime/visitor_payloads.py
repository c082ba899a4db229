"""Wire format of the visitor-tracking events (page views, identity, invitations, the panel)."""
from pydantic import Field, model_validator

from .payloads import SQL_INT_MAX, _Payload

# Far above the stored limits (the service cuts URLs and titles to size); the socket's packet
# limit (256 KiB) stops anything bigger before it is even parsed.
MAX_REPORTED_CHARS = 256 * 1024


class PageViewReport(_Payload):
    url: str = Field(max_length=MAX_REPORTED_CHARS)
    title: str = Field(default="", max_length=MAX_REPORTED_CHARS)
    referrer: str | None = Field(default=None, max_length=MAX_REPORTED_CHARS)
    language: str | None = Field(default=None, max_length=100)
    channel: str | None = Field(default=None, max_length=32)


class Heartbeat(_Payload):
    page_view_id: int = Field(ge=1, le=SQL_INT_MAX)
    seconds_on_page: int = Field(ge=0, le=SQL_INT_MAX)


class IdentifyUser(_Payload):
    user_id: str = Field(max_length=1000)
    user_hash: str = Field(max_length=200)
    name: str | None = Field(default=None, max_length=1000)
    email: str | None = Field(default=None, max_length=1000)


class InvitationAnswer(_Payload):
    invitation_id: int = Field(ge=1, le=SQL_INT_MAX)
    answer: str = Field(max_length=16)


class VisitorRef(_Payload):
    visitor_id: str = Field(min_length=1, max_length=32)


class ConversationVisitor(_Payload):
    conversation_id: int = Field(ge=1, le=SQL_INT_MAX)


class PanelRequest(_Payload):
    """The visitor of a conversation, or a visitor from the live list: exactly one of the two."""

    conversation_id: int | None = Field(default=None, ge=1, le=SQL_INT_MAX)
    visitor_id: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.conversation_id is None) == (self.visitor_id is None):
            raise ValueError("give exactly one of conversation_id and visitor_id")
        return self


class ContactUpdate(_Payload):
    visitor_id: str = Field(min_length=1, max_length=32)
    name: str = Field(default="", max_length=1000)
    email: str = Field(default="", max_length=1000)
    phone: str = Field(default="", max_length=1000)


class InviteVisitor(_Payload):
    visitor_id: str = Field(min_length=1, max_length=32)
    message: str = Field(max_length=10_000)
