"""Housekeeping jobs. Each runs inside the tenant context that ``workers.enqueue`` opened."""
from sqlalchemy import delete

from saas.models import Invite, utcnow
from tenants import tenant_session


def purge_expired_invites() -> int:
    """Delete invitations that expired unused; returns how many went."""
    session = tenant_session()
    result = session.execute(delete(Invite).where(Invite.accepted_at.is_(None), Invite.expires_at <= utcnow()))
    session.commit()
    return result.rowcount
