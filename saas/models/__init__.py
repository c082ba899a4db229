"""Tables of a tenant's own schema. The tenant registry itself is in ``tenants.registry``."""
from .accounts import ADMIN, ADMIN_ROLES, AGENT, OWNER, ROLES, Invite, User
from .app_channel import AppChannelSettings, AppConnection, AppKey
from .agent_work import AgentPresenceInterval
from .audit import AuditEvent, SecuritySettings
from .attachments import Attachment, UploadSettings
from .auto_replies import AutoReply, BusinessHours, ConversationTimer
from .channels import ApiChannelToken, CallEvent, ChannelSettings, OutboundAttempt, OutboundDelivery
from .base import TenantModel, utcnow
from .conversations import Conversation, Message, ReadMarker, Visitor
from .knowledge import BotTurn, KnowledgeEntry, KnowledgeVersion
from .reports import ReportExport, SavedReport
from .settings_versions import SettingsVersion
from . import rollups  # noqa: F401  (the report rollup tables join the tenant metadata)
from .languages import LanguageSettings, TranslatedText
from .visits import Invitation, InvitationRule, PageView, VisitorSettings, VisitSession
from .widget_look import WidgetLook
from .engagement import CannedReply, ConversationRating, RatingSettings
from .reception import (
    AgentConnection, ChannelMode, ConversationEvent, Department, DepartmentMember, ReceptionSettings,
)

__all__ = [
    "ADMIN", "ADMIN_ROLES", "AGENT", "OWNER", "ROLES", "AgentConnection", "BotTurn", "KnowledgeEntry",
    "AgentPresenceInterval",
    "ApiChannelToken", "CallEvent", "ChannelSettings", "OutboundAttempt", "OutboundDelivery",
    "AppChannelSettings", "AppConnection", "AppKey",
    "ReportExport", "SavedReport",
    "LanguageSettings", "TranslatedText",
    "CannedReply", "ConversationRating", "RatingSettings",
    "KnowledgeVersion", "ChannelMode", "Conversation",
    "ConversationEvent", "Department", "DepartmentMember", "Invite", "Message", "ReadMarker",
    "ReceptionSettings", "SettingsVersion", "TenantModel", "User", "Visitor", "utcnow", "WidgetLook",
]
