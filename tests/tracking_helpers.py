"""Helpers for the visitor-tracking tests: listening for pushed events and reporting pages."""
import queue
import time

from sqlalchemy import select

from saas.models import Invitation, PageView, Visitor, VisitSession
from saas.services import visitors
from tenants import tenant_context, tenant_session
from tests.clients import TIMEOUT

GOOGLE_REFERRER = "https://www.google.com/search?q=waterproof+hiking+boots&hl=en"


def watch(client, event: str) -> "queue.Queue":
    """Collect every ``event`` pushed to ``client`` from now on."""
    pushed: "queue.Queue" = queue.Queue()
    client.sio.on(event, pushed.put, namespace=client.namespace)
    return pushed


def next_matching(pushed: "queue.Queue", predicate, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        item = pushed.get(timeout=max(0.01, deadline - time.monotonic()))
        if predicate(item):
            return item


def view(visitor, url: str, title: str = "", referrer: str | None = None) -> dict:
    reply = visitor.call("page:view", {"url": url, "title": title, "referrer": referrer})
    assert reply["ok"], reply
    return reply


def public_id(app, tenant, token: str) -> str:
    """The visitor a widget token names, read as the server does."""
    with app.app_context():
        return visitors.public_id_from(tenant.ref, token)


def visitor_row(app, tenant, public_id: str) -> Visitor:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalar(select(Visitor).where(Visitor.public_id == public_id))


def visits_of(app, tenant, visitor_id: int) -> list[tuple[VisitSession, list[PageView]]]:
    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        visits = session.scalars(select(VisitSession).where(VisitSession.visitor_id == visitor_id)
                                 .order_by(VisitSession.id)).all()
        return [(v, session.scalars(select(PageView).where(PageView.session_id == v.id).order_by(PageView.id)).all())
                for v in visits]


def invitations_of(app, tenant, visitor_id: int) -> list[Invitation]:
    with app.app_context(), tenant_context(tenant.ref):
        return tenant_session().scalars(select(Invitation).where(Invitation.visitor_id == visitor_id)
                                        .order_by(Invitation.id)).all()
