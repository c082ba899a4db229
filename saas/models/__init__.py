"""Tables of a tenant's own schema. The tenant registry itself is in ``tenants.registry``."""
from .accounts import ADMIN, ADMIN_ROLES, AGENT, OWNER, ROLES, Invite, User
from .attachments import Attachment, UploadSettings
from .auto_replies import AutoReply, BusinessHours, ConversationTimer
from .base import TenantModel, utcnow
from .conversations import Conversation, Message, ReadMarker, Visitor
from .knowledge import BotTurn, KnowledgeEntry, KnowledgeVersion
from .visits import Invitation, InvitationRule, PageView, VisitorSettings, VisitSession
from .engagement import CannedReply, ConversationRating, RatingSettings
from .reception import (
    AgentConnection, ChannelMode, ConversationEvent, Department, DepartmentMember, ReceptionSettings,
)

__all__ = [
    "ADMIN", "ADMIN_ROLES", "AGENT", "OWNER", "ROLES", "AgentConnection", "BotTurn", "KnowledgeEntry",
    "CannedReply", "ConversationRating", "RatingSettings",
    "KnowledgeVersion", "ChannelMode", "Conversation",
    "ConversationEvent", "Department", "DepartmentMember", "Invite", "Message", "ReadMarker",
    "ReceptionSettings", "TenantModel", "User", "Visitor", "utcnow",
]
