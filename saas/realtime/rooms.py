"""Socket.IO room names. Every room carries the tenant, so an emit can never cross tenants."""
from tenants import TenantRef

VISITOR_NAMESPACE = "/visitor"
AGENT_NAMESPACE = "/agent"


def agents(tenant: TenantRef) -> str:
    return f"t{tenant.id}:agents"


def board(tenant: TenantRef) -> str:
    """Admins watching the real-time board of agent work."""
    return f"t{tenant.id}:board"


def visitor(tenant: TenantRef, public_id: str) -> str:
    return f"t{tenant.id}:visitor:{public_id}"
