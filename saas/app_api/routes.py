"""The app API's endpoints: thin, each one service call through the same functions as the
/visitor socket events, so dedup, sequence numbers, routing and broadcasts are the widget's."""
from flask import current_app, jsonify
from werkzeug.exceptions import HTTPException

from tenants import TenantRef, tenant_session

from ..file_responses import error, posted_response
from ..realtime import engagement, rooms
from ..realtime import visitor as visitor_events
from ..security import event_limits
from ..services import app_channel, routing, visitors
from ..services.errors import RateLimited
from . import bp, openapi, schemas
from .operations import APP_KEY_HEADER, operation


@operation(operation_id="startSession", method="POST", path="/t/{tenant_slug}/session", as_user=False,
           body=schemas.SessionStart, answer=schemas.SessionOut,
           summary="Start or resume the session of the app's signed-in user: their token, and how to "
                   "connect to the /visitor Socket.IO namespace for live messages.")
def start_session(tenant: TenantRef, body: schemas.SessionStart):
    user = app_channel.app_user(tenant_session(), user_id=body.user_id, user_hash=body.user_hash,
                                name=body.name, email=body.email)
    token = visitors.issue_token(tenant, user)
    return jsonify(ok=True, token=token, nickname=user.nickname, user_id=user.external_id,
                   socket={"namespace": rooms.VISITOR_NAMESPACE, "auth": {"key": tenant.widget_key, "token": token}})


@operation(operation_id="listMessages", method="GET", path="/t/{tenant_slug}/messages",
           query=schemas.MessagesQuery, answer=schemas.MessagesOut,
           summary="The user's latest conversation and its messages after `after_seq` (at most 1,000).")
def list_messages(tenant: TenantRef, user, query: schemas.MessagesQuery):
    return jsonify(ok=True, **visitor_events.history(user, query.after_seq))


@operation(operation_id="sendMessage", method="POST", path="/t/{tenant_slug}/messages",
           body=schemas.SendMessage, answer=schemas.SentOut,
           summary="Send a message as the user. Resending the same `client_id` returns the stored "
                   "message with `duplicate: true`.")
def send_message(tenant: TenantRef, user, body: schemas.SendMessage):
    if not event_limits.allow(tenant.slug, user.public_id, event_limits.MESSAGES):
        raise RateLimited("rate_limited", event_limits.REFUSAL)
    session = tenant_session()
    posted, outcome = routing.visitor_says(session, user, client_id=body.client_id, body=body.body,
                                           max_length=current_app.config["MAX_MESSAGE_LENGTH"])
    return posted_response(tenant, session, posted, outcome)


@operation(operation_id="markRead", method="POST", path="/t/{tenant_slug}/read", body=schemas.MarkRead,
           answer=schemas.ReadOut,
           summary="The user has read their conversation up to `seq`: agents see it as read.")
def mark_read(tenant: TenantRef, user, body: schemas.MarkRead):
    return jsonify(ok=True, **engagement.visitor_seen(tenant, user, body.seq))


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.get("/events.json")
def event_catalogue():
    return jsonify(openapi.event_catalogue())


@bp.errorhandler(HTTPException)
def _json_http_error(exc: HTTPException):
    """Refusals made before a view runs (an unknown workspace in the URL) in the API's error shape."""
    code = "unknown_workspace" if exc.code == 404 else (exc.name or "error").lower().replace(" ", "_")
    return error(code, exc.description or exc.name, exc.code or 500)


@bp.after_request
def _cross_origin(response):
    # Apps' web views run on their own origins. No cookie is read here (the app key and the
    # user's token are headers), so allowing every origin lends a page nothing it lacks.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = f"Content-Type, Authorization, {APP_KEY_HEADER}"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST"
    response.headers["Access-Control-Max-Age"] = "600"
    return response
