"""Tables of a tenant's own schema. The tenant registry itself is in ``tenants.registry``."""
from .accounts import ADMIN, ADMIN_ROLES, AGENT, OWNER, ROLES, Invite, User
from .base import TenantModel, utcnow
from .conversations import Conversation, Message, ReadMarker, Visitor

__all__ = [
    "ADMIN", "ADMIN_ROLES", "AGENT", "OWNER", "ROLES", "Conversation", "Invite", "Message",
    "ReadMarker", "TenantModel", "User", "Visitor", "utcnow",
]
